// TopK: the reusable op over device buffers. Options are checked and resolved once at
// construction; every run checks that each buffer is present, live, on the op's device and big
// enough for rows/stride/k before the native run enqueues anything. A graph-safe op runs each
// distinct call shape (stream, sizes, which buffers) as a replay of a graph it captured once,
// moving the graph's kernel parameters to the call's buffers when only their addresses changed.
import type { NativeConfig, NativeDeviceBuffer, NativeGraph, NativeRunArgs, NativeStream, NativeTopKOp } from './native';
import { NATIVE_BACKEND, NATIVE_PATH, nativeConfig } from './config';
import { checkDevice, cudaStatus, requireCuda } from './cuda';
import { DeviceBuffer, Stream, nativeBuffer, nativeStream } from './device';
import { ErrorCodes, NsaTopkError, invalidArgument } from './errors';
import { GraphCache } from './graph';
import {
  DType, DTYPES, FuseName, RADIX_PATHS, RadixPathName, ResolvedBackend, TieBreak,
  chooseBackend, checkBackend, cudaUnavailable, dtypeBytes, pickOptions,
} from './options';
import { INT32_MAX, checkInt, checkKeys, checkObject, checkOneOf, optionalInt } from './validate';

export interface TopKOpOptions {
  k: number;
  maxRows: number;
  maxLen: number;
  dtype?: DType;
  backend?: 'auto' | 'radix' | 'sort';
  tieBreak?: TieBreak;
  deterministic?: boolean;
  sorted?: boolean;
  values?: boolean;
  fuse?: FuseName;
  pageSize?: number;
  graphSafe?: boolean;
  /**
   * Launch each call's first kernel with programmatic stream serialization (PDL), so that it
   * starts while the kernel before it on the stream finishes and lets the next kernel start early
   * (eager runs and captured graphs alike); default false.
   */
  pdl?: boolean;
  /** Graph-safe ops: how many captured graphs (one per distinct call) to keep, LRU; default 8. */
  graphCacheSize?: number;
  device?: number;
  /** Force a radix path (benchmarks, tests). */
  path?: RadixPathName;
}

export interface TopKRunArgs {
  scores: DeviceBuffer;
  rows: number;
  stride: number;
  lengths?: DeviceBuffer;
  rowStarts?: DeviceBuffer;
  offsets?: DeviceBuffer;
  pageTable?: DeviceBuffer;
  pageTableStride?: number;
  pageTableRows?: number;
  rowToBatch?: DeviceBuffer;
  pageTableStarts?: DeviceBuffer;
  out: DeviceBuffer;
  values?: DeviceBuffer;
  stream: Stream;
}

const OP_KEYS = ['k', 'maxRows', 'maxLen', 'dtype', 'backend', 'tieBreak', 'deterministic', 'sorted', 'values', 'fuse', 'pageSize', 'graphSafe', 'pdl', 'graphCacheSize', 'device', 'path'] as const;
const RUN_KEYS = ['scores', 'rows', 'stride', 'lengths', 'rowStarts', 'offsets', 'pageTable', 'pageTableStride', 'pageTableRows', 'rowToBatch', 'pageTableStarts', 'out', 'values', 'stream'] as const;

const DEFAULT_GRAPH_CACHE_SIZE = 8;

/** The device backend an op runs: like chooseBackend, but an op never runs on the CPU. */
function opBackend(given: unknown): Exclude<ResolvedBackend, 'cpu'> {
  const explicit = given === undefined ? undefined : checkBackend(given);
  if (explicit === 'cpu') throw invalidArgument('backend', 'one of auto, radix, sort (TopK runs on a GPU; use topk() for the CPU)', given);
  // A process-wide `cpu` from the flag or environment means "host calls on the CPU"; an op still
  // needs a device backend, so it falls back to auto.
  const resolved = explicit ?? pickOptions(['backend'], {}).backend;
  const name = resolved === 'cpu' ? 'auto' : resolved;
  const backend = chooseBackend(name, cudaStatus);
  if (backend === 'cpu') throw cudaUnavailable('TopK', cudaStatus());
  return backend;
}

export class TopK {
  readonly k: number;
  readonly maxRows: number;
  readonly maxLen: number;
  readonly dtype: DType;
  readonly backend: 'radix' | 'sort';
  readonly device: number;
  readonly fuse: FuseName;
  readonly config: Readonly<NativeConfig>;
  readonly graphCacheSize: number;
  private readonly native: NativeTopKOp;
  /** Graph-safe ops only: the graphs captured by run(), keyed by shapeKey(). */
  private readonly graphs?: GraphCache<CachedRun>;
  private rebinds = 0;

  constructor(opts: TopKOpOptions) {
    const o = checkObject('opts', opts);
    checkKeys('TopK options', o, OP_KEYS);
    this.k = checkInt('k', o.k, 1, INT32_MAX);
    this.maxRows = checkInt('maxRows', o.maxRows, 1, INT32_MAX);
    this.maxLen = checkInt('maxLen', o.maxLen, 1, INT32_MAX);
    this.dtype = o.dtype === undefined ? 'f32' : checkOneOf('dtype', o.dtype, DTYPES);
    // The process-wide graph-safe default is read here, for ops only (host-array calls never use it).
    const global = pickOptions(['tieBreak', 'deterministic', 'fuse', 'graphSafe'], o);
    this.fuse = global.fuse;
    const path = o.path === undefined ? 'auto' : checkOneOf('path', o.path, RADIX_PATHS);
    const device = optionalInt('device', o.device, 0, 0);
    this.graphCacheSize = optionalInt('graphCacheSize', o.graphCacheSize, 1, DEFAULT_GRAPH_CACHE_SIZE, INT32_MAX);
    this.config = nativeConfig(o, {
      k: this.k, dtype: this.dtype, global, graphSafe: global.graphSafe, maxRows: this.maxRows, maxLen: this.maxLen,
    });
    this.backend = opBackend(o.backend);
    this.device = checkDevice('device', device);
    const Native = requireCuda('TopKOp', 'TopK');
    this.native = new Native(this.config, NATIVE_BACKEND[this.backend], this.device, NATIVE_PATH[path]);
    if (this.config.graphSafe) this.graphs = new GraphCache(this.graphCacheSize);
  }

  get workspaceBytes(): number { return this.native.workspaceBytes; }
  get disposed(): boolean { return this.native.disposed; }
  /** Graphs run() has captured (and instantiated) so far, evicted ones included (0 unless graphSafe). */
  get capturedGraphs(): number { return this.graphs?.insertions ?? 0; }
  /** Graphs held in the cache now. */
  get cachedGraphs(): number { return this.graphs?.size ?? 0; }
  /** Runs that moved a cached graph to new buffer addresses instead of capturing one. */
  get reboundGraphs(): number { return this.rebinds; }

  /**
   * Enqueues on args.stream and returns at once (safe under graph capture). A graph-safe op
   * enqueues directly into a capture already under way on the stream; otherwise it replays the
   * graph it captured for this call's shape (stream, rows, stride, page-table sizes, which buffers
   * are given), capturing it first on a miss. When only buffer addresses changed since the graph's
   * last replay (a caching allocator's new blocks), the graph's kernel parameters are moved to the
   * new buffers instead of capturing again. Replays read the buffers' current contents. The
   * legacy default stream (handle 0) cannot be captured: runs there are eager.
   */
  run(args: TopKRunArgs): void {
    if (this.native.disposed) throw new NsaTopkError('This TopK op was disposed', ErrorCodes.Disposed);
    const run = checkRun(this, args);
    if (this.graphs === undefined || streamToken(run.stream) === '0' || run.stream.isCapturing()) {
      this.native.run(run);
      return;
    }
    const key = shapeKey(run);
    const addresses = addressKey(run);
    let cached = this.graphs.get(key);
    if (cached !== undefined && cached.addresses !== addresses) {
      // Unknown until the move succeeds: a move that throws half way is redone by the next call.
      cached.addresses = '';
      if (this.native.rebind(cached.graph, run)) {
        cached.addresses = addresses;
        this.rebinds++;
      } else {
        cached = undefined;  // aliased buffers, say: captured again below, replacing it
      }
    }
    if (cached === undefined) {
      // Capturing enqueues nothing: the replay below is what runs this first call.
      cached = new CachedRun(this.native.capture(run), addresses);
      this.graphs.set(key, cached);
    }
    cached.graph.replay(run.stream);
  }

  /** Runs, then resolves when the stream's work (this run included) is done. */
  async runAsync(args: TopKRunArgs): Promise<void> {
    this.run(args);
    await args.stream.synchronizeAsync();
  }

  /** Idempotent; disposes the captured graphs too. */
  dispose(): void {
    try {
      this.graphs?.clear();
    } finally {
      this.native.dispose();
    }
  }

  /** `using op = new TopK(...)` disposes it at the end of the scope. */
  [Symbol.dispose](): void { this.dispose(); }
}

/** @internal What run() checks its arguments against: the op (a plain object in tests, which need no GPU). */
export type RunLimits = Pick<TopK, 'k' | 'maxRows' | 'maxLen' | 'dtype' | 'backend' | 'device' | 'fuse'> & { config: Pick<NativeConfig, 'writeValues'> };

/**
 * @internal Every check of a run, in the order the arguments are named, turning the wrappers into
 * the native run arguments: the one place run arguments are checked.
 */
export function checkRun(op: RunLimits, args: unknown): NativeRunArgs {
  const a = checkObject('args', args);
  checkKeys('TopK run arguments', a, RUN_KEYS);
  const rows = checkInt('rows', a.rows, 1, op.maxRows);
  const stride = checkInt('stride', a.stride, 1, INT32_MAX);
  // The radix backend reads only the windows, which the op's maxLen bounds; the sort backend sorts
  // whole rows of `stride` in a workspace sized for maxLen, whatever the lengths.
  if (stride > op.maxLen && (a.lengths === undefined || op.backend === 'sort')) {
    const when = op.backend === 'sort' ? 'with the sort backend' : 'when no lengths are given';
    throw invalidArgument('stride', `at most maxLen (${op.maxLen}) ${when}`, stride);
  }
  const buffer = (name: string, value: unknown, minBytes: number) => {
    const native = nativeBuffer(name, value);
    if (native.device !== op.device) {
      throw new NsaTopkError(`The DeviceBuffer given as ${name} is on device ${native.device}, the op on device ${op.device}`, ErrorCodes.DeviceMismatch);
    }
    if (native.bytes < minBytes) throw invalidArgument(name, `a DeviceBuffer of at least ${minBytes} bytes`, `${native.bytes} bytes`);
    return native;
  };
  const optional = (name: string, value: unknown, minBytes: number) => (value === undefined ? undefined : buffer(name, value, minBytes));
  const perRow = rows * 4;
  const outSlots = rows * op.k;
  const stream = nativeStream('stream', a.stream);
  if (stream.device !== op.device) {
    throw new NsaTopkError(`The stream is on device ${stream.device}, the op on device ${op.device}`, ErrorCodes.DeviceMismatch);
  }
  if (op.config.writeValues && a.values === undefined) throw invalidArgument('values', 'a DeviceBuffer (the op was built with values: true)', undefined);
  if (!op.config.writeValues && a.values !== undefined) throw invalidArgument('values', 'no buffer (the op was built without values: true)', a.values);
  const run: NativeRunArgs = {
    rows,
    stride,
    scores: buffer('scores', a.scores, rows * stride * dtypeBytes(op.dtype)),
    lengths: optional('lengths', a.lengths, perRow),
    rowStarts: optional('rowStarts', a.rowStarts, perRow),
    out: buffer('out', a.out, outSlots * 4),
    values: optional('values', a.values, outSlots * dtypeBytes(op.dtype)),
    stream,
  };
  if (op.fuse === 'ragged') {
    run.offsets = buffer('offsets', a.offsets, perRow);
  } else if (op.fuse === 'page-table') {
    const pageTableStride = checkInt('pageTableStride', a.pageTableStride, 1, INT32_MAX);
    run.pageTable = buffer('pageTable', a.pageTable, pageTableStride * 4);
    const fits = Math.floor(run.pageTable.bytes / 4 / pageTableStride);
    run.pageTableStride = pageTableStride;
    run.pageTableRows = optionalInt('pageTableRows', a.pageTableRows, 1, fits, fits);
    run.rowToBatch = optional('rowToBatch', a.rowToBatch, perRow);
    run.pageTableStarts = optional('pageTableStarts', a.pageTableStarts, perRow);
  }
  return run;
}

/** A graph run() captured, and the buffer addresses (addressKey) its kernels hold now. */
class CachedRun {
  constructor(readonly graph: NativeGraph, public addresses: string) {}
  dispose(): void { this.graph.dispose(); }
}

// Call keys. A native buffer's address and a stream's handle never change, so their renderings
// are computed once per native object instead of on every replay.
const tokens = new WeakMap<object, string>();

function streamToken(stream: NativeStream): string {
  let t = tokens.get(stream);
  if (t === undefined) tokens.set(stream, (t = String(stream.handle)));
  return t;
}

function bufferToken(buffer: NativeDeviceBuffer | undefined): string {
  if (buffer === undefined) return '-';
  let t = tokens.get(buffer);
  if (t === undefined) tokens.set(buffer, (t = String(buffer.ptr)));
  return t;
}

/**
 * What a captured graph bakes in besides buffer addresses: calls with equal keys share one graph
 * (the grid is fixed by the op's maxima and these sizes; buffer sizes are checked per run and
 * never reach a kernel).
 */
function shapeKey(r: NativeRunArgs): string {
  const given = [r.lengths, r.rowStarts, r.offsets, r.pageTable, r.rowToBatch, r.pageTableStarts, r.values]
    .map((b) => (b === undefined ? '-' : '+')).join('');
  return `${streamToken(r.stream)}|${r.rows}|${r.stride}|${r.pageTableStride ?? '-'}|${r.pageTableRows ?? '-'}|${given}`;
}

/** Where the call's buffers are: a graph replayed for other addresses must be moved first. */
function addressKey(r: NativeRunArgs): string {
  return `${bufferToken(r.scores)}|${bufferToken(r.lengths)}|${bufferToken(r.rowStarts)}|${bufferToken(r.offsets)}|`
    + `${bufferToken(r.pageTable)}|${bufferToken(r.rowToBatch)}|${bufferToken(r.pageTableStarts)}|`
    + `${bufferToken(r.out)}|${bufferToken(r.values)}`;
}
