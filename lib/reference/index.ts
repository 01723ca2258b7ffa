// What a right answer is, and the data to look for wrong ones: seeded generators of scores and
// operands, the per-dtype codecs and key order, the contract checker, fuzz cases, and a case run
// through the TopK op. `nsa-topk verify`, `fuzz` and `bench` and the test suites take them from here.
export { intIn, pick, randomInts, rng } from './random';
export type { Rng } from './random';
export { allocScores, bitsOf, encode, keyOf } from './codec';
export { CLIP, HOT_SHIFT, SCORE_KINDS, fillScores, makeScores } from './scores';
export type { ScoreKind } from './scores';
export { edgeLengths, makePageTable, pageTableOperands, raggedOffsets, randomWindows } from './operands';
export { SORT_EDGE_KINDS, SORT_EDGE_LENGTH, sortEdgeScores } from './sort-edges';
export { checkTopk, sameBytes } from './check';
export type { Output } from './check';
export { FUZZ_LIMITS, describeCase, fuzzCase } from './cases';
export type { FuzzCase, FuzzLimits } from './cases';
export { runOp } from './run';
export type { OpRun } from './run';
