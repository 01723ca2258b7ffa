// Long rows and big k: multi-pass refinement, threading, and tie plateaus far larger than k.
import { topk, topkSync } from '../../lib';
import { checkTopk, makeScores } from '../../lib/reference';
import { RefOptions, bytesOf, referenceTopk } from '../reference';

jest.setTimeout(60_000);

test('8 x 200000 f32, k 2048, every tie-break, sorted with values', async () => {
  const scores = makeScores('f32', 8, 200_000, ['normal', 'relu', 'sparse', 'special'], 31);
  for (const tieBreak of ['none', 'small', 'large'] as const) {
    const o: RefOptions = { k: 2048, rows: 8, tieBreak, sorted: tieBreak !== 'none', values: true };
    const res = await topk(scores, { ...o, backend: 'cpu' });
    expect(checkTopk(res, scores, o)).toEqual([]);
  }
});

test('tie-heavy rows are exact with small and large (f16 and bf16)', () => {
  for (const dtype of ['f16', 'bf16'] as const) {
    const scores = makeScores(dtype, 4, 100_000, ['equal', 'relu', 'sparse', 'fewDistinct'], 32);
    for (const tieBreak of ['small', 'large'] as const) {
      const o: RefOptions = { k: 2048, rows: 4, dtype, tieBreak, deterministic: true };
      const res = topkSync(scores, { ...o, backend: 'cpu' });
      expect(res.indices).toEqual(referenceTopk(scores, o).indices);
    }
  }
});

test('threads: 1 and many agree byte for byte (deterministic, tieBreak none)', () => {
  const scores = makeScores('f32', 6, 150_000, ['sparse', 'relu', 'equal'], 33);
  const o: RefOptions = { k: 4096, rows: 6, deterministic: true, values: true };
  const one = topkSync(scores, { ...o, backend: 'cpu', threads: 1 });
  const many = topkSync(scores, { ...o, backend: 'cpu', threads: 4 });
  expect(checkTopk(one, scores, o)).toEqual([]);
  expect(many.indices).toEqual(one.indices);
  expect(bytesOf(many.values!)).toEqual(bytesOf(one.values!));
});

test('one very long row (2^20) with k 8192', () => {
  const scores = makeScores('f32', 1, 1 << 20, 'relu', 34);
  const o: RefOptions = { k: 8192, rows: 1, tieBreak: 'small', sorted: true };
  expect(checkTopk(topkSync(scores, { ...o, backend: 'cpu' }), scores, o)).toEqual([]);
});
