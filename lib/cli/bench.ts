// `nsa-topk bench`: times top-k on the NSA shapes. CPU: wall clock around each call. CUDA: event
// pairs around each enqueue, rotating among enough inputs to exceed 2x the L2 cache, next to a
// plain read of the same buffers (the bandwidth reference) and torch.topk when it is installed.
// A timer takes an `enqueue(i)` for iteration i, so graph replays can plug in as another enqueue.
// --graph also times the same rotation through a graph-safe op (cached graph replays) and the
// JS-side cost of one replay.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Command, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { cudaStatus, requireCuda } from '../cuda';
import { DeviceBuffer, Stream, nativeBuffer, nativeStream } from '../device';
import { PACKAGE_ROOT, loadNative } from '../loader';
import type { NativeStream } from '../native';
import { TopK } from '../op';
import { BACKENDS, BackendName, DType, DTYPES, FUSES, FuseName, RADIX_PATHS, RadixPathName, ResolvedBackend, TIE_BREAKS, TieBreak, chooseBackend, dtypeBytes } from '../options';
import { ScoresArray, TopKOptions, baselineTopkSync, topkSync } from '../topk';
import { allocScores, fillNormal, rng } from './data';
import { packageVersion } from './info';

export interface BenchOptions {
  backend: BackendName;
  rows: number[];
  lengths: number[];
  k: number;
  dtype: DType;
  tieBreak: TieBreak;
  deterministic: boolean;
  sorted: boolean;
  fuse: FuseName;
  path: RadixPathName;
  iters?: number;
  warmup?: number;
  json?: string;
  baseline: boolean;
  torch: boolean;
  progress: boolean;
  /** CUDA: also time graph-safe replays and the JS-side replay overhead. */
  graph?: boolean;
}

export interface BenchResult {
  rows: number;
  length: number;
  k: number;
  dtype: DType;
  backend: ResolvedBackend;
  /** GPU median of one call (host enqueue gaps excluded: see timeEvents). */
  medianUs: number;
  gbps: number;
  /** CUDA: host median of one eager enqueue (the JS call to op.run). */
  enqueueUs?: number;
  /** CUDA: set when a GPU hold ran out before its batch was enqueued (ours or torch's), so host gaps may be counted. */
  hostBound?: boolean;
  baselineUs?: number;
  probeUs?: number;
  probePercent?: number;
  torchUs?: number;
  torchSpeedup?: number;
  /** --graph: GPU median of a graph-safe replay, its ratio to the eager median, and the JS call to GPU completion less that. */
  graphUs?: number;
  graphRatio?: number;
  replayOverheadUs?: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Wall-clock median in microseconds of `run(i)` after `warmup` untimed calls. */
function timeWall(run: (i: number) => void, warmup: number, iters: number): number {
  for (let i = 0; i < warmup; i++) run(i);
  const samples: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    run(warmup + i);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  return median(samples);
}

/** Timed calls behind one GPU hold: few enough that their commands fit the launch queue. */
const HOLD_BATCH = 20;
/** How many times a batch is timed again behind a doubled hold before it counts as host-bound. */
const HOLD_RETRIES = 4;
/** The longest hold, in microseconds: a batch whose host side needs longer counts as host-bound. */
const HOLD_MAX_US = 10_000_000;

interface EventTiming {
  /** GPU median of one call, between its event pair. */
  gpuUs: number;
  /** Host median of one enqueue (the JS call), from the timed calls. */
  hostUs: number;
  /** Whether some batch's hold ran out before the host had enqueued it (gaps may be counted). */
  hostBound: boolean;
}

/**
 * Times `enqueue(i)` with event pairs recorded on `stream`. Each batch of calls waits behind a
 * GPU hold long enough for the host to enqueue the whole batch first (1.5x the measured enqueue
 * time), so the events time GPU work alone: a small call can take less GPU time than the host
 * needs to enqueue it, and without the hold the GPU would idle inside each event pair. A hold found
 * already over once its batch is enqueued is doubled and the batch timed again.
 */
function timeEvents(stream: NativeStream, device: number, enqueue: (i: number) => void, warmup: number, iters: number): EventTiming {
  const Event = requireCuda('Event', 'bench');
  const hold = requireCuda('hold', 'bench');
  const hostSamples: number[] = [];
  const timedEnqueue = (i: number) => {
    const t0 = process.hrtime.bigint();
    enqueue(i);
    hostSamples.push(Number(process.hrtime.bigint() - t0) / 1e3);
  };
  for (let i = 0; i < warmup; i++) timedEnqueue(i);
  const events = Array.from({ length: 2 * HOLD_BATCH + 1 }, () => new Event(device));
  const held = events[2 * HOLD_BATCH];
  const samples: number[] = [];
  const enqueueUs: number[] = [];
  let hostBound = false;
  try {
    let perCallUs = hostSamples.length ? median(hostSamples) : 100;
    for (let done = 0, retries = 0; done < iters; ) {
      const n = Math.min(HOLD_BATCH, iters - done);
      hold(stream, Math.min(HOLD_MAX_US, Math.ceil(50 + 1.5 * n * perCallUs * 2 ** retries)));
      held.record(stream);
      hostSamples.length = 0;
      for (let j = 0; j < n; j++) {
        events[2 * j].record(stream);
        timedEnqueue(warmup + done + j);
        events[2 * j + 1].record(stream);
      }
      const late = held.query();
      events[2 * n - 1].synchronize();
      perCallUs = Math.max(perCallUs, median(hostSamples));
      if (late && retries < HOLD_RETRIES) {
        retries++;
        continue;
      }
      hostBound ||= late;
      for (let j = 0; j < n; j++) samples.push(events[2 * j + 1].elapsedSince(events[2 * j]) * 1e3);
      enqueueUs.push(...hostSamples);
      done += n;
      retries = 0;
    }
    return { gpuUs: median(samples), hostUs: median(enqueueUs), hostBound };
  } finally {
    for (const e of events) e.dispose();
  }
}

/** Host-call options for one shape, with the fused operands the chosen transform needs. */
function hostOptions(o: BenchOptions, rows: number, length: number, backend: ResolvedBackend): TopKOptions {
  const opts: TopKOptions = {
    k: o.k, rows, dtype: o.dtype, tieBreak: o.tieBreak, deterministic: o.deterministic, sorted: o.sorted,
    backend, fuse: o.fuse,
  };
  if (o.fuse === 'ragged') opts.offsets = new Int32Array(rows);
  if (o.fuse === 'page-table') {
    // One shared identity table (batch 0 for every row): realistic reads, little memory.
    opts.pageTable = Int32Array.from({ length }, (_, j) => j);
    opts.pageTableStride = length;
    opts.rowToBatch = new Int32Array(rows);
  }
  return opts;
}

function benchCpu(o: BenchOptions, rows: number, length: number, seed: number): Omit<BenchResult, 'gbps'> {
  const count = rows * length;
  const bytes = count * dtypeBytes(o.dtype);
  // Distinct inputs so no call sees the data the previous one left in cache; at most ~1 GiB.
  const sets = Math.max(1, Math.min(4, Math.floor(2 ** 30 / bytes)));
  const inputs: ScoresArray[] = [];
  const rand = rng(seed);
  for (let s = 0; s < sets; s++) {
    const scores = allocScores(o.dtype, count);
    fillNormal(o.dtype, scores, rand);
    inputs.push(scores);
  }
  const opts = hostOptions(o, rows, length, 'cpu');
  const iters = o.iters ?? 10;
  const warmup = o.warmup ?? 2;
  const medianUs = timeWall((i) => topkSync(inputs[i % sets], opts), warmup, iters);
  const result: Omit<BenchResult, 'gbps'> = { rows, length, k: o.k, dtype: o.dtype, backend: 'cpu', medianUs };
  if (o.baseline) result.baselineUs = timeWall((i) => baselineTopkSync(inputs[i % sets], opts), warmup, iters);
  return result;
}

function benchCuda(o: BenchOptions, backend: 'radix' | 'sort', rows: number, length: number, seed: number): Omit<BenchResult, 'gbps'> {
  const device = cudaStatus().devices[0];
  const count = rows * length;
  const bytes = count * dtypeBytes(o.dtype);
  const aligned = Math.ceil(bytes / 256) * 256;
  // Enough distinct inputs that one pass over them is more than twice the L2 cache.
  const sets = Math.max(1, Math.ceil((2 * device.l2CacheBytes) / aligned) + 1);
  const owned: { dispose(): void }[] = [];
  const keep = <T extends { dispose(): void }>(x: T): T => { owned.push(x); return x; };
  try {
    const stream = keep(new Stream());
    const pool = keep(DeviceBuffer.alloc(sets * aligned));
    const host = allocScores(o.dtype, count);
    const rand = rng(seed);
    const inputs: DeviceBuffer[] = [];
    for (let s = 0; s < sets; s++) {
      fillNormal(o.dtype, host, rand);
      pool.copyFrom(host, { byteOffset: s * aligned });
      inputs.push(keep(DeviceBuffer.wrap(pool.ptr + BigInt(s * aligned), bytes)));
    }
    const h = hostOptions(o, rows, length, backend);
    const opOptions = {
      k: o.k, maxRows: rows, maxLen: length, dtype: o.dtype, backend,
      tieBreak: o.tieBreak, deterministic: o.deterministic, sorted: o.sorted, fuse: o.fuse, path: o.path,
    };
    // With --graph the eager column must be eager whatever NSA_TOPK_GRAPH_SAFE says.
    const op = keep(new TopK({ ...opOptions, graphSafe: o.graph ? false : undefined }));
    const upload = (a?: Int32Array) => (a === undefined ? undefined : keep(DeviceBuffer.from(a)));
    const base = {
      rows, stride: length, stream,
      out: keep(DeviceBuffer.alloc({ dtype: 'i32', length: rows * o.k })),
      offsets: upload(h.offsets as Int32Array | undefined),
      pageTable: upload(h.pageTable as Int32Array | undefined),
      pageTableStride: h.pageTableStride,
      rowToBatch: upload(h.rowToBatch as Int32Array | undefined),
    };
    const iters = o.iters ?? 100;
    const warmup = o.warmup ?? 10;
    const ns = nativeStream('stream', stream);
    const eager = timeEvents(ns, device.ordinal, (i) => op.run({ ...base, scores: inputs[i % sets] }), warmup, iters);
    const medianUs = eager.gpuUs;
    const readProbe = requireCuda('readProbe', 'bench');
    const natives = inputs.map((b, i) => nativeBuffer(`inputs[${i}]`, b));
    const probe = timeEvents(ns, device.ordinal, (i) => readProbe(natives[i % sets], bytes, ns), warmup, iters);
    const probeUs = probe.gpuUs;
    const result: Omit<BenchResult, 'gbps'> = {
      rows, length, k: o.k, dtype: o.dtype, backend, medianUs, enqueueUs: eager.hostUs, probeUs, probePercent: (100 * probeUs) / medianUs,
    };
    let hostBound = eager.hostBound || probe.hostBound;
    if (o.graph) {
      // Each input buffer makes a distinct call, so a graph of its own. The cache holds every
      // input the loops touch and all are captured before timing: replays rotate through the same
      // cold-L2 inputs as the eager runs, and no capture falls inside a timed region.
      const used = Math.min(sets, warmup + iters);
      const graphOp = keep(new TopK({ ...opOptions, graphSafe: true, graphCacheSize: used }));
      const replay = (i: number) => graphOp.run({ ...base, scores: inputs[i % sets] });
      for (let i = 0; i < used; i++) replay(i);
      const graph = timeEvents(ns, device.ordinal, replay, warmup, iters);
      const graphUs = graph.gpuUs;
      hostBound ||= graph.hostBound;
      // One replay at a time, from the JS call to GPU completion; less the GPU time, the JS side.
      const wallUs = timeWall((i) => { replay(i); stream.synchronize(); }, warmup, iters);
      Object.assign(result, { graphUs, graphRatio: graphUs / medianUs, replayOverheadUs: wallUs - graphUs });
    }
    if (hostBound) result.hostBound = true;
    stream.synchronize();
    return result;
  } finally {
    for (const x of owned.reverse()) x.dispose();
  }
}

/** torch.topk medians for the shapes (one python3 process), or why there are none. */
function benchTorch(o: BenchOptions, shapes: { rows: number; length: number }[]): { us?: number[]; hostBound?: boolean[]; reason?: string } {
  const script = path.join(PACKAGE_ROOT, 'scripts', 'torch_topk_bench.py');
  const input = JSON.stringify({
    cases: shapes.map((s) => ({ rows: s.rows, length: s.length, k: o.k, dtype: o.dtype })),
    iters: o.iters ?? 100,
    warmup: o.warmup ?? 10,
    sorted: o.sorted,
  });
  const child = spawnSync('python3', [script], { input, encoding: 'utf8', timeout: 600_000, maxBuffer: 16 << 20 });
  if (child.error) return { reason: `python3: ${child.error.message}` };
  const line = child.stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(line) as { medianUs?: number[]; hostBound?: boolean[]; error?: string };
    if (parsed.error) return { reason: parsed.error };
    return { us: parsed.medianUs, hostBound: parsed.hostBound };
  } catch {
    return { reason: `torch_topk_bench.py exited ${child.status}: ${(child.stderr || line).trim().split('\n').pop()}` };
  }
}

const fmt = (x: number | undefined, digits = 1): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));

function printTable(results: BenchResult[]): void {
  const header = ['shape', 'backend', 'median us', 'GB/s'];
  const extra: [string, (r: BenchResult) => string][] = [];
  if (results.some((r) => r.baselineUs !== undefined)) {
    extra.push(['nth_element us', (r) => fmt(r.baselineUs)], ['x faster', (r) => fmt(r.baselineUs! / r.medianUs, 2)]);
  }
  if (results.some((r) => r.enqueueUs !== undefined)) extra.push(['enqueue us', (r) => fmt(r.enqueueUs)]);
  if (results.some((r) => r.probeUs !== undefined)) {
    extra.push(['read us', (r) => fmt(r.probeUs)], ['% of read bw', (r) => fmt(r.probePercent)]);
  }
  if (results.some((r) => r.graphUs !== undefined)) {
    extra.push(['graph us', (r) => fmt(r.graphUs)], ['graph/eager', (r) => fmt(r.graphRatio, 3)], ['replay overhead us', (r) => fmt(r.replayOverheadUs)]);
  }
  if (results.some((r) => r.torchUs !== undefined)) {
    extra.push(['torch us', (r) => fmt(r.torchUs)], ['speedup', (r) => fmt(r.torchSpeedup, 2)]);
  }
  const rows = results.map((r) => [
    `${r.rows}x${r.length} k=${r.k} ${r.dtype}`, r.backend, fmt(r.medianUs), fmt(r.gbps, 2), ...extra.map(([, f]) => f(r)),
  ]);
  const all = [[...header, ...extra.map(([h]) => h)], ...rows];
  const widths = all[0].map((_, c) => Math.max(...all.map((row) => row[c].length)));
  for (const row of all) process.stdout.write(`${row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')}\n`);
}

export async function runBench(o: BenchOptions): Promise<BenchResult[]> {
  loadNative();
  const backend = chooseBackend(o.backend, cudaStatus);
  const shapes = o.rows.flatMap((rows) => o.lengths.map((length) => ({ rows, length })));
  const bar = o.progress ? new SingleBar({ stream: process.stderr, format: 'bench [{bar}] {value}/{total} {shape}', hideCursor: true }) : undefined;
  bar?.start(shapes.length, 0, { shape: '' });
  const results: BenchResult[] = [];
  try {
    for (const [i, { rows, length }] of shapes.entries()) {
      bar?.update(i, { shape: `${rows}x${length}` });
      const r = backend === 'cpu' ? benchCpu(o, rows, length, 1000 + i) : benchCuda(o, backend, rows, length, 1000 + i);
      const gbps = (rows * length * dtypeBytes(o.dtype)) / (r.medianUs * 1e-6) / 1e9;
      results.push({ ...r, gbps });
    }
    bar?.update(shapes.length, { shape: '' });
  } finally {
    bar?.stop();
  }
  let torchNote: string | undefined;
  if (backend !== 'cpu' && o.torch) {
    const torch = benchTorch(o, shapes);
    torchNote = torch.reason;
    torch.us?.forEach((us, i) => {
      results[i].torchUs = us;
      results[i].torchSpeedup = us / results[i].medianUs;
      if (torch.hostBound?.[i]) results[i].hostBound = true;
    });
  }
  printTable(results);
  if (results.some((r) => r.hostBound)) {
    process.stdout.write('warning: on some shapes the host could not enqueue a batch within its GPU hold; their times may include launch gaps\n');
  }
  if (torchNote) process.stdout.write(`torch.topk not timed: ${torchNote}\n`);
  if (o.graph && backend === 'cpu') process.stdout.write('graph replays not timed: --graph needs a CUDA backend\n');
  if (o.json) {
    const status = cudaStatus();
    const report = {
      version: packageVersion(),
      date: new Date().toISOString(),
      device: backend === 'cpu' ? `cpu (${os.cpus().length} threads)` : status.devices[0].name,
      options: o,
      torch: torchNote ?? (backend === 'cpu' || !o.torch ? 'not run' : 'ok'),
      results,
    };
    fs.writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
  }
  return results;
}

const intList = (name: string) => (value: string): number[] => {
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`${name} must be a comma-separated list of positive integers, got ${value}`);
  return list;
};

const positiveInt = (name: string, min: number) => (value: string): number => {
  const x = Number(value);
  if (!Number.isInteger(x) || x < min) throw new Error(`${name} must be an integer >= ${min}, got ${value}`);
  return x;
};

export function benchCommand(setExit: (code: number) => void): Command {
  return new Command('bench')
    .description('time top-k on the NSA shapes (default grid: rows 1,8,64,512,4096 x lengths 8192,32768,131072, k 2048, f32)')
    .addOption(new Option('--backend <name>', 'backend to time').choices(BACKENDS).default('auto'))
    .option('--rows <list>', 'comma-separated row counts', intList('--rows'), [1, 8, 64, 512, 4096])
    .option('--lengths <list>', 'comma-separated row lengths', intList('--lengths'), [8192, 32768, 131072])
    .option('--k <n>', 'k', positiveInt('--k', 1), 2048)
    .addOption(new Option('--dtype <dtype>', 'score dtype').choices(DTYPES).default('f32'))
    .addOption(new Option('--tie-break <mode>', 'tie-break').choices(TIE_BREAKS).default('none'))
    .option('--deterministic', 'deterministic output order', false)
    .option('--sorted', 'sorted output', false)
    .addOption(new Option('--fuse <mode>', 'fused index transform').choices(FUSES).default('none'))
    .addOption(new Option('--path <name>', 'radix: force one CTA per row (block) or the largest cluster').choices(RADIX_PATHS).default('auto'))
    .option('--iters <n>', 'timed iterations (default: 100 CUDA, 10 CPU)', positiveInt('--iters', 1))
    .option('--warmup <n>', 'warm-up iterations (default: 10 CUDA, 2 CPU)', positiveInt('--warmup', 0))
    .option('--json <file>', 'also write the results as JSON')
    .option('--baseline', 'CPU: also time the std::nth_element baseline on the same data', false)
    .option('--no-torch', 'do not time torch.topk')
    .option('--progress', 'show a progress bar even when stderr is not a TTY', false)
    .option('--graph', 'CUDA: also time graph-safe replays (one cached graph per input) and the JS-side replay overhead', false)
    .action(async (opts: Omit<BenchOptions, 'progress'> & { progress: boolean }) => {
      await runBench({ ...opts, progress: opts.progress || Boolean(process.stderr.isTTY) });
      setExit(0);
    });
}
