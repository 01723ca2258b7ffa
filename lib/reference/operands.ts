// The operands of a call besides the scores: windows (row starts and lengths) and the fused
// transforms' offsets and page tables, drawn so that every edge the contract names comes up.
import type { TopKOptions } from '../topk';
import { INT32_MAX } from '../validate';
import { Rng, Seed, intIn, pick, randomInts, toRng } from './random';

const { ceil, floor, max, min } = Math;

/** The window lengths around k that paths and tie handling turn on: 0, 1, k - 1, k, k + 1. */
export const edgeLengths = (k: number): number[] => [0, 1, max(k - 1, 0), k, k + 1];

/** Starts and lengths outside the row, which the contract clamps into it. */
const wildValues = (stride: number) => [-1, -7, stride + 1, 2 * stride + 5, INT32_MAX, -INT32_MAX - 1];

export interface WindowOptions {
  /** Which rows take an edge length (or the whole rest of the row): the first six in turn, or any row half the time. */
  edges?: 'first' | 'random';
  /** The chance that a row's start or length lies outside the row. */
  wild?: number;
}

/**
 * Row starts and lengths: rows with an edge length at a random start, and random windows (start in
 * the first quarter of the row, any length that fits).
 */
export function randomWindows(rows: number, stride: number, k: number, seed: Seed, { edges = 'first', wild = 0 }: WindowOptions = {}): { rowStarts: Int32Array; lengths: Int32Array } {
  const rand = toRng(seed);
  const rowStarts = new Int32Array(rows);
  const lengths = new Int32Array(rows);
  const edgeList = [...edgeLengths(k), stride];
  for (let r = 0; r < rows; r++) {
    const edge = edges === 'first' ? (r < edgeList.length ? edgeList[r] : undefined) : rand() < 0.5 ? pick(rand, edgeList) : undefined;
    if (edge !== undefined) {
      lengths[r] = min(edge, stride);
      rowStarts[r] = intIn(rand, 0, stride - lengths[r]);
    } else {
      rowStarts[r] = intIn(rand, 0, floor(stride / 4));
      lengths[r] = intIn(rand, 0, stride - rowStarts[r]);
    }
    if (rand() < wild) (rand() < 0.5 ? rowStarts : lengths)[r] = pick(rand, wildValues(stride));
  }
  return { rowStarts, lengths };
}

/** Ragged offsets: where each row's keys start in a flat KV cache. */
export const raggedOffsets = (rows: number, seed: Seed): Int32Array => randomInts(rows, 0, 1 << 20, seed);

/**
 * A [batches, pagesPerBatch] page table of distinct page ids (a shuffled range), so the transform
 * maps each window one-to-one and an output index tells which position it came from.
 */
export function makePageTable(batches: number, pagesPerBatch: number, seed: Seed): Int32Array {
  const rand = toRng(seed);
  const ids = Int32Array.from({ length: batches * pagesPerBatch }, (_, i) => i + 7);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = floor(rand() * (i + 1));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return ids;
}

export type PageTableOperands = Pick<TopKOptions, 'fuse' | 'pageSize' | 'pageTable' | 'pageTableStride' | 'rowToBatch' | 'pageTableStarts'>;

/**
 * The page-table operands of `rows` rows of `stride` positions. Without `batches`: one table row
 * per score row, every other operand left to its default. With `batches`: rows share that many
 * table rows through rowToBatch, start at random pageTableStarts (up to 2 * pageSize + 1), and
 * the table's stride is given.
 */
export function pageTableOperands(rows: number, stride: number, pageSize: number, seed: Seed, batches?: number): PageTableOperands {
  const rand: Rng = toRng(seed);
  if (batches === undefined) {
    return { fuse: 'page-table', pageSize, pageTable: makePageTable(rows, ceil(stride / pageSize), rand) };
  }
  const maxStart = 2 * pageSize + 1;
  const pageTableStride = ceil((stride + maxStart) / pageSize);
  return {
    fuse: 'page-table',
    pageSize,
    pageTable: makePageTable(batches, pageTableStride, rand),
    pageTableStride,
    rowToBatch: randomInts(rows, 0, batches - 1, rand),
    pageTableStarts: randomInts(rows, 0, maxStart, rand),
  };
}
