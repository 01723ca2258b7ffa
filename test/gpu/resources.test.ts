// Resources and concurrency on the GPU, with counts. Device memory freed by dispose() and by the
// finalizers, checked in child processes run with --expose-gc (helpers/resources-child.ts says
// what is measured: 1.2 times the device's memory allocated in all, and this process's GPU memory
// per nvidia-smi where it is listed); allocations past the device's memory refused as
// ERR_NSA_TOPK_CUDA with the process working on; 64 runs in flight on 4 streams; and the addon in
// worker threads running the CUDA backend.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { DeviceBuffer, NsaTopkError, Stream, TopK, topkSync } from '../../lib';
import type { DType, ScoresArray } from '../../lib';
import { ErrorCodes } from '../../lib/errors';
import { Output, allocScores, intIn, makeScores, rng } from '../../lib/reference';
import { rowsThatDiffer } from '../helpers/compare';
import { describeGpu } from '../helpers/gpu';
import type { ResourceReport } from '../helpers/resources-child';
import { testSeed } from '../helpers/seed';
import { runWorkers } from '../helpers/workers';

jest.setTimeout(120_000);

const HELPERS = path.join(__dirname, '..', 'helpers');
/** GPU memory this process may gain over a phase, in MiB: well under what any phase would leak. */
const GROWTH_MIB = 256;

describeGpu('GPU resources', () => {
  const PHASES: [string, number, string][] = [
    ['dispose-cycles', 100_000, 'DeviceBuffer allocate/dispose cycles'],
    ['finalized-buffers', 20_000, 'DeviceBuffers left to finalizers'],
    ['finalized-ops', 10_000, 'TopK ops (half graph-safe, each run once) left to finalizers'],
  ];
  test.each(PHASES)('%s: %i %s free their device memory', (phase, count) => {
    const child = spawnSync(process.execPath, ['--expose-gc', '-r', path.join(HELPERS, 'register-ts.js'), path.join(HELPERS, 'resources-child.ts'), phase, String(count)], {
      encoding: 'utf8',
      timeout: 110_000,
    });
    // What the child printed on failure (an out-of-memory error names the phase it ran out in).
    expect({ status: child.status, signal: child.signal, stderr: child.status === 0 ? '' : child.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const report = JSON.parse(child.stdout.trim().split('\n').pop()!) as ResourceReport;
    const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);
    const measured = report.mibBefore === null || report.mibAfter === null
      ? 'not listed by nvidia-smi'
      : `${report.mibBefore} -> ${report.mibAfter} MiB`;
    console.log(`${phase}: ${report.count} in ${report.seconds.toFixed(1)} s, ${gib(report.allocatedBytes)} GiB allocated in all on a ${gib(report.deviceBytes)} GiB device; process GPU memory ${measured}`);
    expect(report.count).toBe(count);
    // Had the memory not been freed as it went, the phase would have run out before the end.
    expect(report.allocatedBytes).toBeGreaterThan(report.deviceBytes);
    if (report.mibBefore !== null && report.mibAfter !== null) expect(report.mibAfter - report.mibBefore).toBeLessThan(GROWTH_MIB);
  });

  test('a 400 GB allocation, and an op whose workspace is past the device, throw ERR_NSA_TOPK_CUDA; the process works on', () => {
    const cases: [string, () => { dispose(): void }, RegExp][] = [
      ['DeviceBuffer.alloc(400e9)', () => DeviceBuffer.alloc(400e9), /cudaErrorMemoryAllocation.*allocating 400000000000 bytes/],
      ['DeviceBuffer.alloc 100e9 f32', () => DeviceBuffer.alloc({ dtype: 'f32', length: 100e9 }), /cudaErrorMemoryAllocation.*allocating 400000000000 bytes/],
      // 2^20 rows of 2^16 in the sort backend's workspace: two 8-byte words each, 1 TiB.
      ['a TopK with a 1 TiB workspace', () => new TopK({ k: 8, maxRows: 2 ** 20, maxLen: 2 ** 16, backend: 'sort' }), /cudaErrorMemoryAllocation.*workspace/],
    ];
    for (const [what, make, message] of cases) {
      let caught: unknown;
      try {
        make().dispose();
      } catch (err) {
        caught = err;
      }
      expect({ what, error: caught }).toEqual({ what, error: expect.any(NsaTopkError) });
      expect((caught as NsaTopkError).code).toBe(ErrorCodes.Cuda);
      expect((caught as NsaTopkError).message).toMatch(message);
    }
    // Working on: a large allocation, copies, and a run that matches the CPU backend.
    const big = DeviceBuffer.alloc(2 ** 30);
    big.fill(1);
    big.dispose();
    const scores = makeScores('f32', 8, 5000, ['normal', 'relu'], 11);
    const options = { k: 100, rows: 8, tieBreak: 'small' as const, sorted: true, values: true };
    const gpu = topkSync(scores, { ...options, backend: 'radix' });
    const cpu = topkSync(scores, { ...options, backend: 'cpu' });
    expect(gpu.indices).toEqual(cpu.indices);
    expect(gpu.values).toEqual(cpu.values);
  });

  test('64 runAsync calls in flight on 4 streams all match the CPU backend', async () => {
    const seed = testSeed(6_400);
    const rand = rng(seed);
    const STREAMS = 4;
    const RUNS = 64;
    const maxRows = 32;
    const maxLen = 40_000;
    const k = 256;
    const common = { k, maxRows, maxLen, tieBreak: 'small', deterministic: false, fuse: 'none', graphSafe: false } as const;
    const streams = Array.from({ length: STREAMS }, () => new Stream());
    // Ops with a workspace (sorted radix, sort) each run on one stream only: two runs of one op at
    // once would share it. The graph-safe unsorted radix op has none, and runs on all four.
    const shared = new TopK({ ...common, dtype: 'f32', backend: 'radix', graphSafe: true, sorted: false, values: true });
    const own: TopK[] = (['f32', 'f16', 'bf16', 'f32'] as const).map((dtype, s) => new TopK({
      ...common, dtype, backend: s % 2 ? 'sort' : 'radix', sorted: true, values: s < 2,
    }));
    const runs = Array.from({ length: RUNS }, (_, i) => {
      const s = i % STREAMS;
      const op = (i >> 2) % 2 === 0 ? shared : own[s];
      const rows = intIn(rand, 1, maxRows);
      const stride = intIn(rand, 1, maxLen);
      const scores = makeScores(op.dtype, rows, stride, ['normal', 'relu', 'fewDistinct', 'special'], rand);
      const lengths = rand() < 0.5 ? Int32Array.from({ length: rows }, () => intIn(rand, 0, stride)) : undefined;
      return { i, s, op, rows, stride, scores, lengths };
    });
    const results = await Promise.all(runs.map(async (r) => {
      const stream = streams[r.s];
      const options = r.op.config;
      const put = async (host: ArrayBufferView) => {
        const buffer = DeviceBuffer.alloc(host.byteLength);
        await buffer.copyFromAsync(host, { stream });
        return buffer;
      };
      const dScores = await put(r.scores);
      const dLengths = r.lengths && (await put(r.lengths));
      const out = DeviceBuffer.alloc({ dtype: 'i32', length: r.rows * k });
      const values = options.writeValues ? DeviceBuffer.alloc({ dtype: r.op.dtype, length: r.rows * k }) : undefined;
      await r.op.runAsync({ scores: dScores, rows: r.rows, stride: r.stride, lengths: dLengths, out, values, stream });
      const got: Output = { indices: new Int32Array(r.rows * k) };
      await out.copyToAsync(got.indices, { stream });
      if (values) {
        got.values = allocScores(r.op.dtype, r.rows * k);
        await values.copyToAsync(got.values, { stream });
      }
      for (const x of [dScores, dLengths, out, values]) x?.dispose();
      return got;
    }));
    const wrong: string[] = [];
    runs.forEach((r, i) => {
      const want = topkSync(r.scores as ScoresArray, {
        k, rows: r.rows, dtype: r.op.dtype as DType, lengths: r.lengths, backend: 'cpu', tieBreak: 'small',
        sorted: r.op.config.sorted, values: r.op.config.writeValues,
      });
      const differ = rowsThatDiffer(results[i], want, r.rows, k);
      if (differ.length > 0) wrong.push(`run ${i} (stream ${r.s}, ${r.op === shared ? 'shared graph-safe op' : `op of stream ${r.s}`}, ${r.rows} x ${r.stride}): rows ${differ.join(', ')}`);
    });
    console.log(`streams: ${RUNS} runs in flight on ${STREAMS} streams, ${shared.capturedGraphs} graphs captured by the shared op; seed ${seed}`);
    for (const x of [shared, ...own, ...streams]) x.dispose();
    expect(wrong).toEqual([]);
  });

  test('4 worker threads at once, each running the radix backend: all right', async () => {
    const seed = testSeed(4_100);
    const report = await runWorkers(4, { seed, calls: 24, backend: 'radix', limits: { maxRows: 16, maxLen: 8192, maxK: 2048 } });
    console.log(`worker threads on the GPU: 4 workers x 24 calls (${report.checked} results checked); seed ${seed}`);
    expect(report.problems).toEqual([]);
    expect(report.checked).toBe(4 * 24);
  });
});
