// The event loop of a server that calls nsa-topk: topk() on a CUDA backend does its device memory,
// uploads, run and downloads on a worker thread, so timers keep firing while a 1 GiB call runs.
import { monitorEventLoopDelay } from 'perf_hooks';
import { topk, topkSync } from '../../lib';
import { describeGpu } from '../helpers/gpu';

jest.setTimeout(300_000);

/** Pseudo-random scores in [0, 1), cheap enough for a gigabyte. */
function bigScores(length: number): Float32Array {
  const scores = new Float32Array(length);
  let x = 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    scores[i] = x / 2 ** 32;
  }
  return scores;
}

describeGpu('the event loop while topk() runs on the GPU', () => {
  test('a 1 GiB topk(): max event-loop delay <= 5 ms, and the rows are right', async () => {
    const rows = 2048;
    const stride = 131_072;
    const k = 2048;
    const scores = bigScores(rows * stride);
    // The CUDA context, the kernels and a lane exist before the measured call.
    await topk(scores.subarray(0, stride), { rows: 1, k, backend: 'radix' });

    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const started = performance.now();
    const r = await topk(scores, { rows, k, backend: 'radix', tieBreak: 'small' });
    const ms = performance.now() - started;
    delay.disable();
    const maxMs = delay.max / 1e6;
    console.log(`topk() of ${rows} x ${stride} f32 (1 GiB), k ${k}: ${ms.toFixed(0)} ms; event-loop delay max ${maxMs.toFixed(2)} ms, mean ${(delay.mean / 1e6).toFixed(2)} ms`);
    expect(maxMs).toBeLessThanOrEqual(5);

    // tieBreak small selects a unique set: the first and last rows against the CPU backend.
    for (const row of [0, 1, rows - 1]) {
      const want = topkSync(scores.subarray(row * stride, (row + 1) * stride), { rows: 1, k, backend: 'cpu', tieBreak: 'small' });
      const got = r.indices.subarray(row * k, (row + 1) * k);
      expect({ row, indices: [...got].sort((a, b) => a - b) }).toEqual({ row, indices: [...want.indices].sort((a, b) => a - b) });
    }
  });
});
