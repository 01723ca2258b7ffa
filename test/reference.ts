// The tests' own reference, independent of the package: a plain sort-based top-k written straight
// from CONTRACT.md, with its own decoding of f16/bf16 and its own key order (numbers, not bits).
// It imports nothing from lib/: reference.test.ts holds the package's checker, codecs and key
// order (lib/reference) to it, and they hold every backend to the contract.

// Jest runs tests in a vm context where every global lookup (Math, Number) is slow; module-level
// aliases avoid it.
const { floor, max, min } = Math;
const { MAX_VALUE, POSITIVE_INFINITY: INF, isNaN } = Number;

export type DType = 'f32' | 'f16' | 'bf16';
export type TieBreak = 'none' | 'small' | 'large';
export type Scores = Float32Array | Uint16Array;
export type Ints = Int32Array | readonly number[];

export const DTYPES: readonly DType[] = ['f32', 'f16', 'bf16'];
export const TIE_BREAKS: readonly TieBreak[] = ['none', 'small', 'large'];

/** The subset of the library's options that decide what a call returns. */
export interface RefOptions {
  k: number;
  rows: number;
  stride?: number;
  dtype?: DType;
  lengths?: Ints;
  rowStarts?: Ints;
  tieBreak?: TieBreak;
  deterministic?: boolean;
  sorted?: boolean;
  values?: boolean;
  fuse?: 'none' | 'ragged' | 'page-table';
  offsets?: Ints;
  pageTable?: Ints;
  pageTableStride?: number;
  pageSize?: number;
  rowToBatch?: Ints;
  pageTableStarts?: Ints;
}

export interface RefResult {
  indices: Int32Array;
  values?: Scores;
}

// ---------------------------------------------------------------------------------------------
// Bits and keys

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Raw bits of every element (f32 through a Uint32Array view, so NaN payloads survive). */
export function bitsOf(scores: Scores): Uint32Array | Uint16Array {
  return scores instanceof Float32Array
    ? new Uint32Array(scores.buffer, scores.byteOffset, scores.length)
    : scores;
}

/** The bytes of any typed array, for byte-for-byte comparisons. */
export function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** The first byte at which two arrays differ (-1: identical), cheap even for huge arrays. */
export function diffAt(a: ArrayBufferView, b: ArrayBufferView): number {
  const x = bytesOf(a);
  const y = bytesOf(b);
  if (x.length !== y.length) return min(x.length, y.length);
  if (Buffer.compare(x, y) === 0) return -1;
  return x.findIndex((v, i) => v !== y[i]);
}

export function decodeF16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return mant ? NaN : sign * INF;
  if (exp === 0) return sign * mant * 2 ** -24;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

export function decodeBf16(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

export function decode(dtype: DType, scores: Scores, i: number): number {
  if (dtype === 'f32') return scores[i];
  return dtype === 'f16' ? decodeF16(scores[i]) : decodeBf16(scores[i]);
}

/**
 * The contract's order as plain numbers: every NaN is greatest, -0 equals +0, otherwise numeric.
 * No f16/bf16/f32 value comes near MAX_VALUE, so +inf can sit just below NaN.
 */
export function keyOf(x: number): number {
  if (isNaN(x)) return INF;
  if (x === INF) return MAX_VALUE;
  return x === 0 ? 0 : x;
}

function inferDType(scores: Scores, dtype?: DType): DType {
  if (dtype) return dtype;
  if (scores instanceof Float32Array) return 'f32';
  throw new Error('reference: dtype is required for Uint16Array scores');
}

export const NEG_INF_BITS: Record<DType, number> = { f32: 0xff800000, f16: 0xfc00, bf16: 0xff80 };

// ---------------------------------------------------------------------------------------------
// The reference

function strideOf(scores: Scores, o: RefOptions): number {
  return o.stride ?? scores.length / o.rows;
}

/** The contract's clamping of row r's window into [0, stride]. */
function windowOf(o: RefOptions, stride: number, r: number): { start: number; length: number } {
  const start = min(max(o.rowStarts ? o.rowStarts[r] : 0, 0), stride);
  const length = min(max(o.lengths ? o.lengths[r] : stride - start, 0), stride - start);
  return { start, length };
}

/**
 * The contract's fused transform of position j of row r, -1 where the page table has no entry
 * (with pageSize 1 the paged formula is the plain lookup: j's page is j, its offset 0).
 */
export function transformOf(o: RefOptions, r: number, j: number): number {
  switch (o.fuse ?? 'none') {
    case 'none': return j;
    case 'ragged': return o.offsets![r] + j;
  }
  const table = o.pageTable!;
  const size = o.pageSize ?? 1;
  const cols = o.pageTableStride ?? table.length / o.rows;
  const batch = o.rowToBatch?.[r] ?? r;
  const p = j + (o.pageTableStarts?.[r] ?? 0);
  const [page, within] = [floor(p / size), p % size];
  const found = batch >= 0 && (batch + 1) * cols <= table.length && p >= 0 && page < cols;
  return found ? table[batch * cols + page] * size + within : -1;
}

/** Row r's window and its keys, index j relative to the window start. */
export function rowKeys(scores: Scores, o: RefOptions, r: number): { start: number; keys: Float64Array } {
  const dtype = inferDType(scores, o.dtype);
  const stride = strideOf(scores, o);
  const w = windowOf(o, stride, r);
  const keys = new Float64Array(w.length);
  for (let j = 0; j < w.length; j++) keys[j] = keyOf(decode(dtype, scores, r * stride + w.start + j));
  return { start: r * stride + w.start, keys };
}

/** The contract's output order of a selected set: by key descending, ties by j (large: j descending). */
export function sortByKey(js: number[], keys: Float64Array, tieBreak: TieBreak): number[] {
  const dir = tieBreak === 'large' ? -1 : 1;
  return js.sort((a, b) => (keys[a] !== keys[b] ? (keys[a] > keys[b] ? -1 : 1) : dir * (a - b)));
}

/**
 * The selected positions of one row, in the order the options ask for (ascending j when the
 * contract leaves the order free). With tieBreak 'none' it takes the smallest tied positions.
 */
export function selectRow(keys: Float64Array, k: number, tieBreak: TieBreak, sorted: boolean): number[] {
  const n = keys.length;
  let js: number[];
  if (n <= k) {
    js = Array.from({ length: n }, (_, j) => j);
  } else {
    const threshold = Float64Array.from(keys).sort()[n - k];
    js = [];
    const tied: number[] = [];
    for (let j = 0; j < n; j++) {
      if (keys[j] > threshold) js.push(j);
      else if (keys[j] === threshold) tied.push(j);
    }
    const need = k - js.length;
    js.push(...(tieBreak === 'large' ? tied.slice(tied.length - need) : tied.slice(0, need)));
    js.sort((a, b) => a - b);
  }
  return sorted ? sortByKey(js, keys, tieBreak) : js;
}

export function referenceTopk(scores: Scores, o: RefOptions): RefResult {
  const dtype = inferDType(scores, o.dtype);
  const indices = new Int32Array(o.rows * o.k).fill(-1);
  const values = o.values ? (dtype === 'f32' ? new Float32Array(o.rows * o.k) : new Uint16Array(o.rows * o.k)) : undefined;
  const valueBits = values ? bitsOf(values) : undefined;
  valueBits?.fill(NEG_INF_BITS[dtype]);
  const inBits = bitsOf(scores);
  for (let r = 0; r < o.rows; r++) {
    const { start, keys } = rowKeys(scores, o, r);
    const js = selectRow(keys, o.k, o.tieBreak ?? 'none', o.sorted ?? false);
    js.forEach((j, i) => {
      indices[r * o.k + i] = transformOf(o, r, j);
      if (valueBits) valueBits[r * o.k + i] = inBits[start + j];
    });
  }
  return { indices, values };
}
