// Random top-k problems for fuzzing: a configuration (dtype, shape, k, windows, every option and
// transform) and its scores, drawn from the generator of (seed, index) alone, so any case can be
// drawn again by itself.
import { DTYPES, RADIX_PATHS, RadixPathName, TIE_BREAKS } from '../options';
import type { ScoresArray, TopKOptions } from '../topk';
import { pageTableOperands, raggedOffsets, randomWindows } from './operands';
import { Rng, intIn, itemRng, logIntIn, pick } from './random';
import { SCORE_KINDS, ScoreKind, makeScores } from './scores';

export interface FuzzLimits {
  maxRows: number;
  maxLen: number;
  maxK: number;
}

export const FUZZ_LIMITS: Readonly<FuzzLimits> = { maxRows: 8, maxLen: 1024, maxK: 1100 };

/** What a TopK op runs a case with besides the call's options (ignored by topk()). */
export interface OpShape {
  /** At least the case's rows and stride: an op serves calls smaller than it was built for. */
  maxRows: number;
  maxLen: number;
  /** A forced radix path (radix backend only). */
  path: RadixPathName;
}

export interface FuzzCase {
  index: number;
  scores: ScoresArray;
  /** Every global option given (none left to flags or the environment), no backend; `threads` at times. */
  options: TopKOptions;
  kinds: ScoreKind[];
  op: OpShape;
}

const { floor, max, min } = Math;

const PAGE_SIZES = [1, 1, 2, 3, 8, 16, 64];

/** Case `index` of the run seeded `seed`. */
export function fuzzCase(seed: number, index: number, limits: FuzzLimits = FUZZ_LIMITS): FuzzCase {
  const rand = itemRng(seed, index);
  const coin = (p = 0.5) => rand() < p;
  const dtype = pick(rand, DTYPES);
  const rows = 1 + floor(rand() ** 2 * limits.maxRows);
  const stride = coin() ? logIntIn(rand, 1, limits.maxLen) : intIn(rand, 1, limits.maxLen);
  const k = min(limits.maxK, chooseK(rand, stride));
  const kinds = coin() ? [pick(rand, SCORE_KINDS)] : Array.from({ length: rows }, () => pick(rand, SCORE_KINDS));
  const options: TopKOptions = {
    k, rows, dtype,
    tieBreak: pick(rand, TIE_BREAKS), deterministic: coin(), sorted: coin(), values: coin(), fuse: 'none',
  };
  if (coin(0.3)) options.stride = stride;
  if (coin(0.3)) options.threads = intIn(rand, 1, 4);
  if (coin(0.7)) {
    const { rowStarts, lengths } = randomWindows(rows, stride, k, rand, { edges: 'random', wild: 0.1 });
    if (coin(0.7)) options.rowStarts = rowStarts;
    if (coin(0.8)) options.lengths = lengths;
  }
  const fuse = rand();
  if (fuse < 0.25) Object.assign(options, { fuse: 'ragged', offsets: raggedOffsets(rows, rand) });
  else if (fuse < 0.6) Object.assign(options, pageTableOperands(rows, stride, pick(rand, PAGE_SIZES), rand, coin() ? intIn(rand, 1, 4) : undefined));
  return {
    index,
    scores: makeScores(dtype, rows, stride, kinds, rand),
    options,
    kinds,
    op: { maxRows: rows + (coin(0.3) ? intIn(rand, 1, 4) : 0), maxLen: stride + (coin(0.3) ? intIn(rand, 1, 64) : 0), path: pick(rand, RADIX_PATHS) },
  };
}

/** k from 1 to above the row length: 1, near the length, past it, or anything below it. */
function chooseK(rand: Rng, stride: number): number {
  const u = rand();
  if (u < 0.1) return 1;
  if (u < 0.2) return intIn(rand, max(1, stride - 2), stride + 2);
  if (u < 0.3) return intIn(rand, stride + 1, 2 * stride + 8);
  return u < 0.65 ? logIntIn(rand, 1, stride) : intIn(rand, 1, stride);
}

/** One line naming what case `c` exercises. */
export function describeCase(c: FuzzCase): string {
  const o = c.options;
  const parts = [`${o.dtype} ${o.rows}x${c.scores.length / o.rows} k=${o.k}`, `tieBreak ${o.tieBreak}`];
  if (o.sorted) parts.push('sorted');
  if (o.deterministic) parts.push('deterministic');
  if (o.values) parts.push('values');
  if (o.stride !== undefined) parts.push('stride');
  if (o.threads !== undefined) parts.push(`threads ${o.threads}`);
  if (o.rowStarts) parts.push('rowStarts');
  if (o.lengths) parts.push('lengths');
  if (o.fuse === 'ragged') parts.push('ragged');
  if (o.fuse === 'page-table') {
    parts.push(`page-table P=${o.pageSize}`);
    if (o.rowToBatch) parts.push('rowToBatch pageTableStarts');
  }
  parts.push(`scores ${[...new Set(c.kinds)].join(',')}`);
  return parts.join(' ');
}
