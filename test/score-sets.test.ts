// Bench's input sets (lib/cli/score-sets.ts): one seed gives the same bytes whether this thread
// fills a set or worker threads do (1 or several), the bench distributions over whole sets, each
// dtype's encoding, and bench itself on a set large enough for the workers. Worker threads run in
// a child process started through helpers/register-ts.js: a worker thread inherits the loader,
// which jest's transform does not reach.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Dist } from '../lib/cli/bench';
import { CHUNK, PARALLEL_MIN, SetSpec, fillSet } from '../lib/cli/score-sets';
import { DTYPES, DType } from '../lib/options';
import { ScoresArray } from '../lib/topk';
import { allocScores, bitsOf, encode, keyOf } from '../lib/reference';
import { ChildFill, ChildJob, hashOf } from './helpers/score-sets-child';

jest.setTimeout(120_000);

const HELPERS = path.join(__dirname, 'helpers');

/** Sets of several chunks, the last one short. */
const N = 2 * CHUNK + CHUNK / 2;
/** The same past PARALLEL_MIN: worker threads by default. */
const N_WORKERS = PARALLEL_MIN + CHUNK / 2;

/** Runs node on `args` through register-ts.js; its stdout, or a failure with its stderr. */
function nodeTs(args: string[]): string {
  const child = spawnSync(process.execPath, ['-r', path.join(HELPERS, 'register-ts.js'), ...args], { encoding: 'utf8', timeout: 110_000 });
  if (child.status !== 0) throw new Error(`exit ${child.status} ${child.signal ?? ''}\n${child.stderr}`);
  return child.stdout;
}

/** Set `set` of `dist` scores (rows of `row`) seeded with `seed`, filled on this thread, and its progress. */
async function fillHere(dtype: DType, dist: Dist, length = N, seed = 7, set = 0, row?: number): Promise<{ scores: ScoresArray; progress: [number, number][] }> {
  const scores = allocScores(dtype, length);
  const progress: [number, number][] = [];
  await fillSet(scores, { dtype, kind: dist, seed, set, row }, { workers: 0, onChunk: (done, chunks) => progress.push([done, chunks]) });
  return { scores, progress };
}

test.each(DTYPES)('%s: the same bytes from this thread, 1 worker, 3 workers and the defaults', async (dtype) => {
  const spec: SetSpec = { dtype, kind: 'normal', seed: 7, set: 2, length: N_WORKERS };
  const job: ChildJob = { spec, workers: [1, 3, null] };
  const fills = nodeTs([path.join(HELPERS, 'score-sets-child.ts'), JSON.stringify(job)]).trim().split('\n').map((l) => JSON.parse(l) as ChildFill);
  const here = await fillHere(dtype, 'normal', N_WORKERS, 7, 2);
  const chunks = Math.ceil(N_WORKERS / CHUNK);
  const inOrder = Array.from({ length: chunks }, (_, c) => [c + 1, chunks]);
  expect(here.progress).toEqual(inOrder);
  expect(fills).toEqual(job.workers.map((workers) => ({ workers, sha256: hashOf(here.scores), progress: workers === null ? [] : inOrder })));
});

test('hotSpan rows: the same bytes from this thread and 2 workers', async () => {
  const spec: SetSpec = { dtype: 'f32', kind: 'hotSpan', seed: 3, set: 1, length: N_WORKERS, row: 300000 };
  const job: ChildJob = { spec, workers: [2] };
  const fills = nodeTs([path.join(HELPERS, 'score-sets-child.ts'), JSON.stringify(job)]).trim().split('\n').map((l) => JSON.parse(l) as ChildFill);
  const here = await fillHere('f32', 'hotSpan', N_WORKERS, 3, 1, 300000);
  expect(fills.map((f) => f.sha256)).toEqual([hashOf(here.scores)]);
});

test('a set is determined by (seed, set): the same again, another set or seed differs, and chunks are not repeats', async () => {
  const hash = async (seed: number, set: number) => hashOf((await fillHere('bf16', 'normal', 3 * CHUNK, seed, set)).scores);
  const first = await hash(7, 0);
  expect(await hash(7, 0)).toBe(first);
  expect(await hash(7, 1)).not.toBe(first);
  expect(await hash(8, 0)).not.toBe(first);
  const bits = (await fillHere('bf16', 'normal', 3 * CHUNK)).scores;
  const chunk = (c: number) => hashOf(bits.subarray(c * CHUNK, (c + 1) * CHUNK));
  expect(new Set([chunk(0), chunk(1), chunk(2)]).size).toBe(3);
});

describe('bench score distributions, over sets of several chunks', () => {
  test('normal: standard normal, tails included (about 0.069% above 3.2)', async () => {
    const x = (await fillHere('f32', 'normal')).scores;
    let sum = 0;
    let sq = 0;
    let tail = 0;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      sum += v;
      sq += v * v;
      if (v > 3.2) tail++;
    }
    expect(Math.abs(sum / N)).toBeLessThan(0.01);
    expect(sq / N).toBeCloseTo(1, 2);
    // P(x > 3.2) = 6.87e-4: ~7200 of N; four summed uniforms would give about a thirtieth of it.
    expect(tail / N).toBeGreaterThan(6.2e-4);
    expect(tail / N).toBeLessThan(7.5e-4);
  });

  test.each(DTYPES)('relu (%s): about 0.07%% positive, every other score exactly +0', async (dtype) => {
    const bits = bitsOf((await fillHere(dtype, 'relu')).scores);
    let positive = 0;
    let wrong = 0;
    for (let i = 0; i < bits.length; i++) {
      if (bits[i] === 0) continue;
      positive++;
      if (keyOf(dtype, bits[i]) <= keyOf(dtype, 0)) wrong++;
    }
    expect(wrong).toBe(0);
    expect(positive / N).toBeGreaterThan(6.2e-4);
    expect(positive / N).toBeLessThan(7.5e-4);
  });

  // Rows of 300000 (chunks of CHUNK cut them anywhere): each whole row holds one run of 18750
  // scores raised by HOT_SHIFT, at a start of its own, over the normals of the same seed and set.
  test.each(DTYPES)('hotSpan (%s): one run of a sixteenth of each row raised, rows across chunks', async (dtype) => {
    const row = 300000, hot = row / 16;
    const bits = bitsOf((await fillHere(dtype, 'hotSpan', N, 7, 0, row)).scores);
    const normal = bitsOf((await fillHere(dtype, 'normal', N, 7, 0, row)).scores);
    const raised = (i: number) => bits[i] !== normal[i];
    const starts: number[] = [];
    const wrong: string[] = [];
    for (let r = 0; (r + 1) * row <= N; r++) {
      const at: number[] = [];
      for (let i = r * row; i < (r + 1) * row; i++) if (raised(i)) at.push(i - r * row);
      if (at.length !== hot || at[hot - 1] - at[0] !== hot - 1) wrong.push(`row ${r}: ${at.length} raised from ${at[0]} to ${at[at.length - 1]}`);
      starts.push(at[0]);
    }
    expect(wrong).toEqual([]);
    expect(new Set(starts).size).toBeGreaterThan(starts.length / 2);
  });

  test.each(DTYPES)('equal (%s): every score is 1.0', async (dtype) => {
    expect(new Set(bitsOf((await fillHere(dtype, 'equal')).scores))).toEqual(new Set([encode(dtype, 1)]));
  });

  test.each(['f16', 'bf16'] as const)('%s scores encode the f32 draw of the same seed and set', async (dtype) => {
    const f32 = (await fillHere('f32', 'normal')).scores;
    const bits = bitsOf((await fillHere(dtype, 'normal')).scores);
    let wrong = 0;
    for (let i = 0; i < N; i++) if (bits[i] !== encode(dtype, f32[i])) wrong++;
    expect(wrong).toBe(0);
  });
});

test('bench --backend cpu on a shape of PARALLEL_MIN scores: its sets filled by workers', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsa-topk-score-sets-'));
  const file = path.join(dir, 'bench.json');
  try {
    const rows = PARALLEL_MIN / 131072;
    nodeTs([path.join(__dirname, '..', 'lib', 'cli', 'main.ts'), 'bench', '--backend', 'cpu', '--rows', String(rows), '--lengths', '131072', '--k', '16',
      '--dtype', 'bf16', '--iters', '1', '--warmup', '0', '--no-torch', '--json', file]);
    const report = JSON.parse(fs.readFileSync(file, 'utf8')) as { results: { rows: number; length: number; k: number; dtype: string }[] };
    expect(report.results).toMatchObject([{ rows, length: 131072, k: 16, dtype: 'bf16' }]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
