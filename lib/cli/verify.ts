// `nsa-topk verify`: every available backend on a fixed matrix of cases (dtypes, tie-breaks,
// orders, fused transforms, edge lengths, every kind of scores), each result held to the contract
// checker. Without CUDA the CPU backend and its std::nth_element baseline are checked. Every case
// gives every global option explicitly, so the --nsa-topk-* flags and NSA_TOPK_* variables cannot
// change the matrix.
import { Command } from 'commander';
import { cudaStatus } from '../cuda';
import { loadNative } from '../loader';
import { DTYPES, TIE_BREAKS } from '../options';
import { ScoresArray, TopKOptions, TopKResult, baselineTopkSync, topkSync } from '../topk';
import {
  Rng, SCORE_KINDS, SORT_EDGE_LENGTH, checkTopk, makeScores, pageTableOperands, raggedOffsets, randomWindows, rng, sameBytes,
  sortEdgeScores,
} from '../reference';
import { intInRange } from './args';

interface VerifyCase {
  name: string;
  scores: ScoresArray;
  opts: TopKOptions;
}

type FuseCase = { name: string; operands: (rows: number, stride: number, rand: Rng) => Partial<TopKOptions> };
const FUSE_CASES: FuseCase[] = [
  { name: 'none', operands: () => ({ fuse: 'none' }) },
  { name: 'ragged', operands: (rows, _stride, rand) => ({ fuse: 'ragged', offsets: raggedOffsets(rows, rand) }) },
  { name: 'page-table P=1', operands: (rows, stride, rand) => pageTableOperands(rows, stride, 1, rand) },
  { name: 'page-table P=8', operands: (rows, stride, rand) => pageTableOperands(rows, stride, 8, rand, 3) },
];
const ORDERS = [{ name: 'unsorted' }, { name: 'deterministic', deterministic: true }, { name: 'sorted', sorted: true }];

export function verifyCases(seed: number): VerifyCase[] {
  const rand = rng(seed);
  const cases: VerifyCase[] = [];
  for (const dtype of DTYPES) {
    for (const tieBreak of TIE_BREAKS) {
      for (const order of ORDERS) {
        for (const f of FUSE_CASES) {
          for (const [k, stride] of [[5, 17], [300, 4099]]) {
            // Rows 0-5 take the edge lengths 0, 1, k-1, k, k+1 and the whole row; every kind of scores comes up.
            const rows = 9;
            const opts: TopKOptions = {
              k, rows, dtype, tieBreak, deterministic: order.deterministic ?? false, sorted: order.sorted ?? false, values: true,
              ...randomWindows(rows, stride, k, rand), ...f.operands(rows, stride, rand),
            };
            cases.push({ name: `${dtype} ${tieBreak} ${order.name} ${f.name} k=${k} ${rows}x${stride}`, scores: makeScores(dtype, rows, stride, SCORE_KINDS, rand), opts });
          }
        }
      }
      // Sorted output at its edges (the per-row kernels' bin sort and its fallbacks), f32 only.
      if (dtype === 'f32') {
        for (const k of [2048, 1000]) {
          const rows = 16;
          cases.push({
            name: `f32 ${tieBreak} sorted k=${k} ${rows}x${SORT_EDGE_LENGTH} sort edges`,
            scores: sortEdgeScores(rows, seed + k),
            opts: { k, rows, dtype, tieBreak, deterministic: false, sorted: true, values: true, fuse: 'none' },
          });
        }
      }
      // The NSA shapes, whole rows.
      for (const [k, rows, stride] of [[2048, 4, 131072], [512, 4, 40000]]) {
        cases.push({
          name: `${dtype} ${tieBreak} sorted k=${k} ${rows}x${stride}`,
          scores: makeScores(dtype, rows, stride, ['normal', 'relu', 'fewDistinct', 'special'], rand),
          opts: { k, rows, dtype, tieBreak, deterministic: false, sorted: true, values: true, fuse: 'none' },
        });
      }
    }
  }
  return cases;
}

export interface VerifySummary { passed: number; failed: number; skipped?: string }

export function runVerify(opts: { seed: number; maxFailures: number }): VerifySummary {
  loadNative();
  const status = cudaStatus();
  type Candidate = { name: string; run: (c: VerifyCase) => TopKResult };
  const candidates: Candidate[] = [
    { name: 'cpu', run: (c) => topkSync(c.scores, { ...c.opts, backend: 'cpu' }) },
    ...(status.usable
      ? (['radix', 'sort'] as const).map((backend) => ({ name: backend, run: (c: VerifyCase) => topkSync(c.scores, { ...c.opts, backend }) }))
      : [{ name: 'cpu nth_element baseline', run: (c: VerifyCase) => baselineTopkSync(c.scores, c.opts) }]),
  ];
  const skipped = status.usable ? undefined : status.reason ?? (status.compiled ? 'no usable CUDA device' : 'built without CUDA');
  let passed = 0;
  let failed = 0;
  for (const c of verifyCases(opts.seed)) {
    for (const cand of candidates) {
      let problem: string | undefined;
      try {
        const got = cand.run(c);
        [problem] = checkTopk(got, c.scores, c.opts, 1);
        if (!problem && c.opts.deterministic && !sameBytes(got.indices, cand.run(c).indices)) problem = 'not repeatable';
      } catch (err) {
        problem = `threw ${(err as Error).message}`;
      }
      if (problem) {
        failed++;
        if (failed <= opts.maxFailures) process.stdout.write(`FAIL ${cand.name}: ${c.name}: ${problem}\n`);
      } else {
        passed++;
      }
    }
  }
  if (skipped) process.stdout.write(`CUDA skipped: ${skipped}; checked the CPU backend and its nth_element baseline\n`);
  process.stdout.write(`verify: ${passed} passed, ${failed} failed\n`);
  return { passed, failed, skipped };
}

export function verifyCommand(setExit: (code: number) => void): Command {
  return new Command('verify')
    .description('check every available backend against the contract on a matrix of cases; exit 1 on any failure')
    .option('--seed <n>', 'seed of the generated cases', intInRange('--seed', 0, 2 ** 32 - 1), 1)
    .option('--max-failures <n>', 'failures to print in full', intInRange('--max-failures', 0), 20)
    .action((o: { seed: number; maxFailures: number }) => {
      setExit(runVerify(o).failed > 0 ? 1 : 0);
    });
}
