// The GPU side of `nsa-topk bench`: the GPU hold behind the hold method, and what a CUDA bench
// result carries under each timing method.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Stream, cudaStatus } from '../../lib';
import { BenchOptions, BenchResult, runBench } from '../../lib/cli/bench';
import { requireCuda } from '../../lib/cuda';
import { nativeStream } from '../../lib/device';
import { describeGpu } from '../helpers/gpu';

/** Shapes of 2 and 8 MB: few input buffers to fill (the rotation exceeds twice the L2 cache). */
const SMALL: BenchOptions = {
  backend: 'radix', rows: [16, 64], lengths: [32768], k: [64], dtype: 'f32', dist: 'normal', tieBreak: 'none',
  deterministic: false, sorted: false, fuse: 'none', path: 'auto', timing: 'graph', graphCalls: 10, replays: 5,
  iters: 30, warmup: 3, baseline: false, torch: false, progress: false,
};

async function quietBench(o: BenchOptions): Promise<BenchResult[]> {
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return await runBench(o);
  } finally {
    write.mockRestore();
  }
}

const positive = (x: number | undefined) => {
  expect(Number.isFinite(x)).toBe(true);
  expect(x).toBeGreaterThan(0);
};

describeGpu('bench on the GPU', () => {
  test('a hold keeps the stream busy: an event behind it completes only after it', () => {
    const Event = requireCuda('Event', 'test');
    const hold = requireCuda('hold', 'test');
    const stream = new Stream();
    const event = new Event(stream.device);
    try {
      const ns = nativeStream('stream', stream);
      hold(ns, 300_000); // 0.3 s: far longer than the two calls below take on the host
      event.record(ns);
      expect(event.query()).toBe(false);
      event.synchronize();
      expect(event.query()).toBe(true);
    } finally {
      event.dispose();
      stream.dispose();
    }
  });

  test.each(['graph', 'hold'] as const)('%s timing: GPU medians, the read probe below top-k, the enqueue time, the rotation', async (timing) => {
    const results = await quietBench({ ...SMALL, timing });
    expect(results.map((r) => r.rows)).toEqual([16, 64]);
    const l2 = cudaStatus().devices[0].l2CacheBytes;
    for (const r of results) {
      expect(r).toMatchObject({ backend: 'radix', k: 64, dist: 'normal' });
      for (const x of [r.medianUs, r.probeUs, r.enqueueUs, r.gbps]) positive(x);
      // Top-k reads every score once at least: a plain read of the same bytes is the floor.
      expect(r.readRatio).toBeCloseTo(r.medianUs / r.probeUs!, 6);
      expect(r.readRatio).toBeGreaterThan(1);
      expect(r.buffers! * r.rows * r.length * 4).toBeGreaterThan(2 * l2);
      if (timing === 'graph') {
        // Whole graphs cover the rotation a whole number of times: it restarts at a graph's start.
        expect((r.graphs! * SMALL.graphCalls) % r.buffers!).toBe(0);
      } else {
        expect(r.graphs).toBeUndefined();
      }
      expect(r.hostBound).toBeUndefined();
    }
  });

  test('both methods time the same kernel: their medians agree within 2x', async () => {
    const one = { ...SMALL, rows: [64] };
    const [graph] = await quietBench(one);
    const [hold] = await quietBench({ ...one, timing: 'hold' });
    expect(graph.medianUs / hold.medianUs).toBeGreaterThan(0.5);
    expect(graph.medianUs / hold.medianUs).toBeLessThan(2);
  });

  test('a k list gives one result per (k, rows, length), k first; dist and method reach the JSON', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsa-topk-bench-'));
    const file = path.join(dir, 'bench.json');
    try {
      const results = await quietBench({ ...SMALL, k: [256, 64], dist: 'relu', json: file });
      expect(results.map((r) => [r.k, r.rows])).toEqual([[256, 16], [256, 64], [64, 16], [64, 64]]);
      for (const r of results) positive(r.medianUs);
      const report = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> & { results: BenchResult[] };
      expect(report).toMatchObject({ method: 'graph', graphCalls: 10, replays: 5, dist: 'relu' });
      expect(report.results.map((r) => [r.k, r.dist])).toEqual([[256, 'relu'], [256, 'relu'], [64, 'relu'], [64, 'relu']]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--max-rows/--max-len: the ops are built for the maxima, which the results carry', async () => {
    const [plain] = await quietBench({ ...SMALL, rows: [16] });
    const [large] = await quietBench({ ...SMALL, rows: [16], maxRows: 64, maxLen: 1 << 20 });
    expect(plain.maxLen).toBeUndefined();
    expect(large).toMatchObject({ rows: 16, length: 32768, maxRows: 64, maxLen: 1 << 20 });
    positive(large.medianUs);
  });

  test('--row-lengths: the calls take device-side lengths, which the results carry; GB/s counts them', async () => {
    const [mixed] = await quietBench({ ...SMALL, rows: [16], maxLen: 1 << 20, rowLengths: [4096, 32768] });
    expect(mixed).toMatchObject({ rows: 16, length: 32768, maxLen: 1 << 20, rowLengths: [4096, 32768] });
    positive(mixed.medianUs);
    expect(mixed.gbps).toBeCloseTo((8 * (4096 + 32768) * 4) / (mixed.medianUs * 1e-6) / 1e9, 6);
  });

  test('--graph: graph-safe replays timed behind holds under hold timing, the replay overhead under both', async () => {
    const one = { ...SMALL, rows: [16], dist: 'equal' as const, graph: true };
    const [graph] = await quietBench(one);
    expect(graph.graphUs).toBeUndefined();
    expect(Number.isFinite(graph.replayOverheadUs)).toBe(true);
    const [hold] = await quietBench({ ...one, timing: 'hold' });
    positive(hold.graphUs);
    expect(hold.graphRatio).toBeCloseTo(hold.graphUs! / hold.medianUs, 6);
    expect(Number.isFinite(hold.replayOverheadUs)).toBe(true);
  });
});
