// Scores as raw bits per dtype: allocation, the bits view, rounding a number into a dtype, the
// special values, and the contract's key order, which is computed from the bits alone.
import { invalidArgument } from '../errors';
import type { DType } from '../options';
import type { ScoresArray } from '../topk';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function allocScores(dtype: DType, length: number): ScoresArray {
  return dtype === 'f32' ? new Float32Array(length) : new Uint16Array(length);
}

/** The raw bits of a scores array, one entry per element (f32 through a view: NaN payloads survive). */
export function bitsOf(scores: ScoresArray): Uint32Array | Uint16Array {
  return scores instanceof Float32Array ? new Uint32Array(scores.buffer, scores.byteOffset, scores.length) : scores;
}

/** The dtype of `scores` as a call reads it: given, or f32 for a Float32Array (16-bit bits need it given). */
export function dtypeOf(scores: ScoresArray, dtype?: DType): DType {
  if (dtype !== undefined) return dtype;
  if (scores instanceof Float32Array) return 'f32';
  throw invalidArgument('dtype', "'f16' or 'bf16' for Uint16Array scores", dtype);
}

/** The bits of `x` rounded to nearest-even in `dtype` (f32: the float32 bits; NaN: a quiet NaN). */
export function encode(dtype: DType, x: number): number {
  f32[0] = x;
  const b = u32[0];
  if (dtype === 'f32') return b;
  if (dtype === 'bf16') {
    if ((b & 0x7fffffff) > 0x7f800000) return (b >>> 16) | 0x40;
    return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
  }
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  let shift = 13;
  let h = (e << 10) | (mant >>> 13);
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    shift = 14 - e;
    h = mant >>> shift;
  }
  // Round to nearest even; a carry into the exponent is the correct result (up to inf).
  const rem = mant & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && (h & 1))) h++;
  return sign | h;
}

/** Values every backend must order right, as bits of each dtype. */
const SPECIAL_BITS = {
  nan: { f32: 0x7fc00000, f16: 0x7e00, bf16: 0x7fc0 },
  negNan: { f32: 0xffc00000, f16: 0xfe00, bf16: 0xffc0 },
  nanPayload: { f32: 0x7f800001, f16: 0x7c01, bf16: 0x7f81 },
  negNanPayload: { f32: 0xff912345, f16: 0xfd55, bf16: 0xff85 },
  posInf: { f32: 0x7f800000, f16: 0x7c00, bf16: 0x7f80 },
  negInf: { f32: 0xff800000, f16: 0xfc00, bf16: 0xff80 },
  posMax: { f32: 0x7f7fffff, f16: 0x7bff, bf16: 0x7f7f },
  negMax: { f32: 0xff7fffff, f16: 0xfbff, bf16: 0xff7f },
  posTiny: { f32: 0x00000001, f16: 0x0001, bf16: 0x0001 },
  negTiny: { f32: 0x80000001, f16: 0x8001, bf16: 0x8001 },
  posZero: { f32: 0, f16: 0, bf16: 0 },
  negZero: { f32: 0x80000000, f16: 0x8000, bf16: 0x8000 },
} as const satisfies Record<string, Record<DType, number>>;

export type Special = keyof typeof SPECIAL_BITS;
export const SPECIALS = Object.keys(SPECIAL_BITS) as readonly Special[];

export function specialBits(dtype: DType, s: Special): number {
  return SPECIAL_BITS[s][dtype];
}

/** The sign bit of a dtype's bits. */
export const signBit = (dtype: DType): number => (dtype === 'f32' ? 0x80000000 : 0x8000);

/**
 * The contract's key of raw bits, as an unsigned integer in the key order: every NaN (any payload,
 * either sign) greatest, -0 equal to +0, otherwise numeric order.
 */
export function keyOf(dtype: DType, bits: number): number {
  const sign = signBit(dtype);
  const all = dtype === 'f32' ? 0xffffffff : 0xffff;
  const magnitude = (bits & (all ^ sign)) >>> 0;
  if (magnitude > SPECIAL_BITS.posInf[dtype]) return all;
  if (magnitude === 0) return sign;
  return (bits & sign ? ~bits & all : bits | sign) >>> 0;
}
