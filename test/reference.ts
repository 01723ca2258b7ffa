// The independent reference the suites check every backend against: a plain sort-based top-k
// written straight from CONTRACT.md (it imports nothing from lib/), seeded data generators, and
// a checker that knows which parts of an output the contract leaves free.

// Jest runs tests in a vm context where every global lookup (Math, Number) is slow enough to
// make generating millions of scores take minutes; module-level aliases avoid it.
const { PI, abs, cos, floor, imul, log, max, min, sqrt } = Math;
const { MAX_VALUE, POSITIVE_INFINITY: INF, isInteger, isNaN } = Number;

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

/** Round-to-nearest-even f16 bits of x (NaN becomes the canonical quiet NaN). */
export function encodeF16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | (mant ? 0x7e00 : 0x7c00);
  const e = exp - 112;
  if (e >= 31) return sign | 0x7c00;
  let shift = 13;
  let h: number;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    shift = 14 - e;
    h = mant >>> shift;
  } else {
    h = (e << 10) | (mant >>> 13);
  }
  const rem = mant & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && h & 1)) h++; // a carry into the exponent is still correct
  return sign | h;
}

/** bf16 bits of x by truncation: any valid bf16 does for test data, and NaN stays NaN. */
export function encodeBf16(x: number): number {
  f32[0] = x;
  return u32[0] >>> 16;
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

export function inferDType(scores: Scores, dtype?: DType): DType {
  if (dtype) return dtype;
  if (scores instanceof Float32Array) return 'f32';
  throw new Error('reference: dtype is required for Uint16Array scores');
}

export const NEG_INF_BITS: Record<DType, number> = { f32: 0xff800000, f16: 0xfc00, bf16: 0xff80 };

// ---------------------------------------------------------------------------------------------
// The reference

export function strideOf(scores: Scores, o: RefOptions): number {
  return o.stride ?? scores.length / o.rows;
}

/** The contract's clamping of row r's window into [0, stride]. */
export function windowOf(o: RefOptions, stride: number, r: number): { start: number; length: number } {
  const start = min(max(o.rowStarts ? o.rowStarts[r] : 0, 0), stride);
  const length = min(max(o.lengths ? o.lengths[r] : stride - start, 0), stride - start);
  return { start, length };
}

/** The fused transform of a selected position j of row r (-1 where the page table has no entry). */
export function transformOf(o: RefOptions, r: number, j: number): number {
  if (o.fuse === 'ragged') return o.offsets![r] + j;
  if (o.fuse !== 'page-table') return j;
  const table = o.pageTable!;
  const tableStride = o.pageTableStride ?? table.length / o.rows;
  const batches = table.length / tableStride;
  const pageSize = o.pageSize ?? 1;
  const b = o.rowToBatch ? o.rowToBatch[r] : r;
  const p = j + (o.pageTableStarts ? o.pageTableStarts[r] : 0);
  const page = floor(p / pageSize);
  if (b < 0 || b >= batches || p < 0 || page >= tableStride) return -1;
  const entry = table[b * tableStride + page];
  return pageSize === 1 ? entry : entry * pageSize + (p % pageSize);
}

/** Row r's keys, index j relative to the window start. */
function rowKeys(scores: Scores, dtype: DType, start: number, length: number): Float64Array {
  const keys = new Float64Array(length);
  for (let j = 0; j < length; j++) keys[j] = keyOf(decode(dtype, scores, start + j));
  return keys;
}

/** The contract's output order of a selected set: by key descending, ties by j (large: j descending). */
function sortByKey(js: number[], keys: Float64Array, tieBreak: TieBreak): number[] {
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
  const stride = strideOf(scores, o);
  const indices = new Int32Array(o.rows * o.k).fill(-1);
  const values = o.values ? (dtype === 'f32' ? new Float32Array(o.rows * o.k) : new Uint16Array(o.rows * o.k)) : undefined;
  const valueBits = values ? bitsOf(values) : undefined;
  valueBits?.fill(NEG_INF_BITS[dtype]);
  const inBits = bitsOf(scores);
  for (let r = 0; r < o.rows; r++) {
    const w = windowOf(o, stride, r);
    const keys = rowKeys(scores, dtype, r * stride + w.start, w.length);
    const js = selectRow(keys, o.k, o.tieBreak ?? 'none', o.sorted ?? false);
    js.forEach((j, i) => {
      indices[r * o.k + i] = transformOf(o, r, j);
      if (valueBits) valueBits[r * o.k + i] = inBits[r * stride + w.start + j];
    });
  }
  return { indices, values };
}

// ---------------------------------------------------------------------------------------------
// The checker

/**
 * Everything wrong with `actual` under the contract, at most `limit` messages (empty: correct).
 * - tieBreak small/large: the selected set equals the reference's exactly;
 * - tieBreak none: indices distinct, in the window, and their keys are the reference's multiset;
 * - sorted: key descending, ties by j (large: descending); deterministic unsorted: ascending j;
 *   padding (-1 / -inf) last in both; unordered: any order;
 * - values: the bits of the score at each selected position, -inf bits on padding.
 */
export function checkTopk(actual: RefResult, scores: Scores, o: RefOptions, limit = 5): string[] {
  const errors: string[] = [];
  const dtype = inferDType(scores, o.dtype);
  const stride = strideOf(scores, o);
  const tieBreak = o.tieBreak ?? 'none';
  const ordered = (o.sorted ?? false) || (o.deterministic ?? false);
  const inBits = bitsOf(scores);
  if (actual.indices.length !== o.rows * o.k) return [`indices has length ${actual.indices.length}, expected ${o.rows * o.k}`];
  if (o.values && actual.values?.length !== o.rows * o.k) return [`values missing or of length ${actual.values?.length}`];
  const outBits = o.values && actual.values ? bitsOf(actual.values) : undefined;

  for (let r = 0; r < o.rows && errors.length < limit; r++) {
    const fail = (msg: string) => { if (errors.length < limit) errors.push(`row ${r}: ${msg}`); };
    const w = windowOf(o, stride, r);
    const keys = rowKeys(scores, dtype, r * stride + w.start, w.length);
    const expected = selectRow(keys, o.k, tieBreak, false);
    const row = Array.from(actual.indices.subarray(r * o.k, (r + 1) * o.k));
    const inverse = inverseTransform(o, r, w.length);
    const js: number[] = [];
    let paddingSeen = false;
    let ok = true;
    row.forEach((out, i) => {
      if (out === -1) {
        paddingSeen = true;
        if (outBits && outBits[r * o.k + i] !== NEG_INF_BITS[dtype]) fail(`padding slot ${i} value bits ${hex(outBits[r * o.k + i])}`);
        return;
      }
      const j = inverse(out);
      if (j === undefined) { fail(`slot ${i} holds ${out}, no position in the window maps to it`); ok = false; return; }
      if (ordered && paddingSeen) { fail(`slot ${i} follows padding`); ok = false; }
      js.push(j);
      if (outBits && outBits[r * o.k + i] !== inBits[r * stride + w.start + j]) {
        fail(`slot ${i} (j=${j}) value bits ${hex(outBits[r * o.k + i])}, score bits ${hex(inBits[r * stride + w.start + j])}`);
      }
    });
    if (!ok) continue;
    if (new Set(js).size !== js.length) { fail(`duplicate positions ${summary(js)}`); continue; }
    if (js.length !== expected.length) { fail(`${js.length} positions selected, expected ${expected.length}`); continue; }
    if (tieBreak === 'none') {
      const got = Float64Array.from(js, (j) => keys[j]).sort();
      const want = Float64Array.from(expected, (j) => keys[j]).sort();
      const at = got.findIndex((key, i) => key !== want[i]);
      if (at >= 0) { fail(`selected keys differ from the reference at rank ${at}: ${got[at]} vs ${want[at]}`); continue; }
    } else {
      const got = [...js].sort((a, b) => a - b);
      const at = got.findIndex((j, i) => j !== expected[i]);
      if (at >= 0) { fail(`selected set differs (tieBreak ${tieBreak}) at rank ${at}: j=${got[at]} vs ${expected[at]}`); continue; }
    }
    if (!ordered) continue;
    const want = o.sorted ? sortByKey([...js], keys, tieBreak) : [...js].sort((a, b) => a - b);
    const at = js.findIndex((j, i) => j !== want[i]);
    if (at >= 0) fail(`order: slot ${at} holds j=${js[at]}, expected j=${want[at]} (${o.sorted ? 'sorted' : 'deterministic'})`);
  }
  return errors;
}

/** Maps an output index back to its position j in row r's window (undefined: no such position). */
function inverseTransform(o: RefOptions, r: number, length: number): (out: number) => number | undefined {
  const inRange = (j: number) => (isInteger(j) && j >= 0 && j < length ? j : undefined);
  if (!o.fuse || o.fuse === 'none') return inRange;
  if (o.fuse === 'ragged') return (out) => inRange(out - o.offsets![r]);
  const map = new Map<number, number>();
  for (let j = 0; j < length; j++) {
    const out = transformOf(o, r, j);
    if (map.has(out)) throw new Error(`test setup: page table of row ${r} maps two positions to ${out}`);
    map.set(out, j);
  }
  return (out) => map.get(out);
}

function hex(x: number): string {
  return '0x' + x.toString(16);
}

function summary(xs: number[]): string {
  return xs.length > 12 ? `[${xs.slice(0, 12).join(', ')}, ...]` : `[${xs.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------
// Generators (seeded, so a failure reproduces)

export type Rng = () => number;

/** mulberry32: a tiny seeded uniform [0, 1) generator. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normal(rand: Rng): number {
  return sqrt(-2 * log(1 - rand())) * cos(2 * PI * rand());
}

export type RowKind = 'normal' | 'relu' | 'equal' | 'special' | 'fewDistinct' | 'sparse';
export const ROW_KINDS: readonly RowKind[] = ['normal', 'relu', 'equal', 'special', 'fewDistinct', 'sparse'];

/** A special value as raw bits of each dtype. */
const SPECIAL_BITS: Record<string, Record<DType, number>> = {
  nan: { f32: 0x7fc00000, f16: 0x7e00, bf16: 0x7fc0 },
  negNan: { f32: 0xffc00000, f16: 0xfe00, bf16: 0xffc0 },
  nanPayload: { f32: 0x7f800001, f16: 0x7c01, bf16: 0x7f81 },
  negNanPayload: { f32: 0xff912345, f16: 0xfd55, bf16: 0xff85 },
  posInf: { f32: 0x7f800000, f16: 0x7c00, bf16: 0x7f80 },
  negInf: { f32: 0xff800000, f16: 0xfc00, bf16: 0xff80 },
  posZero: { f32: 0, f16: 0, bf16: 0 },
  negZero: { f32: 0x80000000, f16: 0x8000, bf16: 0x8000 },
};
export type Special = keyof typeof SPECIAL_BITS;
const SPECIALS = Object.keys(SPECIAL_BITS) as Special[];

export function specialBits(dtype: DType, s: Special): number {
  return SPECIAL_BITS[s][dtype];
}

/** An empty [rows, stride] scores array of dtype. */
export function allocScores(dtype: DType, length: number): Scores {
  return dtype === 'f32' ? new Float32Array(length) : new Uint16Array(length);
}

/** Writes number x at i in dtype's encoding. */
export function setNumber(dtype: DType, scores: Scores, i: number, x: number): void {
  if (dtype === 'f32') scores[i] = x;
  else scores[i] = dtype === 'f16' ? encodeF16(x) : encodeBf16(x);
}

export function setSpecial(dtype: DType, scores: Scores, i: number, s: Special): void {
  bitsOf(scores)[i] = specialBits(dtype, s);
}

/**
 * Fills elements [offset, offset + length) with one row of `kind`:
 * - normal: N(0, 1);
 * - relu: max(0, N(0,1) - 0.5), long runs of exact 0.0 (about 70 %);
 * - equal: every element 1.5;
 * - special: normals with NaN of both signs and payloads, +-inf, -0.0 next to +0.0;
 * - fewDistinct: 4 distinct values, so every threshold lands inside a plateau;
 * - sparse: exact 0.0 except about 1 in 1000 (positive) and 1 in 1000 (negative), so for any k
 *   above the few positives the threshold is 0.0 and the tied plateau is almost the whole row.
 */
export function fillRow(dtype: DType, scores: Scores, offset: number, length: number, kind: RowKind, rand: Rng): void {
  for (let j = 0; j < length; j++) {
    const i = offset + j;
    if (kind === 'normal') setNumber(dtype, scores, i, normal(rand));
    else if (kind === 'relu') setNumber(dtype, scores, i, max(0, normal(rand) - 0.5));
    else if (kind === 'equal') setNumber(dtype, scores, i, 1.5);
    else if (kind === 'fewDistinct') setNumber(dtype, scores, i, floor(rand() * 4) - 1);
    else if (kind === 'sparse') {
      const u = rand();
      setNumber(dtype, scores, i, u < 0.001 ? 1 + abs(normal(rand)) : u < 0.002 ? -1 - abs(normal(rand)) : 0);
    }
    else if (rand() < 0.3) setSpecial(dtype, scores, i, SPECIALS[floor(rand() * SPECIALS.length)]);
    else setNumber(dtype, scores, i, normal(rand));
  }
  if (kind === 'special' && length >= 2) {
    // Guarantee the adjacent -0.0 / +0.0 pair the contract calls equal.
    const j = floor(rand() * (length - 1));
    setSpecial(dtype, scores, offset + j, 'negZero');
    setSpecial(dtype, scores, offset + j + 1, 'posZero');
  }
}

/** A [rows, stride] matrix whose row r is of kinds[r % kinds.length]. */
export function makeScores(dtype: DType, rows: number, stride: number, kinds: RowKind | readonly RowKind[], seed: number): Scores {
  const list = typeof kinds === 'string' ? [kinds] : kinds;
  const scores = allocScores(dtype, rows * stride);
  const rand = rng(seed);
  for (let r = 0; r < rows; r++) fillRow(dtype, scores, r * stride, stride, list[r % list.length], rand);
  return scores;
}

/** Random ints in [lo, hi], one per row. */
export function randomInts(rows: number, lo: number, hi: number, seed: number): Int32Array {
  const rand = rng(seed);
  return Int32Array.from({ length: rows }, () => lo + floor(rand() * (hi - lo + 1)));
}

/**
 * A page table for `batches` batches whose entries are a permutation of distinct page ids, so
 * the transform is injective and the checker can map outputs back to positions.
 */
export function makePageTable(batches: number, pagesPerBatch: number, seed: number): Int32Array {
  const rand = rng(seed);
  const ids = Int32Array.from({ length: batches * pagesPerBatch }, (_, i) => i + 7);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = floor(rand() * (i + 1));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return ids;
}
