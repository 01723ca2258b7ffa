// `nsa-topk bench`: times top-k on the NSA shapes, for each k of a list. CPU: wall clock around
// each call. CUDA: calls rotating among enough inputs to exceed 2x the L2 cache, timed as the nodes
// of CUDA graphs (the default) or as eager calls behind a GPU hold, next to a plain read of the
// same buffers (the bandwidth reference) and torch.topk when it is installed. A timer takes a
// `call(i)` for iteration i (which reads input i % buffers), so every timed thing plugs in alike.
// --graph also times a graph-safe op (its own cached graph replays) and the JS-side cost of one
// replay. --pdl builds the ops with PDL launches (run it with and without to compare).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Command, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { cudaStatus, requireCuda } from '../cuda';
import { DeviceBuffer, Stream, nativeBuffer, nativeStream } from '../device';
import { Graph, captureGraph } from '../graph';
import { PACKAGE_ROOT, loadNative } from '../loader';
import type { NativeStream } from '../native';
import { TopK } from '../op';
import { BACKENDS, BackendName, DType, DTYPES, FUSES, FuseName, RADIX_PATHS, RadixPathName, ResolvedBackend, TIE_BREAKS, TieBreak, chooseBackend, dtypeBytes } from '../options';
import { ScoresArray, TopKOptions, baselineTopkSync, topkSync } from '../topk';
import { ScoreKind, allocScores } from '../reference';
import { intInRange, intList } from './args';
import { packageVersion } from './info';
import { fillSet } from './score-sets';

/** The score distributions bench draws (scripts/torch_topk_bench.py draws the same ones). */
export const DISTS = ['normal', 'relu', 'equal', 'hotSpan'] as const satisfies readonly ScoreKind[];
export type Dist = (typeof DISTS)[number];

/** CUDA timing methods: calls as the nodes of CUDA graphs, or eager calls behind a GPU hold. */
export const TIMINGS = ['graph', 'hold'] as const;
export type Timing = (typeof TIMINGS)[number];

export interface BenchOptions {
  backend: BackendName;
  rows: number[];
  lengths: number[];
  /** One result per (k, rows, length). */
  k: number[];
  dtype: DType;
  dist: Dist;
  tieBreak: TieBreak;
  deterministic: boolean;
  sorted: boolean;
  fuse: FuseName;
  path: RadixPathName;
  /** CUDA: how calls are timed (see timeGraphs and timeEvents). */
  timing: Timing;
  /** Graph timing: calls captured in one graph. */
  graphCalls: number;
  /** Graph timing: timed replays, after one untimed pass. */
  replays: number;
  iters?: number;
  warmup?: number;
  json?: string;
  baseline: boolean;
  torch: boolean;
  progress: boolean;
  /** CUDA: also time graph-safe replays and the JS-side replay overhead. */
  graph?: boolean;
  /** CUDA: build the ops with pdl: true (under graph timing, PDL edges between the calls of a graph). */
  pdl?: boolean;
  /**
   * CUDA: the ops' maxRows and maxLen, the largest shape a server builds (and captures) them for;
   * by default each shape's own. The kernel is chosen from these, so a shape run by an op built
   * larger shows what the device-side adaptation to actual lengths costs.
   */
  maxRows?: number;
  maxLen?: number;
  /**
   * Device-side row lengths, cycled over the rows (row r is rowLengths[r % n] long; each at most
   * every --lengths value, the stride): a batch mixing short and long rows, to see whether it
   * costs what its longest rows cost. The read probe still reads whole rows; GB/s counts the
   * rows' own lengths.
   */
  rowLengths?: number[];
}

export interface BenchResult {
  rows: number;
  length: number;
  k: number;
  dtype: DType;
  dist: Dist;
  backend: ResolvedBackend;
  /** GPU median of one call (host enqueue gaps excluded: see timeGraphs and timeEvents). */
  medianUs: number;
  gbps: number;
  /** CUDA, --max-rows/--max-len: the maxima the op was built for. */
  maxRows?: number;
  maxLen?: number;
  /** --row-lengths: the rows' lengths, cycled over the rows. */
  rowLengths?: number[];
  /** CUDA: the input buffers the calls rotate over and, graph timing, the graphs holding them. */
  buffers?: number;
  graphs?: number;
  /** CUDA: host median of one eager enqueue (the JS call to op.run). */
  enqueueUs?: number;
  /** CUDA: set when the GPU may have waited on the host inside a timed region (ours or torch's). */
  hostBound?: boolean;
  baselineUs?: number;
  probeUs?: number;
  /** CUDA: top-k time over read time (the "x read" column). */
  readRatio?: number;
  torchUs?: number;
  torchSpeedup?: number;
  /** --graph: GPU median of a graph-safe replay (hold timing) and its ratio to the eager median. */
  graphUs?: number;
  graphRatio?: number;
  /** --graph: the JS call to GPU completion of one graph-safe replay, less its GPU time. */
  replayOverheadUs?: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

type Keep = <T extends { dispose(): void }>(x: T) => T;

/** Runs `body` with a `keep` that collects disposables, all disposed (newest first) once it has settled. */
async function owning<R>(body: (keep: Keep) => R | Promise<R>): Promise<R> {
  const owned: { dispose(): void }[] = [];
  try {
    return await body((x) => { owned.push(x); return x; });
  } finally {
    for (const x of owned.reverse()) x.dispose();
  }
}

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
  /** GPU median of one call. */
  gpuUs: number;
  /** Host median of one enqueue (the JS call). */
  hostUs: number;
  /** Whether the GPU may have waited on the host inside a timed region (gaps may be counted). */
  hostBound: boolean;
}

/**
 * Times `enqueue(i)` for i = 0, 1, ... (the first `warmup` untimed) with event pairs recorded on
 * `stream`. Each batch of calls waits behind a GPU hold long enough for the host to enqueue the
 * whole batch first (1.5x the measured enqueue time), so the events time GPU work alone: a small
 * call can take less GPU time than the host needs to enqueue it, and without the hold the GPU
 * would idle inside each event pair. A hold found already over once its batch is enqueued is
 * doubled and the batch timed again.
 */
function timeEvents(stream: NativeStream, device: number, enqueue: (i: number) => void, warmup: number, iters: number): EventTiming {
  const Event = requireCuda('Event', 'bench');
  const hold = requireCuda('hold', 'bench');
  const hostSamples: number[] = [];
  // Calls so far: a batch timed again goes on with the rotation instead of rereading inputs that
  // may still be in L2.
  let next = 0;
  const timedEnqueue = () => {
    const t0 = process.hrtime.bigint();
    enqueue(next++);
    hostSamples.push(Number(process.hrtime.bigint() - t0) / 1e3);
  };
  for (let i = 0; i < warmup; i++) timedEnqueue();
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
        timedEnqueue();
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

/** How the graph method lays calls over inputs: graph g's call j reads input (g * calls + j) % buffers. */
export interface GraphRotation {
  buffers: number;
  graphs: number;
}

/**
 * The graph method's rotation for `sets` inputs (enough for one pass to exceed twice the L2
 * cache) and graphs of `calls` calls, replayed in turn: every input is read once per `buffers`
 * calls, across graph and replay boundaries too, and `buffers` >= `sets`. One graph alone would
 * replay the same `calls` inputs, still in L2 when they are fewer than `sets`, so more inputs
 * than calls are rounded up to whole graphs, and fewer take the graphs needed to come back to
 * input 0 at a graph's start (lcm(sets, calls) calls).
 */
export function graphRotation(sets: number, calls: number): GraphRotation {
  const buffers = sets > calls ? Math.ceil(sets / calls) * calls : sets;
  let [a, b] = [buffers, calls];
  while (b) [a, b] = [b, a % b];
  return { buffers, graphs: buffers / a };
}

/**
 * The graph method: `call(i)` captured `calls` at a time into the rotation's graphs (graph g holds
 * calls g * calls .. (g + 1) * calls - 1), so the timed calls run back to back as graph nodes, with
 * no host launch gap between them. First `warmup` eager calls (at least one: a first call may
 * allocate or load a module, which a capture must not do), whose host times give hostUs. Then
 * timeEvents times the replays: every graph once untimed as its warm-up (a graph's first launch
 * also uploads it), then `replays` more continuing the rotation, each between an event pair and
 * behind a GPU hold so the GPU does not wait for the host between replays either. One call's
 * time is the median replay over `calls`.
 */
function timeGraphs(stream: Stream, device: number, call: (i: number) => void, rotation: GraphRotation, calls: number, replays: number, warmup: number): EventTiming {
  const hostUs = timeWall(call, 0, Math.max(1, warmup));
  const graphs: Graph[] = [];
  try {
    for (let g = 0; g < rotation.graphs; g++) {
      graphs.push(captureGraph(stream, () => { for (let j = 0; j < calls; j++) call(g * calls + j); }));
    }
    const replay = (r: number) => graphs[r % graphs.length].replay(stream);
    const timing = timeEvents(nativeStream('stream', stream), device, replay, graphs.length, replays);
    return { gpuUs: timing.gpuUs / calls, hostUs, hostBound: timing.hostBound };
  } finally {
    for (const g of graphs) g.dispose();
  }
}

interface FusedOperands {
  offsets?: Int32Array;
  pageTable?: Int32Array;
  pageTableStride?: number;
  rowToBatch?: Int32Array;
}

/** The operands the chosen fused transform needs for one shape (any k). */
function fusedOperands(o: BenchOptions, rows: number, length: number): FusedOperands {
  if (o.fuse === 'ragged') return { offsets: new Int32Array(rows) };
  // One shared identity table (batch 0 for every row): realistic reads, little memory.
  if (o.fuse === 'page-table') return { pageTable: Int32Array.from({ length }, (_, j) => j), pageTableStride: length, rowToBatch: new Int32Array(rows) };
  return {};
}

/** --row-lengths as the calls' `lengths` (row r: rowLengths[r % n]), or none. */
function rowLengthsOf(o: BenchOptions, rows: number): Int32Array | undefined {
  const l = o.rowLengths;
  return l === undefined ? undefined : Int32Array.from({ length: rows }, (_, r) => l[r % l.length]);
}

/** The scores a call reads: whole rows, or the rows' --row-lengths. */
function scoredBytes(o: BenchOptions, rows: number, length: number): number {
  const lengths = rowLengthsOf(o, rows);
  return (lengths ? lengths.reduce((sum, n) => sum + n, 0) : rows * length) * dtypeBytes(o.dtype);
}

/** A bench step's progress line: what is being done to which shape. */
type Report = (step: string) => void;

type ShapeResult = Omit<BenchResult, 'gbps'>;

/**
 * The `sets` inputs of one shape (rows of `row` scores), sets 0 .. sets - 1 of one seed (see
 * score-sets.ts: a large set is filled by worker threads), with progress by chunk (a large set
 * takes seconds): each in an array of its own when `fresh`, else all in one array refilled per set.
 */
async function* scoreSets(o: BenchOptions, rows: number, row: number, sets: number, seed: number, report: Report, fresh: boolean): AsyncGenerator<ScoresArray> {
  const count = rows * row;
  let host: ScoresArray | undefined;
  for (let set = 0; set < sets; set++) {
    const step = `inputs ${set + 1}/${sets}`;
    report(step);
    if (fresh || host === undefined) host = allocScores(o.dtype, count);
    const onChunk = (done: number, chunks: number) => { if (chunks > 1) report(`${step} chunk ${done}/${chunks}`); };
    await fillSet(host, { dtype: o.dtype, kind: o.dist, seed, set, row }, { onChunk });
    yield host;
  }
}

async function benchCpu(o: BenchOptions, rows: number, length: number, seed: number, report: Report): Promise<ShapeResult[]> {
  const bytes = rows * length * dtypeBytes(o.dtype);
  // Distinct inputs so no call sees the data the previous one left in cache; at most ~1 GiB.
  const sets = Math.max(1, Math.min(4, Math.floor(2 ** 30 / bytes)));
  const inputs: ScoresArray[] = [];
  for await (const host of scoreSets(o, rows, length, sets, seed, report, true)) inputs.push(host);
  const iters = o.iters ?? 10;
  const warmup = o.warmup ?? 2;
  const fused = fusedOperands(o, rows, length);
  const lengths = rowLengthsOf(o, rows);
  return o.k.map((k) => {
    report(`k=${k}`);
    const opts: TopKOptions = {
      k, rows, dtype: o.dtype, tieBreak: o.tieBreak, deterministic: o.deterministic, sorted: o.sorted, backend: 'cpu', fuse: o.fuse, ...fused,
      ...(lengths ? { lengths } : {}),
    };
    const medianUs = timeWall((i) => topkSync(inputs[i % sets], opts), warmup, iters);
    const result: ShapeResult = {
      rows, length, k, dtype: o.dtype, dist: o.dist, backend: 'cpu', medianUs, ...(o.rowLengths ? { rowLengths: o.rowLengths } : {}),
    };
    if (o.baseline) result.baselineUs = timeWall((i) => baselineTopkSync(inputs[i % sets], opts), warmup, iters);
    return result;
  });
}

async function benchCuda(o: BenchOptions, backend: 'radix' | 'sort', rows: number, length: number, seed: number, report: Report): Promise<ShapeResult[]> {
  const device = cudaStatus().devices[0];
  const count = rows * length;
  const bytes = count * dtypeBytes(o.dtype);
  const aligned = Math.ceil(bytes / 256) * 256;
  // Enough distinct inputs that one pass over them is more than twice the L2 cache.
  const sets = Math.max(1, Math.ceil((2 * device.l2CacheBytes) / aligned) + 1);
  const rotation = o.timing === 'graph' ? graphRotation(sets, o.graphCalls) : undefined;
  const buffers = rotation?.buffers ?? sets;
  const iters = o.iters ?? 100;
  const warmup = o.warmup ?? 10;
  return owning(async (keep) => {
    const stream = keep(new Stream());
    const ns = nativeStream('stream', stream);
    const pool = keep(DeviceBuffer.alloc(buffers * aligned));
    let s = 0;
    for await (const host of scoreSets(o, rows, length, buffers, seed, report, false)) pool.copyFrom(host, { byteOffset: s++ * aligned });
    const inputs = Array.from({ length: buffers }, (_, b) => keep(DeviceBuffer.wrap(pool.ptr + BigInt(b * aligned), bytes)));
    // GPU time of one `call(i)`, call i reading input i % buffers, by the chosen method.
    const time = (call: (i: number) => void): EventTiming => (rotation
      ? timeGraphs(stream, device.ordinal, call, rotation, o.graphCalls, o.replays, warmup)
      : timeEvents(ns, device.ordinal, call, warmup, iters));
    report('read probe');
    const readProbe = requireCuda('readProbe', 'bench');
    const natives = inputs.map((b, i) => nativeBuffer(`inputs[${i}]`, b));
    const probe = time((i) => readProbe(natives[i % buffers], bytes, ns));
    const fused = fusedOperands(o, rows, length);
    const upload = (a?: Int32Array) => (a === undefined ? undefined : keep(DeviceBuffer.from(a)));
    const operands = {
      rows, stride: length, stream, pageTableStride: fused.pageTableStride, lengths: upload(rowLengthsOf(o, rows)),
      offsets: upload(fused.offsets), pageTable: upload(fused.pageTable), rowToBatch: upload(fused.rowToBatch),
    };
    const results: ShapeResult[] = [];
    for (const k of o.k) results.push(await owning((keepK) => {
      report(`k=${k}`);
      const opOptions = {
        k, maxRows: o.maxRows ?? rows, maxLen: o.maxLen ?? length, dtype: o.dtype, backend,
        tieBreak: o.tieBreak, deterministic: o.deterministic, sorted: o.sorted, fuse: o.fuse, path: o.path, pdl: o.pdl,
      };
      // Plain launches (captured as they are by the graph method), whatever NSA_TOPK_GRAPH_SAFE
      // says: the graph-safe mode is --graph's.
      const op = keepK(new TopK({ ...opOptions, graphSafe: false }));
      const base = { ...operands, out: keepK(DeviceBuffer.alloc({ dtype: 'i32', length: rows * k })) };
      const eager = time((i) => op.run({ ...base, scores: inputs[i % buffers] }));
      const medianUs = eager.gpuUs;
      const result: ShapeResult = {
        rows, length, k, dtype: o.dtype, dist: o.dist, backend, medianUs, buffers, graphs: rotation?.graphs,
        ...(o.maxRows !== undefined || o.maxLen !== undefined ? { maxRows: opOptions.maxRows, maxLen: opOptions.maxLen } : {}),
        ...(o.rowLengths ? { rowLengths: o.rowLengths } : {}),
        enqueueUs: eager.hostUs, probeUs: probe.gpuUs, readRatio: medianUs / probe.gpuUs,
      };
      let hostBound = eager.hostBound || probe.hostBound;
      if (o.graph) {
        // Each input buffer makes a distinct call, so a graph of its own. The cache holds every
        // input the loops touch and all are captured before timing: replays rotate through the
        // same cold-L2 inputs as the eager runs, and no capture falls inside a timed region.
        const used = Math.min(buffers, warmup + iters);
        const graphOp = keepK(new TopK({ ...opOptions, graphSafe: true, graphCacheSize: used }));
        const replay = (i: number) => graphOp.run({ ...base, scores: inputs[i % buffers] });
        for (let i = 0; i < used; i++) replay(i);
        // Graph timing already runs the eager launches as graph nodes: a graph-safe op's replays
        // are timed on their own behind holds only.
        let gpuUs = medianUs;
        if (!rotation) {
          const graph = timeEvents(ns, device.ordinal, replay, warmup, iters);
          gpuUs = graph.gpuUs;
          hostBound ||= graph.hostBound;
          Object.assign(result, { graphUs: gpuUs, graphRatio: gpuUs / medianUs });
        }
        // One replay at a time, from the JS call to GPU completion; less the GPU time, the JS side.
        result.replayOverheadUs = timeWall((i) => { replay(i); stream.synchronize(); }, warmup, iters) - gpuUs;
      }
      if (hostBound) result.hostBound = true;
      stream.synchronize();
      return result;
    }));
    return results;
  });
}

/** torch.topk medians for the results' cases (one python3 process), or why there are none. */
function benchTorch(o: BenchOptions, cases: BenchResult[]): { us?: number[]; hostBound?: boolean[]; reason?: string } {
  const script = path.join(PACKAGE_ROOT, 'scripts', 'torch_topk_bench.py');
  const input = JSON.stringify({
    cases: cases.map((c) => ({ rows: c.rows, length: c.length, k: c.k, dtype: c.dtype, buffers: c.buffers, graphs: c.graphs })),
    method: o.timing,
    graphCalls: o.graphCalls,
    replays: o.replays,
    iters: o.iters ?? 100,
    warmup: o.warmup ?? 10,
    sorted: o.sorted,
    dist: o.dist,
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
    extra.push(['read us', (r) => fmt(r.probeUs)], ['x read', (r) => fmt(r.readRatio, 2)]);
  }
  if (results.some((r) => r.graphUs !== undefined)) {
    extra.push(['graph us', (r) => fmt(r.graphUs)], ['graph/eager', (r) => fmt(r.graphRatio, 3)]);
  }
  if (results.some((r) => r.replayOverheadUs !== undefined)) extra.push(['replay overhead us', (r) => fmt(r.replayOverheadUs)]);
  if (results.some((r) => r.torchUs !== undefined)) {
    extra.push(['torch us', (r) => fmt(r.torchUs)], ['speedup', (r) => fmt(r.torchSpeedup, 2)]);
  }
  const label = (r: BenchResult) => [
    `${r.rows}x${r.length}`,
    ...(r.maxLen !== undefined ? [`(op ${r.maxRows}x${r.maxLen})`] : []),
    ...(r.rowLengths ? [`(lengths ${r.rowLengths.join('/')})`] : []),
    `k=${r.k}`, r.dtype,
  ].join(' ');
  const rows = results.map((r) => [label(r), r.backend, fmt(r.medianUs), fmt(r.gbps, 2), ...extra.map(([, f]) => f(r))]);
  const all = [[...header, ...extra.map(([h]) => h)], ...rows];
  const widths = all[0].map((_, c) => Math.max(...all.map((row) => row[c].length)));
  for (const row of all) process.stdout.write(`${row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')}\n`);
}

/** The timing method, as the JSON report gives it and as the line above the table says it. */
function timingOf(o: BenchOptions, backend: ResolvedBackend): { json: { method: 'wall' | Timing; graphCalls?: number; replays?: number }; line: string } {
  if (backend === 'cpu') return { json: { method: 'wall' }, line: `wall clock, median of ${o.iters ?? 10} calls` };
  const pdl = o.pdl ? ', PDL launches' : '';
  if (o.timing === 'hold') return { json: { method: 'hold' }, line: `CUDA events behind GPU holds${pdl}, median of ${o.iters ?? 100} calls` };
  return {
    json: { method: 'graph', graphCalls: o.graphCalls, replays: o.replays },
    line: `CUDA graphs of ${o.graphCalls} calls${pdl}, median of ${o.replays} replays / ${o.graphCalls}`,
  };
}

export async function runBench(o: BenchOptions): Promise<BenchResult[]> {
  // An op refuses calls past its maxima: say so before generating any input.
  for (const [flag, max, list, what] of [['--max-rows', o.maxRows, o.rows, 'row count'], ['--max-len', o.maxLen, o.lengths, 'length']] as const) {
    const above = list.filter((x) => max !== undefined && x > max);
    if (above.length) throw new Error(`${flag} ${max} is below the ${what} ${Math.max(...above)}: the ops are built for at least every shape they run`);
  }
  if (o.rowLengths && Math.max(...o.rowLengths) > Math.min(...o.lengths)) {
    throw new Error(`--row-lengths ${Math.max(...o.rowLengths)} is above the length ${Math.min(...o.lengths)}: a row lies within its stride`);
  }
  loadNative();
  const backend = chooseBackend(o.backend, cudaStatus);
  const shapes = o.rows.flatMap((rows) => o.lengths.map((length) => ({ rows, length })));
  // noTTYOutput: off a terminal (a log, CI) cli-progress draws nothing without it, and with it a
  // line every 2 s and at the end; on a terminal it changes nothing.
  const bar = o.progress ? new SingleBar({ stream: process.stderr, format: 'bench [{bar}] {value}/{total} {step}', hideCursor: true, noTTYOutput: true }) : undefined;
  bar?.start(shapes.length * o.k.length, 0, { step: '' });
  const results: BenchResult[] = [];
  try {
    for (const [i, { rows, length }] of shapes.entries()) {
      // Inputs are made once per shape (the same seed whatever the k list) and serve every k.
      const report: Report = (step) => bar?.update(results.length, { step: `${rows}x${length} ${step}` });
      const shape = await (backend === 'cpu' ? benchCpu(o, rows, length, 1000 + i, report) : benchCuda(o, backend, rows, length, 1000 + i, report));
      for (const r of shape) {
        results.push({ ...r, gbps: scoredBytes(o, rows, length) / (r.medianUs * 1e-6) / 1e9 });
      }
    }
    bar?.update(results.length, { step: '' });
  } finally {
    bar?.stop();
  }
  // One table block per k, in the order of the list (the sort is stable: shapes stay in order).
  results.sort((a, b) => o.k.indexOf(a.k) - o.k.indexOf(b.k));
  let torchNote: string | undefined;
  if (backend !== 'cpu' && o.torch && o.rowLengths) {
    torchNote = 'torch.topk takes whole rows, not --row-lengths';
  } else if (backend !== 'cpu' && o.torch) {
    const torch = benchTorch(o, results);
    torchNote = torch.reason;
    torch.us?.forEach((us, i) => {
      results[i].torchUs = us;
      results[i].torchSpeedup = us / results[i].medianUs;
      if (torch.hostBound?.[i]) results[i].hostBound = true;
    });
  }
  const timing = timingOf(o, backend);
  // The output options the rows' labels leave out, so that a table says what it timed.
  const output = [o.deterministic && 'deterministic', o.tieBreak !== 'none' && `tie-break ${o.tieBreak}`, o.sorted && 'sorted'].filter(Boolean);
  process.stdout.write(`timing: ${timing.line}; scores: ${o.dist} ${o.dtype}${output.length ? `; output: ${output.join(', ')}` : ''}\n`);
  printTable(results);
  if (results.some((r) => r.hostBound)) {
    process.stdout.write('warning: on some shapes the GPU may have waited on the host inside a timed region; their times may include launch gaps\n');
  }
  if (torchNote) process.stdout.write(`torch.topk not timed: ${torchNote}\n`);
  if (o.graph && backend === 'cpu') process.stdout.write('graph replays not timed: --graph needs a CUDA backend\n');
  if (o.pdl && backend === 'cpu') process.stdout.write('no PDL launches: --pdl needs a CUDA backend\n');
  if ((o.maxRows !== undefined || o.maxLen !== undefined) && backend === 'cpu') {
    process.stdout.write('no op maxima: --max-rows and --max-len need a CUDA backend\n');
  }
  if (o.json) {
    const status = cudaStatus();
    const report = {
      version: packageVersion(),
      date: new Date().toISOString(),
      device: backend === 'cpu' ? `cpu (${os.cpus().length} threads)` : status.devices[0].name,
      ...timing.json,
      dist: o.dist,
      options: o,
      torch: torchNote ?? (backend === 'cpu' || !o.torch ? 'not run' : 'ok'),
      results,
    };
    fs.writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
  }
  return results;
}

export function benchCommand(setExit: (code: number) => void): Command {
  return new Command('bench')
    .description('time top-k on the NSA shapes (default grid: rows 1,8,64,512,4096 x lengths 8192,32768,131072, k 2048, f32)')
    .addOption(new Option('--backend <name>', 'backend to time').choices(BACKENDS).default('auto'))
    .option('--rows <list>', 'comma-separated row counts', intList('--rows'), [1, 8, 64, 512, 4096])
    .option('--lengths <list>', 'comma-separated row lengths', intList('--lengths'), [8192, 32768, 131072])
    .option('--k <list>', 'comma-separated k values', intList('--k'), [2048])
    .addOption(new Option('--dtype <dtype>', 'score dtype').choices(DTYPES).default('f32'))
    .addOption(new Option('--dist <name>', 'scores: standard normal, max(0, normal - 3.2), all equal, or normal with a sixteenth of each row (a run at a random start) raised by 8').choices(DISTS).default('normal'))
    .addOption(new Option('--tie-break <mode>', 'tie-break').choices(TIE_BREAKS).default('none'))
    .option('--deterministic', 'deterministic output order', false)
    .option('--sorted', 'sorted output', false)
    .addOption(new Option('--fuse <mode>', 'fused index transform').choices(FUSES).default('none'))
    .addOption(new Option('--path <name>', 'radix: force one CTA per row (block), the largest cluster (cluster), the batch kernel (batch), the register kernel (register), the spread kernels (spread: a row over a grid of register CTAs) or the chunked path (chunked: rows cut into chunks for the batch kernel, then a top-k of their candidates)').choices(RADIX_PATHS).default('auto'))
    .addOption(new Option('--timing <method>', 'CUDA: calls as the nodes of CUDA graphs, or eager calls behind GPU holds').choices(TIMINGS).default('graph'))
    .option('--graph-calls <n>', 'graph timing: calls captured in one graph (10 to 50)', intInRange('--graph-calls', 10, 50), 20)
    .option('--replays <n>', 'graph timing: timed replays', intInRange('--replays', 1), 10)
    .option('--iters <n>', 'timed iterations (default: 100 CUDA, 10 CPU)', intInRange('--iters', 1))
    .option('--warmup <n>', 'warm-up iterations (default: 10 CUDA, 2 CPU)', intInRange('--warmup', 0))
    .option('--json <file>', 'also write the results as JSON')
    .option('--baseline', 'CPU: also time the std::nth_element baseline on the same data', false)
    .option('--no-torch', 'do not time torch.topk')
    .option('--progress', 'show a progress bar even when stderr is not a TTY', false)
    .option('--graph', 'CUDA: also time graph-safe replays (one cached graph per input) and the JS-side replay overhead', false)
    .option('--pdl', 'CUDA: build the ops with pdl: true (programmatic dependent launch between consecutive calls)', false)
    .option('--max-rows <n>', 'CUDA: build the ops for this many rows (at least every --rows value; default: each shape\'s)', intInRange('--max-rows', 1))
    .option('--max-len <n>', 'CUDA: build the ops for rows this long (at least every --lengths value; default: each shape\'s)', intInRange('--max-len', 1))
    .option('--row-lengths <list>', 'device-side row lengths, cycled over the rows (each at most every --lengths value)', intList('--row-lengths'))
    .action(async (opts: Omit<BenchOptions, 'progress'> & { progress: boolean }) => {
      await runBench({ ...opts, progress: opts.progress || Boolean(process.stderr.isTTY) });
      setExit(0);
    });
}
