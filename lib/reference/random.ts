// Seeded randomness for generated inputs: every case, score and operand is drawn from one of these
// generators, so a seed reproduces it exactly.

// Bound once: a global looked up in a hot loop is slow inside a vm context (jest runs tests in
// one), about 100x for these loops.
const { floor, imul, log, min, sqrt } = Math;

export type Rng = () => number;

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

/** A seed, or a generator to go on drawing from. */
export type Seed = number | Rng;

export const toRng = (seed: Seed): Rng => (typeof seed === 'number' ? rng(seed) : seed);

/**
 * The generator of item `index` of a run seeded with `seed`: mixed (murmur3's finalizer) so that
 * neighbouring seeds and indices give unrelated streams, and any item can be drawn alone.
 */
export function itemRng(seed: number, index: number): Rng {
  let h = (imul(seed ^ 0x9e3779b9, 0x85ebca6b) + imul(index + 1, 0xc2b2ae35)) >>> 0;
  h = imul(h ^ (h >>> 16), 0x85ebca6b);
  h = imul(h ^ (h >>> 13), 0xc2b2ae35);
  return rng(h ^ (h >>> 16));
}

/** An integer in [lo, hi]. */
export const intIn = (rand: Rng, lo: number, hi: number): number => lo + floor(rand() * (hi - lo + 1));

export const pick = <T>(rand: Rng, list: readonly T[]): T => list[floor(rand() * list.length)];

/** An integer in [lo, hi], log-uniform: small values as likely as large ones. */
export const logIntIn = (rand: Rng, lo: number, hi: number): number => min(hi, floor(lo * (hi / lo + 1) ** rand()));

/** `length` integers in [lo, hi]. */
export function randomInts(length: number, lo: number, hi: number, seed: Seed): Int32Array {
  const rand = toRng(seed);
  return Int32Array.from({ length }, () => intIn(rand, lo, hi));
}

/**
 * Fills `x` with standard normals: Marsaglia's polar method, a true normal (the relu scores depend
 * on its tail above 3.2) and about twice as fast here as four summed uniforms.
 */
export function fillNormals(x: Float32Array, rand: Rng): void {
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
}
