// Test inputs shared by the CPU and GPU suites: each case is scores plus the options that shape
// the problem (windows, transforms); the suites add k-independent options (tieBreak, sorted, ...).
// The data comes from the package's generators (lib/reference).
import { ScoreKind, edgeLengths as edges, makeScores, pageTableOperands, raggedOffsets, randomWindows } from '../../lib/reference';
import type { DType, RefOptions, Scores } from '../reference';

export interface Case {
  name: string;
  scores: Scores;
  opts: RefOptions;
}

/** Rows whose windows have lengths 0, 1, k - 1, k, k + 1 and the whole stride. */
export function edgeLengths(dtype: DType, kind: ScoreKind | readonly ScoreKind[], k: number, seed: number): Case {
  const stride = 2 * k + 7;
  const lengths = [...edges(k), stride];
  return {
    name: `edge lengths ${kind} ${dtype} k=${k}`,
    scores: makeScores(dtype, lengths.length, stride, kind, seed),
    opts: { k, rows: lengths.length, dtype, lengths },
  };
}

/** Row starts and lengths (as Int32Arrays): the edge lengths in the first rows, then random windows. */
export function windows(dtype: DType, kind: ScoreKind | readonly ScoreKind[], k: number, rows: number, stride: number, seed: number): Case {
  return {
    name: `windows ${kind} ${dtype} k=${k} ${rows}x${stride}`,
    scores: makeScores(dtype, rows, stride, kind, seed),
    opts: { k, rows, dtype, ...randomWindows(rows, stride, k, seed + 1) },
  };
}

export function ragged(dtype: DType, kind: ScoreKind | readonly ScoreKind[], k: number, rows: number, stride: number, seed: number): Case {
  const base = windows(dtype, kind, k, rows, stride, seed);
  return { ...base, name: `ragged ${base.name}`, opts: { ...base.opts, fuse: 'ragged', offsets: raggedOffsets(rows, seed + 3) } };
}

/**
 * Page-table transform. pageSize 1 uses the defaults (batch r, start 0); pageSize > 1 maps rows
 * to 3 shared batches with per-row page starts, and gives pageTableStride explicitly.
 */
export function pageTable(dtype: DType, kind: ScoreKind | readonly ScoreKind[], k: number, rows: number, stride: number, pageSize: number, seed: number): Case {
  const base = windows(dtype, kind, k, rows, stride, seed);
  const operands = pageTableOperands(rows, stride, pageSize, seed + 4, pageSize === 1 ? undefined : 3);
  return { ...base, name: `page-table P=${pageSize} ${base.name}`, opts: { ...base.opts, ...operands } };
}
