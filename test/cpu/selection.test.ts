// The CPU backend selects what the contract says, for every dtype, tie-break and kind of row,
// through both topkSync() and topk().
import { topk, topkSync } from '../../lib';
import { edgeLengths, windows } from '../helpers/cases';
import { SCORE_KINDS, checkTopk, makeScores } from '../../lib/reference';
import { DTYPES, RefOptions, Scores, TIE_BREAKS } from '../reference';

const calls = {
  topkSync: async (scores: Scores, o: RefOptions) => topkSync(scores, { ...o, backend: 'cpu' }),
  topk: (scores: Scores, o: RefOptions) => topk(scores, { ...o, backend: 'cpu' }),
};

describe.each(Object.entries(calls))('cpu %s', (_name, call) => {
  describe.each(DTYPES)('%s', (dtype) => {
    test.each(TIE_BREAKS)('tieBreak %s: edge lengths and windows, every kind of row', async (tieBreak) => {
      for (const [i, kind] of SCORE_KINDS.entries()) {
        for (const k of [1, 5, 64]) {
          for (const c of [edgeLengths(dtype, kind, k, 100 * i + k), windows(dtype, kind, k, 12, 4 * k + 40, 7 * i + k)]) {
            const o: RefOptions = { ...c.opts, tieBreak };
            const res = await call(c.scores, o);
            expect(res.backend).toBe('cpu');
            expect(res.rows).toBe(o.rows);
            expect(res.k).toBe(k);
            expect(res.values).toBeUndefined();
            expect(checkTopk(res, c.scores, o)).toEqual([]);
          }
        }
      }
    });
  });

  test('defaults: whole rows, f32 inferred, stride inferred', async () => {
    const scores = makeScores('f32', 4, 300, ['normal', 'special'], 1);
    const o: RefOptions = { k: 17, rows: 4 };
    const res = await call(scores, o);
    expect(res.indices).toBeInstanceOf(Int32Array);
    expect(checkTopk(res, scores, o)).toEqual([]);
  });

  test('explicit stride with a trailing window; k equal to the length; k = 1', async () => {
    const scores = makeScores('bf16', 3, 50, 'fewDistinct', 2);
    for (const o of [
      { k: 50, rows: 3, stride: 50, dtype: 'bf16', tieBreak: 'small', sorted: true },
      { k: 1, rows: 3, stride: 50, dtype: 'bf16', tieBreak: 'large', rowStarts: [49, 0, 25] },
      { k: 1, rows: 3, dtype: 'bf16', tieBreak: 'none' },
    ] as RefOptions[]) {
      expect(checkTopk(await call(scores, o), scores, o)).toEqual([]);
    }
  });

  test('k larger than every window pads every row', async () => {
    const scores = makeScores('f16', 2, 8, 'special', 3);
    const o: RefOptions = { k: 20, rows: 2, dtype: 'f16', values: true, deterministic: true };
    const res = await call(scores, o);
    expect(Array.from(res.indices.subarray(8, 20))).toEqual(new Array(12).fill(-1));
    expect(checkTopk(res, scores, o)).toEqual([]);
  });

  test('plain number arrays for lengths and rowStarts', async () => {
    const scores = makeScores('f32', 3, 40, 'relu', 4);
    const o: RefOptions = { k: 6, rows: 3, lengths: [40, 10, 0], rowStarts: [0, 30, 40], tieBreak: 'small', sorted: true };
    expect(checkTopk(await call(scores, o), scores, o)).toEqual([]);
  });

  test('scores and windows given as views into larger buffers', async () => {
    const whole = makeScores('f16', 5, 64, 'special', 6) as Uint16Array;
    const scores = whole.subarray(64, 64 * 4);
    const lengths = new Int32Array([9, 64, 33, 5, 0]).subarray(1, 4);
    const o: RefOptions = { k: 16, rows: 3, dtype: 'f16', lengths, tieBreak: 'large', values: true, sorted: true };
    expect(checkTopk(await call(scores, o), scores, o)).toEqual([]);
  });

  test('the input is left untouched', async () => {
    const scores = makeScores('f32', 4, 500, 'special', 5);
    const before = new Uint8Array(scores.buffer.slice(0));
    await call(scores, { k: 30, rows: 4, sorted: true, values: true });
    expect(new Uint8Array(scores.buffer)).toEqual(before);
  });
});
