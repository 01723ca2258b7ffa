// Inputs and keys for the CLI's bench and verify: a seeded generator, the bench's score
// distributions, score encoding per dtype, and the contract's key order computed from raw bits.
import type { DType } from '../options';
import type { ScoresArray } from '../topk';

export type Rng = () => number;

// Bound once: a global looked up in a hot loop is slow inside a vm context (jest runs tests in
// one), about 100x for these loops.
const imul = Math.imul;
const log = Math.log;
const sqrt = Math.sqrt;

/** A small, fast seeded generator (mulberry32) in [0, 1). */
export function rng(seed: number): Rng {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Normal-ish: the sum of four uniforms, centered and scaled to unit variance. */
export function normal(rand: Rng): number {
  return (rand() + rand() + rand() + rand() - 2) * 1.7320508;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The bits of `x` rounded to nearest-even in `dtype` (f32: the float32 bits). */
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

export function allocScores(dtype: DType, length: number): ScoresArray {
  return dtype === 'f32' ? new Float32Array(length) : new Uint16Array(length);
}

/** The raw bits of a scores array, one entry per element. */
export function bitsOf(scores: ScoresArray): Uint32Array | Uint16Array {
  return scores instanceof Float32Array ? new Uint32Array(scores.buffer, scores.byteOffset, scores.length) : scores;
}

/** The score distributions of `nsa-topk bench` (scripts/torch_topk_bench.py draws the same ones). */
export const DISTS = ['normal', 'relu', 'equal'] as const;
export type Dist = (typeof DISTS)[number];

/** relu scores are max(0, x - RELU_SHIFT): about 0.07% of standard normal x lie above 3.2. */
const RELU_SHIFT = 3.2;

/** Float32 scratch for 16-bit fills: drawn a chunk at a time, then encoded. */
const CHUNK = 1 << 16;

/**
 * Fills `out` with fresh scores of `dist`: standard normal (Marsaglia's polar method, a true
 * normal whose tails the relu shift depends on, and about twice as fast here as four uniforms),
 * max(0, x - RELU_SHIFT) of one, or 1.0 everywhere.
 */
export function fillScores(dtype: DType, dist: Dist, out: ScoresArray, rand: Rng): void {
  if (dist === 'equal') {
    out.fill(out instanceof Float32Array ? 1 : encode(dtype, 1));
    return;
  }
  const scratch = out instanceof Float32Array ? undefined : new Float32Array(CHUNK);
  for (let base = 0; base < out.length; base += CHUNK) {
    const end = Math.min(out.length, base + CHUNK);
    const x = scratch ? scratch.subarray(0, end - base) : (out as Float32Array).subarray(base, end);
    for (let i = 0; i < x.length; i += 2) {
      let u: number, v: number, s: number;
      do {
        u = 2 * rand() - 1;
        v = 2 * rand() - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const m = sqrt((-2 * log(s)) / s);
      x[i] = u * m;
      if (i + 1 < x.length) x[i + 1] = v * m;
    }
    if (dist === 'relu') for (let i = 0; i < x.length; i++) x[i] = x[i] > RELU_SHIFT ? x[i] - RELU_SHIFT : 0;
    // encode(dtype, 0) is 0: most relu scores skip the call.
    if (scratch) for (let i = 0; i < x.length; i++) out[base + i] = x[i] === 0 ? 0 : encode(dtype, x[i]);
  }
}

/** The contract's key of raw bits: every NaN greatest, -0 == +0, otherwise numeric order. */
export function keyOf(dtype: DType, bits: number): number {
  const width = dtype === 'f32' ? 32 : 16;
  const sign = width === 32 ? 0x80000000 : 0x8000;
  const expMask = width === 32 ? 0x7f800000 : dtype === 'f16' ? 0x7c00 : 0x7f80;
  const all = width === 32 ? 0xffffffff : 0xffff;
  const magnitude = (bits & (all ^ sign)) >>> 0;
  if (magnitude > expMask) return all;
  if (bits === sign) return sign;
  return (bits & sign ? (~bits & all) : bits | sign) >>> 0;
}
