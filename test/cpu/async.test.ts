// topk() runs off the main thread: the event loop keeps turning while it works, concurrent calls
// do not disturb each other, and it returns what topkSync() returns.
import { topk, topkSync } from '../../lib';
import { checkTopk, makeScores } from '../../lib/reference';
import type { RefOptions } from '../reference';

jest.setTimeout(60_000);

test('a timer fires while a large topk() is in flight', async () => {
  const scores = makeScores('f32', 32, 1 << 18, 'normal', 41);
  let timerAt: number | undefined;
  const timer = setTimeout(() => { timerAt = performance.now(); }, 1);
  const res = await topk(scores, { k: 2048, rows: 32, backend: 'cpu', threads: 1 });
  const doneAt = performance.now();
  clearTimeout(timer);
  expect(res.indices.length).toBe(32 * 2048);
  // Had topk() blocked the main thread, its promise would settle before any timer could run.
  expect(timerAt).toBeDefined();
  expect(timerAt!).toBeLessThanOrEqual(doneAt);
});

test('concurrent calls each return their own correct answer', async () => {
  const cases = [1, 2, 3, 4].map((i) => ({
    scores: makeScores(i % 2 ? 'f32' : 'f16', 8, 5000 * i, ['relu', 'special'], 42 + i),
    o: { k: 100 * i, rows: 8, dtype: i % 2 ? 'f32' : 'f16', tieBreak: 'large', sorted: true, values: true } as RefOptions,
  }));
  const results = await Promise.all(cases.map((c) => topk(c.scores, { ...c.o, backend: 'cpu' })));
  results.forEach((res, i) => expect(checkTopk(res, cases[i].scores, cases[i].o)).toEqual([]));
});

test('topk() and topkSync() agree byte for byte when deterministic', async () => {
  const scores = makeScores('bf16', 16, 20_000, ['sparse', 'equal', 'normal'], 47);
  const o = { k: 512, rows: 16, dtype: 'bf16' as const, deterministic: true, values: true, backend: 'cpu' as const };
  const a = await topk(scores, o);
  const b = topkSync(scores, o);
  expect(a.indices).toEqual(b.indices);
  expect(a.values).toEqual(b.values);
});

test('the output buffers are fresh for every call', async () => {
  const scores = makeScores('f32', 2, 100, 'normal', 48);
  const a = await topk(scores, { k: 4, rows: 2, backend: 'cpu' });
  const b = await topk(scores, { k: 4, rows: 2, backend: 'cpu' });
  expect(a.indices.buffer).not.toBe(b.indices.buffer);
});
