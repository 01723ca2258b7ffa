// The event loop of a server that calls nsa-topk: topk() on a CUDA backend does its device memory,
// uploads, run and downloads on a worker thread, and asynchronous copies of pageable arrays are
// staged so they never wait on the main thread, so timers keep firing while the GPU works.
import { monitorEventLoopDelay } from 'perf_hooks';
import { DeviceBuffer, Stream, TopK, topk, topkSync } from '../../lib';
import { requireCuda } from '../../lib/cuda';
import { nativeStream } from '../../lib/device';
import { sameBytes } from '../../lib/reference';
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

/** The top-k positions of `row`, ascending (a unique set with tieBreak small), by the CPU backend. */
function cpuRow(scores: Float32Array, row: number, stride: number, k: number): number[] {
  const r = topkSync(scores.subarray(row * stride, (row + 1) * stride), { rows: 1, k, backend: 'cpu', tieBreak: 'small' });
  return [...r.indices].sort((a, b) => a - b);
}

const ascending = (indices: Int32Array, row: number, k: number) => [...indices.subarray(row * k, (row + 1) * k)].sort((a, b) => a - b);

// The most event-loop delay the tests allow. Work that waited on the GPU on the main thread would
// stall the loop for the GPU's time (hundreds of ms here); the bound leaves room for a loaded
// machine's scheduling jitter (5.6 ms measured once with the other GPU suites running beside
// these), so that it tells blocking from load.
const MAX_DELAY_MS = 20;

describeGpu('the event loop while the GPU works', () => {
  test(`a 1 GiB topk(): max event-loop delay <= ${MAX_DELAY_MS} ms, and the rows are right`, async () => {
    const rows = 2048;
    const stride = 131_072;
    const k = 2048;
    const scores = bigScores(rows * stride);
    // The CUDA context, the kernels and a lane exist before the measured call.
    await topk(scores.subarray(0, stride), { rows: 1, k, backend: 'radix' });

    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const started = performance.now();
    // tieBreak small selects a unique set, checked against the CPU backend below.
    const r = await topk(scores, { rows, k, backend: 'radix', tieBreak: 'small' });
    const ms = performance.now() - started;
    delay.disable();
    const maxMs = delay.max / 1e6;
    console.log(`topk() of ${rows} x ${stride} f32 (1 GiB), k ${k}: ${ms.toFixed(0)} ms; event-loop delay max ${maxMs.toFixed(2)} ms, mean ${(delay.mean / 1e6).toFixed(2)} ms`);
    expect(maxMs).toBeLessThanOrEqual(MAX_DELAY_MS);

    for (const row of [0, 1, rows - 1]) {
      expect({ row, indices: ascending(r.indices, row, k) }).toEqual({ row, indices: cpuRow(scores, row, stride, k) });
    }
  });

  test(`copyFromAsync, runAsync and copyToAsync behind 300 ms of GPU work: max event-loop delay <= ${MAX_DELAY_MS} ms`, async () => {
    const hold = requireCuda('hold', 'the event-loop test');
    const stream = new Stream();
    const rows = 64;
    const stride = 65_536;
    const k = 2048;
    const scores = bigScores(rows * stride);
    const big = bigScores(64 << 20);  // 256 MiB, pageable like every JS array
    const back = new Float32Array(big.length);
    const indices = new Int32Array(rows * k);
    const dScores = DeviceBuffer.alloc(scores.byteLength);
    const dBig = DeviceBuffer.alloc(big.byteLength);
    const out = DeviceBuffer.alloc(indices.byteLength);
    const op = new TopK({ k, maxRows: rows, maxLen: stride, tieBreak: 'small' });
    try {
      // Kernels loaded, and a staging chunk for each of the four copies in flight below, before
      // the measured part (a copy with no idle chunk allocates one on the calling thread).
      await dScores.copyFromAsync(scores, { stream });
      await op.runAsync({ scores: dScores, rows, stride, out, stream });
      await Promise.all([out.copyToAsync(indices, { stream }), ...[0, 1, 2].map(() => dScores.copyToAsync(new Uint8Array(16), { stream }))]);
      indices.fill(0);

      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const started = performance.now();
      // Everything after the hold waits for it on the GPU; none of it may wait on this thread.
      hold(nativeStream('stream', stream), 300_000);
      const done = Promise.all([
        dBig.copyFromAsync(big, { stream }),
        op.runAsync({ scores: dScores, rows, stride, out, stream }),
        out.copyToAsync(indices, { stream }),
        dBig.copyToAsync(back, { stream }),
      ]);
      const enqueueMs = performance.now() - started;
      await done;
      const ms = performance.now() - started;
      delay.disable();
      const maxMs = delay.max / 1e6;
      console.log(`a 300 ms GPU hold, then 256 MiB in, a ${rows} x ${stride} run, its indices and 256 MiB out: enqueued in ${enqueueMs.toFixed(2)} ms, done in ${ms.toFixed(0)} ms; event-loop delay max ${maxMs.toFixed(2)} ms`);
      expect(ms).toBeGreaterThanOrEqual(300);
      expect(maxMs).toBeLessThanOrEqual(MAX_DELAY_MS);
      expect(sameBytes(back, big)).toBe(true);
      for (const row of [0, rows - 1]) {
        expect({ row, indices: ascending(indices, row, k) }).toEqual({ row, indices: cpuRow(scores, row, stride, k) });
      }
    } finally {
      for (const x of [op, out, dBig, dScores, stream]) x.dispose();
    }
  });
});
