// The host-array API: topk() and topkSync(). Every argument is checked here, once, naming it,
// before any native call; then one NativeHostCall goes to the CPU backend or, with its backend
// and device, to the CUDA one, which does the device memory, copies and run natively (topk(): all
// of it on a worker thread).
import { NativeHostCall } from './native';
import { NATIVE_BACKEND, nativeConfig } from './config';
import { checkDevice, cudaStatus, requireCuda } from './cuda';
import { invalidArgument } from './errors';
import { loadNative } from './loader';
import { BackendName, DType, DTYPES, FuseName, ResolvedBackend, TieBreak, chooseBackend, pickOptions } from './options';
import { INT32_MAX, checkInt, checkKeys, checkObject, checkOneOf, optionalInt, toInt32Array, toInt32ArrayAnyLength } from './validate';

export type ScoresArray = Float32Array | Uint16Array;
export type IntArrayLike = Int32Array | readonly number[];

export interface TopKOptions {
  k: number;
  rows: number;
  stride?: number;
  dtype?: DType;
  lengths?: IntArrayLike;
  rowStarts?: IntArrayLike;
  tieBreak?: TieBreak;
  deterministic?: boolean;
  sorted?: boolean;
  values?: boolean;
  backend?: BackendName;
  fuse?: FuseName;
  offsets?: IntArrayLike;
  pageTable?: IntArrayLike;
  pageTableStride?: number;
  pageSize?: number;
  rowToBatch?: IntArrayLike;
  pageTableStarts?: IntArrayLike;
  threads?: number;
  device?: number;
  /** CUDA: as TopKOpOptions.pdl (nothing but copies precede a call on its stream); the CPU backend ignores it. */
  pdl?: boolean;
}

export interface TopKResult {
  /** [rows, k]; padding slots hold -1. */
  indices: Int32Array;
  /** [rows, k] in the input dtype; padding slots hold -inf. */
  values?: Float32Array | Uint16Array;
  rows: number;
  k: number;
  /** What actually ran. */
  backend: ResolvedBackend;
}

const KEYS: readonly (keyof TopKOptions)[] = [
  'k', 'rows', 'stride', 'dtype', 'lengths', 'rowStarts', 'tieBreak', 'deterministic', 'sorted', 'values',
  'backend', 'fuse', 'offsets', 'pageTable', 'pageTableStride', 'pageSize', 'rowToBatch', 'pageTableStarts',
  'threads', 'device', 'pdl',
];

/** A fully checked call: the native host call (its config serves the CUDA backends too), the device and the backend asked for. */
interface Prepared {
  call: NativeHostCall;
  device: number;
  backend: BackendName;
}

function checkScores(scores: unknown, dtype: unknown): DType {
  if (scores instanceof Float32Array) {
    if (dtype !== undefined && dtype !== 'f32') throw invalidArgument('dtype', "'f32' (or nothing) for Float32Array scores", dtype);
    return 'f32';
  }
  if (scores instanceof Uint16Array) {
    if (dtype !== 'f16' && dtype !== 'bf16') throw invalidArgument('dtype', "'f16' or 'bf16' for Uint16Array scores", dtype);
    return dtype;
  }
  throw invalidArgument('scores', 'a Float32Array (f32) or a Uint16Array (f16/bf16 bits)', scores);
}

function prepare(scores: ScoresArray, options: TopKOptions): Prepared {
  const o = checkObject('options', options);
  checkKeys('topk options', o, KEYS);
  const rows = checkInt('rows', o.rows, 1, INT32_MAX);
  // The [rows, k] outputs are host arrays: at most INT32_MAX slots.
  const k = checkInt('k', o.k, 1, Math.max(1, Math.floor(INT32_MAX / rows)));
  const dtype = checkScores(scores, o.dtype === undefined ? undefined : checkOneOf('dtype', o.dtype, DTYPES));
  const stride = o.stride === undefined ? scores.length / rows : checkInt('stride', o.stride, 1, INT32_MAX);
  if (!Number.isInteger(stride) || stride < 1 || stride > INT32_MAX) {
    throw invalidArgument('scores', `a length that is a positive multiple of rows (${rows}) within int32 strides`, scores);
  }
  if (scores.length !== rows * stride) throw invalidArgument('scores', `length rows * stride = ${rows * stride}`, scores);
  // Not graphSafe: the process-wide graph-safe default is for TopK ops, never one-shot calls.
  const global = pickOptions(['backend', 'tieBreak', 'deterministic', 'fuse'], o);
  const perRow = (name: keyof TopKOptions) => (o[name] === undefined ? undefined : toInt32Array(name, o[name], rows));
  const call: NativeHostCall = {
    config: nativeConfig(o, { k, dtype, global, graphSafe: false, maxRows: rows, maxLen: stride }),
    rows,
    stride,
    scores,
    lengths: perRow('lengths'),
    rowStarts: perRow('rowStarts'),
    outIndices: new Int32Array(rows * k),
    threads: optionalInt('threads', o.threads, 1, 0, 4096),
  };
  const offsets = perRow('offsets');
  const rowToBatch = perRow('rowToBatch');
  const pageTableStarts = perRow('pageTableStarts');
  // Checked whatever the fuse mode, as every other argument is; used only by 'page-table'.
  const table = o.pageTable === undefined ? undefined : toInt32ArrayAnyLength('pageTable', o.pageTable);
  const givenStride = o.pageTableStride === undefined ? undefined : checkInt('pageTableStride', o.pageTableStride, 1, INT32_MAX);
  if (global.fuse === 'ragged') {
    if (offsets === undefined) throw invalidArgument('offsets', "an array of length rows with fuse 'ragged'", undefined);
    call.offsets = offsets;
  } else if (global.fuse === 'page-table') {
    if (table === undefined) throw invalidArgument('pageTable', "an int array with fuse 'page-table'", undefined);
    // The table is [batches, pageTableStride]; without rowToBatch, batches = rows.
    if (givenStride === undefined && rowToBatch !== undefined) {
      throw invalidArgument('pageTableStride', 'an integer >= 1 when rowToBatch is given', undefined);
    }
    const tableStride = givenStride ?? table.length / rows;
    if (!Number.isInteger(tableStride) || tableStride < 1 || table.length === 0 || table.length % tableStride !== 0) {
      throw invalidArgument('pageTable', `a length that is a positive multiple of ${givenStride === undefined ? `rows (${rows})` : `pageTableStride (${tableStride})`}`, o.pageTable);
    }
    Object.assign(call, { pageTable: table, pageTableStride: tableStride, rowToBatch, pageTableStarts });
  }
  if (call.config.writeValues) call.outValues = dtype === 'f32' ? new Float32Array(rows * k) : new Uint16Array(rows * k);
  return { call, device: optionalInt('device', o.device, 0, 0), backend: global.backend };
}

function result(p: Prepared, backend: ResolvedBackend): TopKResult {
  const { call } = p;
  const r: TopKResult = { indices: call.outIndices, rows: call.rows, k: call.config.k, backend };
  if (call.outValues) r.values = call.outValues;
  return r;
}

function backendOf(p: Prepared): ResolvedBackend {
  return chooseBackend(p.backend, cudaStatus);
}

/** Top-k of every row, on the calling thread. */
export function topkSync(scores: ScoresArray, options: TopKOptions): TopKResult {
  const p = prepare(scores, options);
  const backend = backendOf(p);
  if (backend === 'cpu') {
    loadNative().cpuTopk(p.call);
  } else {
    const run = requireCuda('cudaTopk', 'topkSync');
    run(p.call, NATIVE_BACKEND[backend], checkDevice('device', p.device));
  }
  return result(p, backend);
}

/**
 * Top-k of every row, off the calling thread: the CPU backend on a worker thread; a CUDA backend
 * allocates, uploads, runs and downloads on a worker thread too (through pinned staging, with
 * device memory and streams pooled for later calls). The host arrays must not change until it resolves.
 */
export async function topk(scores: ScoresArray, options: TopKOptions): Promise<TopKResult> {
  const p = prepare(scores, options);
  const backend = backendOf(p);
  if (backend === 'cpu') {
    await loadNative().cpuTopkAsync(p.call);
  } else {
    const run = requireCuda('cudaTopkAsync', 'topk');
    await run(p.call, NATIVE_BACKEND[backend], checkDevice('device', p.device));
  }
  return result(p, backend);
}

/**
 * The std::nth_element baseline on the CPU (benchmarks and `nsa-topk verify` only): the same
 * checks and outputs as topkSync with backend 'cpu'.
 */
export function baselineTopkSync(scores: ScoresArray, options: TopKOptions): TopKResult {
  const p = prepare(scores, { ...options, backend: 'cpu' });
  loadNative().cpuTopk({ ...p.call, baseline: true });
  return result(p, 'cpu');
}
