// Rows that put the per-row CUDA kernels' sorted output at its edges. Those kernels sort a row's
// selections by bins over their key range (kMaxK bins; a bin of up to 32 entries ranked within
// it), fill the least key's bin in stage order where it holds only that key, and send any other
// bin of more than 32 to a radix sort (csrc/cuda/block/block_stage_write.cuh). Shared by the GPU
// tests and `nsa-topk verify`.
import { bitsOf } from './codec';
import { rng } from './random';
import { makeScores } from './scores';

/** The rows' length: one register CTA's row, at k = 2048 a quarter of it selected. */
export const SORT_EDGE_LENGTH = 8192;
// Each row's base scores, by kind (row r: r % SORT_EDGE_KINDS); most kinds rewrite them below.
const KINDS = ['normal', 'relu', 'equal', 'normal', 'normal', 'normal', 'fewDistinct', 'normal', 'normal'] as const;
/** The row kinds: a call of this many rows or more meets each. */
export const SORT_EDGE_KINDS = KINDS.length;

const ONE = 0x3f800000;  // 1.0: keys above it by bits; 0.5 (below every one of them) fills the rest

/**
 * f32 rows of SORT_EDGE_LENGTH, row r of kind r % SORT_EDGE_KINDS: normal (the bins), ReLU-like
 * and all equal (the least key's bin), a least bin of ~1950 unequal keys (bins 2^16 keys wide), a
 * middle bin of 33 and one of 32 distinct keys (bins 1024 keys wide, k = 2048), four values, keys
 * within 3000 of each other (a bin a key), and 342 values of 24 scores each (bins of 24 equal keys,
 * each ranked by its stage index over the whole bin). Positions are shuffled, so stage order is not
 * key order.
 */
export function sortEdgeScores(rows: number, seed: number): Float32Array {
  const length = SORT_EDGE_LENGTH;
  const scores = makeScores('f32', rows, length, Array.from({ length: rows }, (_, r) => KINDS[r % SORT_EDGE_KINDS]), seed) as Float32Array;
  const bits = bitsOf(scores) as Uint32Array;
  const next = rng(seed + 1);
  for (let r = 0; r < rows; r++) {
    const row = bits.subarray(r * length, (r + 1) * length);
    const kind = r % SORT_EDGE_KINDS;
    if (kind === 3) row.forEach((_, j) => { row[j] = j < 100 ? 0x447a0000 - 0x10000 * j : ONE + j; });
    if (kind === 4 || kind === 5) {
      const extra = kind === 4 ? 32 : 31;  // bin 1500 holds extra + 1 distinct keys
      row.fill(0x3f000000);
      for (let j = 0; j < 2048 - extra; j++) row[j] = ONE + 1024 * j;
      for (let e = 0; e < extra; e++) row[2048 - extra + e] = ONE + 1024 * 1500 + 1 + e;
    }
    if (kind === 7) row.forEach((_, j) => { row[j] = ONE + Math.floor(next() * 3000); });
    if (kind === 8) row.forEach((_, j) => { row[j] = ONE + Math.floor(j / 24); });
    for (let j = length - 1; j > 0; j--) {
      const i = Math.floor(next() * (j + 1));
      [row[i], row[j]] = [row[j], row[i]];
    }
  }
  return scores;
}
