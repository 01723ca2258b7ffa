// `nsa-topk fuzz`: random cases (lib/reference/cases.ts) through one backend, every way it can be
// called, each result held to the contract checker. Case i of seed S is drawn from (S, i) alone,
// so a failure prints the command that replays that one case.
import { Command, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { cudaStatus } from '../cuda';
import { loadNative } from '../loader';
import { BACKENDS, BackendName, ResolvedBackend, chooseBackend } from '../options';
import { TopKOptions, topk, topkSync } from '../topk';
import { FUZZ_LIMITS, FuzzCase, FuzzLimits, Output, checkTopk, describeCase, fuzzCase, runOp, sameBytes } from '../reference';
import { intInRange } from './args';

export interface FuzzOptions extends FuzzLimits {
  backend: BackendName;
  cases: number;
  seed: number;
  /** Run this case alone (a replay). */
  case?: number;
  /** CUDA: also run each case as a graph-safe op's replay. */
  graph: boolean;
  maxFailures: number;
  progress: boolean;
}

export interface FuzzSummary {
  backend: ResolvedBackend;
  passed: number;
  failed: number;
}

/** One way to compute a case: a name for messages, and the call. */
export interface Way {
  name: string;
  run: (c: FuzzCase) => Output | Promise<Output>;
}

/** The ways a backend is called: host arrays through topk(); on CUDA, the TopK op too. */
function waysOf(backend: ResolvedBackend, graph: boolean): Way[] {
  if (backend === 'cpu') return [{ name: 'topkSync', run: (c) => topkSync(c.scores, { ...c.options, backend }) }];
  const op = (c: FuzzCase, asGraph: boolean) => runOp(c.scores, c.options, {
    backend, maxRows: c.op.maxRows, maxLen: c.op.maxLen, path: backend === 'radix' ? c.op.path : undefined, graph: asGraph,
  });
  const ways: Way[] = [
    { name: 'topk()', run: (c) => topk(c.scores, { ...c.options, backend }) },
    { name: 'TopK op', run: (c) => op(c, false) },
  ];
  if (graph) ways.push({ name: 'TopK op graph replay', run: (c) => op(c, true) });
  return ways;
}

/** Row r of case c as a case of its own: a deterministic row must come out the same alone. */
function rowAlone(c: FuzzCase, r: number): FuzzCase {
  const o = c.options;
  const stride = c.scores.length / o.rows;
  const at = (a?: ArrayLike<number>) => (a === undefined ? undefined : [a[r]]);
  const options: TopKOptions = {
    ...o, rows: 1, stride, lengths: at(o.lengths), rowStarts: at(o.rowStarts), offsets: at(o.offsets),
    pageTableStarts: at(o.pageTableStarts),
  };
  if (o.pageTable) {
    // The whole table, with row r's batch named: the default batch of row r is r.
    options.pageTableStride = o.pageTableStride ?? o.pageTable.length / o.rows;
    options.rowToBatch = [o.rowToBatch ? o.rowToBatch[r] : r];
  }
  return { ...c, scores: c.scores.subarray(r * stride, (r + 1) * stride), options, op: { ...c.op, maxRows: 1 } };
}

/** What is wrong with case c through `ways`, or undefined. */
async function fuzzOne(c: FuzzCase, ways: readonly Way[]): Promise<string | undefined> {
  const { k, deterministic } = c.options;
  const r = c.index % c.options.rows;
  let first: Output | undefined;
  for (const way of ways) {
    try {
      const out = await way.run(c);
      const [problem] = checkTopk(out, c.scores, c.options, 1);
      if (problem) return `${way.name}: ${problem}`;
      if (!deterministic) continue;
      if (first && (!sameBytes(out.indices, first.indices) || (out.values && !sameBytes(out.values, first.values!)))) {
        return `${way.name}: deterministic output differs from ${ways[0].name}'s`;
      }
      first ??= out;
      const alone = await way.run(rowAlone(c, r));
      const slice = (a: Int32Array | Output['values']) => a!.subarray(r * k, (r + 1) * k);
      if (!sameBytes(alone.indices, slice(out.indices)) || (alone.values && !sameBytes(alone.values, slice(out.values)))) {
        return `${way.name}: deterministic row ${r} alone differs from the same row in the batch`;
      }
    } catch (err) {
      return `${way.name}: threw ${(err as Error).message}`;
    }
  }
  return undefined;
}

/** The command line that runs case `index` of this run again, alone. */
function replayCommand(o: FuzzOptions, backend: ResolvedBackend, index: number): string {
  return [
    'nsa-topk fuzz', `--backend ${backend}`, `--seed ${o.seed}`, `--case ${index}`,
    `--max-rows ${o.maxRows}`, `--max-len ${o.maxLen}`, `--max-k ${o.maxK}`, ...(o.graph ? ['--graph'] : []),
  ].join(' ');
}

export async function runFuzz(o: FuzzOptions, ways?: readonly Way[]): Promise<FuzzSummary> {
  loadNative();
  const backend = chooseBackend(o.backend, cudaStatus);
  const calls = ways ?? waysOf(backend, o.graph);
  const indices = o.case === undefined ? Array.from({ length: o.cases }, (_, i) => i) : [o.case];
  const bar = o.progress ? new SingleBar({ stream: process.stderr, format: 'fuzz [{bar}] {value}/{total} cases, {failed} failed', hideCursor: true }) : undefined;
  bar?.start(indices.length, 0, { failed: 0 });
  let passed = 0;
  let failed = 0;
  try {
    for (const index of indices) {
      const c = fuzzCase(o.seed, index, o);
      if (o.case !== undefined) process.stdout.write(`case ${index}: ${describeCase(c)}\noptions: ${JSON.stringify(c.options, jsonArrays)}\n`);
      const problem = await fuzzOne(c, calls);
      if (problem === undefined) {
        passed++;
      } else if (++failed <= o.maxFailures) {
        bar?.stop();
        process.stdout.write(`FAIL case ${index} (seed ${o.seed}): ${describeCase(c)}: ${problem}\n  replay: ${replayCommand(o, backend, index)}\n`);
        bar?.start(indices.length, passed + failed, { failed });
      }
      bar?.update(passed + failed, { failed });
    }
  } finally {
    bar?.stop();
  }
  if (o.graph && backend === 'cpu') process.stdout.write('graph replays not run: --graph needs a CUDA backend\n');
  process.stdout.write(`fuzz: ${indices.length} case${indices.length === 1 ? '' : 's'} on ${backend} (${calls.map((w) => w.name).join(', ')}), seed ${o.seed}: ${passed} passed, ${failed} failed\n`);
  return { backend, passed, failed };
}

/** Typed arrays as plain lists in the printed options. */
const jsonArrays = (_key: string, value: unknown) => (ArrayBuffer.isView(value) ? Array.from(value as Int32Array) : value);

export function fuzzCommand(setExit: (code: number) => void): Command {
  return new Command('fuzz')
    .description('check random cases (every dtype, shape, option and transform, adversarial scores) against the contract; exit 1 on any failure')
    .addOption(new Option('--backend <name>', 'backend to fuzz (auto: radix with a usable GPU, else cpu)').choices(BACKENDS).default('auto'))
    .option('--cases <n>', 'cases to run', intInRange('--cases', 1), 1000)
    .option('--seed <n>', 'seed of the run', intInRange('--seed', 0, 2 ** 32 - 1), 1)
    .option('--case <i>', 'run case i of the seed alone, printing its options (a replay)', intInRange('--case', 0))
    .option('--max-rows <n>', 'most rows in a case', intInRange('--max-rows', 1), FUZZ_LIMITS.maxRows)
    .option('--max-len <n>', 'longest row (the stride)', intInRange('--max-len', 1), FUZZ_LIMITS.maxLen)
    .option('--max-k <n>', 'largest k', intInRange('--max-k', 1), FUZZ_LIMITS.maxK)
    .option('--graph', 'CUDA: also run every case as the replay of a graph-safe op captured over other contents', false)
    .option('--max-failures <n>', 'failures to print in full', intInRange('--max-failures', 0), 20)
    .option('--progress', 'show a progress bar even when stderr is not a TTY', false)
    .action(async (opts: FuzzOptions) => {
      const summary = await runFuzz({ ...opts, progress: opts.progress || Boolean(process.stderr.isTTY) });
      setExit(summary.failed > 0 ? 1 : 0);
    });
}
