// Test inputs shared by the CPU and GPU suites: each case is scores plus the options that shape
// the problem (windows, transforms); the suites add k-independent options (tieBreak, sorted, ...).
import { DType, RefOptions, RowKind, Scores, makePageTable, makeScores, randomInts, rng } from '../reference';

export interface Case {
  name: string;
  scores: Scores;
  opts: RefOptions;
}

/** Rows whose windows have lengths 0, 1, k - 1, k, k + 1 and the whole stride. */
export function edgeLengths(dtype: DType, kind: RowKind | readonly RowKind[], k: number, seed: number): Case {
  const stride = 2 * k + 7;
  const lengths = [0, 1, Math.max(k - 1, 0), k, k + 1, stride];
  return {
    name: `edge lengths ${kind} ${dtype} k=${k}`,
    scores: makeScores(dtype, lengths.length, stride, kind, seed),
    opts: { k, rows: lengths.length, dtype, lengths },
  };
}

/** Random row starts and lengths inside each row (as Int32Arrays). */
export function windows(dtype: DType, kind: RowKind | readonly RowKind[], k: number, rows: number, stride: number, seed: number): Case {
  const rand = rng(seed + 1);
  const rowStarts = Int32Array.from({ length: rows }, () => Math.floor(rand() * (stride / 4 + 1)));
  const lengths = Int32Array.from(rowStarts, (s) => Math.floor(rand() * (stride - s + 1)));
  return {
    name: `windows ${kind} ${dtype} k=${k} ${rows}x${stride}`,
    scores: makeScores(dtype, rows, stride, kind, seed),
    opts: { k, rows, dtype, rowStarts, lengths },
  };
}

export function ragged(dtype: DType, kind: RowKind | readonly RowKind[], k: number, rows: number, stride: number, seed: number): Case {
  const base = windows(dtype, kind, k, rows, stride, seed);
  const offsets = randomInts(rows, 0, 1 << 20, seed + 3);
  return { ...base, name: `ragged ${base.name}`, opts: { ...base.opts, fuse: 'ragged', offsets } };
}

/**
 * Page-table transform. pageSize 1 uses the defaults (batch r, start 0); pageSize > 1 maps rows
 * to shared batches with per-row page starts, and gives pageTableStride explicitly.
 */
export function pageTable(dtype: DType, kind: RowKind | readonly RowKind[], k: number, rows: number, stride: number, pageSize: number, seed: number): Case {
  const base = windows(dtype, kind, k, rows, stride, seed);
  const name = `page-table P=${pageSize} ${base.name}`;
  if (pageSize === 1) {
    const table = makePageTable(rows, stride, seed + 4);
    return { ...base, name, opts: { ...base.opts, fuse: 'page-table', pageTable: table } };
  }
  const batches = 3;
  const maxStart = 2 * pageSize + 1;
  const pageTableStarts = randomInts(rows, 0, maxStart, seed + 5);
  const pageTableStride = Math.ceil((stride + maxStart) / pageSize);
  return {
    ...base,
    name,
    opts: {
      ...base.opts,
      fuse: 'page-table',
      pageSize,
      pageTable: makePageTable(batches, pageTableStride, seed + 4),
      pageTableStride,
      rowToBatch: randomInts(rows, 0, batches - 1, seed + 6),
      pageTableStarts,
    },
  };
}
