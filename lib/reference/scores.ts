// Score generators: each kind is a shape of data that has broken a top-k somewhere (tails, ties,
// plateaus, radix digits, denormals, NaN/inf/-0), drawn from a seeded generator.
import type { DType } from '../options';
import type { ScoresArray } from '../topk';
import { SPECIALS, allocScores, bitsOf, encode, signBit, specialBits } from './codec';
import { Rng, Seed, fillNormals, itemRng, toRng } from './random';

const { abs, floor, max, min } = Math;

/**
 * - normal: standard normal;
 * - relu: max(0, x - RELU_SHIFT) of a standard normal x: about 0.07% positive, the rest exactly
 *   +0, as in a ReLU indexer's rows (the k-th key lies inside the plateau);
 * - fewDistinct: -1, 0, 1 or 2, so every threshold lands inside a quarter of the row;
 * - equal: every score 1.0;
 * - lowBits: one value with its lowest 3 bits drawn, so keys differ in the last radix digit only;
 * - denormal: +-0 and the smallest subnormals of the dtype (equal to 0 where a kernel flushes them);
 * - special: normals with 30% special values (NaN of both signs and several payloads, +-inf,
 *   the largest finite and smallest subnormal of both signs, +-0), and a -0 next to a +0;
 * - sparse: 0 except about 1 in 1000 positive and 1 in 1000 negative;
 * - wideRange: standard normals each scaled by 2^e, e drawn from -40 to 40 (f16 rounds the ends
 *   to 0 and infinity): keys spread over many exponents, past any range a kernel bins finely.
 * - hotSpan: standard normals, a run of a sixteenth of the positions (at a random start) raised by
 *   HOT_SHIFT: the greatest all lie in one span, as recent tokens' scores do in an indexer's rows,
 *   so a kernel that splits a row into chunks finds them in a few chunks and none in the others
 *   (a run of `out`, or of each row of a matrix that `out` is a piece of: RowSpans).
 * - clipped: standard normals clamped at CLIP: about 2.3% tied at the greatest value, spread over
 *   the row, as scores saturated by a clamp are, so every chunk of a row holds some of the tie
 *   and the tie holds the k-th greatest.
 */
export const SCORE_KINDS = [
  'normal', 'relu', 'fewDistinct', 'equal', 'lowBits', 'denormal', 'special', 'sparse', 'wideRange', 'hotSpan', 'clipped',
] as const;
export type ScoreKind = (typeof SCORE_KINDS)[number];

/** relu scores are max(0, x - RELU_SHIFT): about 0.07% of standard normal x lie above 3.2. */
const RELU_SHIFT = 3.2;

/** hotSpan's raise: a raised score lies above an unraised one unless their normals differ by 8 (rarer than 1 in 10^8). */
export const HOT_SHIFT = 8;

/** clipped's clamp: about 2.3% of standard normals lie above 2. */
export const CLIP = 2;

/** Float32 scratch for 16-bit fills: drawn a chunk at a time, then rounded. */
const CHUNK = 1 << 16;

/**
 * Where `out` lies in a matrix of rows of `row` scores (its first score at `origin`), for kinds
 * drawn per row (hotSpan): row r's span starts where itemRng(seed, r) puts it, so a matrix filled
 * piece by piece, in any order, has one span a row.
 */
export interface RowSpans {
  origin: number;
  row: number;
  seed: number;
}

/** Fills `out` (a whole array or one row of it, or a piece of a matrix: rows) with fresh scores of `kind`. */
export function fillScores(dtype: DType, kind: ScoreKind, out: ScoresArray, rand: Rng, rows?: RowSpans): void {
  const bits = bitsOf(out);
  if (kind === 'equal') {
    bits.fill(encode(dtype, 1));
    return;
  }
  const draw = bitDrawer(dtype, kind, rand);
  if (draw) {
    for (let i = 0; i < bits.length; i++) bits[i] = draw();
    return;
  }
  // normal, relu, sparse, special, wideRange, hotSpan, clipped: standard normals, mapped, then
  // rounded to the dtype.
  const scratch = out instanceof Float32Array ? undefined : new Float32Array(min(CHUNK, out.length));
  const raise = kind === 'hotSpan' ? hotSpans(out.length, rand, rows) : undefined;
  for (let base = 0; base < out.length; base += CHUNK) {
    const end = min(out.length, base + CHUNK);
    const x = scratch ? scratch.subarray(0, end - base) : (out as Float32Array).subarray(base, end);
    fillNormals(x, rand);
    if (kind === 'relu') for (let i = 0; i < x.length; i++) x[i] = x[i] > RELU_SHIFT ? x[i] - RELU_SHIFT : 0;
    if (kind === 'wideRange') for (let i = 0; i < x.length; i++) x[i] *= 2 ** (floor(rand() * 81) - 40);
    if (kind === 'clipped') for (let i = 0; i < x.length; i++) x[i] = min(x[i], CLIP);
    if (raise) raise(base, x);
    if (kind === 'sparse') {
      for (let i = 0; i < x.length; i++) {
        const u = rand();
        x[i] = u < 0.001 ? 1 + abs(x[i]) : u < 0.002 ? -1 - abs(x[i]) : 0;
      }
    }
    // encode(dtype, 0) is 0: most relu and sparse scores skip the call.
    if (scratch) for (let i = 0; i < x.length; i++) out[base + i] = x[i] === 0 ? 0 : encode(dtype, x[i]);
    if (kind === 'special') {
      for (let i = base; i < end; i++) if (rand() < 0.3) bits[i] = specialBits(dtype, SPECIALS[floor(rand() * SPECIALS.length)]);
    }
  }
  if (kind === 'special' && out.length >= 2) {
    const j = floor(rand() * (out.length - 1));
    bits[j] = specialBits(dtype, 'negZero');
    bits[j + 1] = specialBits(dtype, 'posZero');
  }
}

/**
 * hotSpan's raise of the scores x at `base` of an array of `length`: one span of length / 16 at a
 * start drawn from `rand`, or one of row / 16 in each row of `rows`.
 */
function hotSpans(length: number, rand: Rng, rows?: RowSpans): (base: number, x: Float32Array) => void {
  const add = (x: Float32Array, lo: number, hi: number) => {
    for (let i = max(0, lo); i < min(x.length, hi); i++) x[i] += HOT_SHIFT;
  };
  if (!rows) {
    const hot = floor(length / 16), start = floor(rand() * (length - hot + 1));
    return (base, x) => add(x, start - base, start + hot - base);
  }
  const { origin, row, seed } = rows, hot = floor(row / 16);
  return (base, x) => {
    const from = origin + base;
    for (let r = floor(from / row); r * row < from + x.length; r++) {
      const start = r * row + floor(itemRng(seed, r)() * (row - hot + 1));
      add(x, start - from, start + hot - from);
    }
  };
}

/** The kinds drawn straight as bits, one element at a time. */
function bitDrawer(dtype: DType, kind: ScoreKind, rand: Rng): (() => number) | undefined {
  if (kind === 'fewDistinct') {
    const levels = [-1, 0, 1, 2].map((x) => encode(dtype, x));
    return () => levels[floor(rand() * 4)];
  }
  if (kind === 'lowBits') {
    const base = encode(dtype, 8 * rand() - 4) & ~7;
    return () => base | floor(rand() * 8);
  }
  if (kind === 'denormal') {
    const sign = signBit(dtype);
    return () => (rand() < 0.5 ? sign : 0) | floor(rand() * 64);
  }
  return undefined;
}

/** A [rows, stride] matrix whose row r is of kinds[r % kinds.length]. */
export function makeScores(dtype: DType, rows: number, stride: number, kinds: ScoreKind | readonly ScoreKind[], seed: Seed): ScoresArray {
  const list = typeof kinds === 'string' ? [kinds] : kinds;
  const scores = allocScores(dtype, rows * stride);
  const rand = toRng(seed);
  for (let r = 0; r < rows; r++) fillScores(dtype, list[r % list.length], scores.subarray(r * stride, (r + 1) * stride), rand);
  return scores;
}
