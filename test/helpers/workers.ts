// nsa-topk in several worker threads at once: each worker loads the addon in its own environment
// and runs fuzz cases (helpers/topk-worker.ts); the main thread checks every result it posts with
// the contract checker, and that each worker's bad calls were refused with its own NsaTopkError.
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { ScoresArray } from '../../lib';
import { FuzzLimits, checkTopk, fuzzCase } from '../../lib/reference';

export interface WorkerJob {
  mode: 'calls' | 'busy';
  seed: number;
  calls: number;
  backend: 'cpu' | 'radix' | 'sort';
  limits: FuzzLimits;
}

export type WorkerMessage =
  | { kind: 'result'; index: number; indices: Int32Array; values?: ScoresArray; backend: string }
  | { kind: 'refusal'; entry: string; nsaTopkError: boolean; code: string }
  | { kind: 'busy' }
  | { kind: 'error'; message: string };

/** Loads the worker body's TypeScript in a worker thread (jest's transform does not reach there). */
const ENTRY = `require(${JSON.stringify(path.join(__dirname, 'register-ts.js'))});
require(${JSON.stringify(path.join(__dirname, 'topk-worker.ts'))});`;

export function startWorker(job: WorkerJob): Worker {
  return new Worker(ENTRY, { eval: true, workerData: job });
}

export interface WorkersReport {
  /** Results checked, over all workers. */
  checked: number;
  /** Everything wrong: wrong results, missing ones, bad calls not refused as they should be, worker errors. */
  problems: string[];
}

/** Runs `count` workers at once, worker w on seed job.seed + w, and checks what each posts. */
export async function runWorkers(count: number, job: Omit<WorkerJob, 'mode'>): Promise<WorkersReport> {
  const report: WorkersReport = { checked: 0, problems: [] };
  const one = (w: number) => new Promise<void>((resolve) => {
    const seed = job.seed + w;
    const worker = startWorker({ ...job, mode: 'calls', seed });
    const seen = new Set<number>();
    const refusals: string[] = [];
    const problem = (p: string) => report.problems.push(`worker ${w} (seed ${seed}): ${p}`);
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'result') {
        seen.add(m.index);
        const c = fuzzCase(seed, m.index, job.limits);
        // Messages arrive as the main realm's typed arrays; jest's tests run in a realm of their
        // own, whose instanceof checks (the checker's among them) those would fail.
        const values = m.values && (m.values.constructor.name === 'Float32Array' ? Float32Array.from(m.values) : Uint16Array.from(m.values));
        const wrong = checkTopk({ indices: Int32Array.from(m.indices), values }, c.scores, { ...c.options, backend: job.backend });
        if (m.backend !== job.backend) wrong.push(`ran on ${m.backend}`);
        if (wrong.length > 0) problem(`case ${m.index}: ${wrong.join('; ')}`);
        report.checked++;
      } else if (m.kind === 'refusal') {
        refusals.push(m.entry);
        if (!m.nsaTopkError || m.code !== 'ERR_NSA_TOPK_INVALID_ARGUMENT') problem(`${m.entry}: a bad call gave ${m.code}, NsaTopkError of this worker: ${m.nsaTopkError}`);
      } else if (m.kind === 'error') {
        problem(m.message);
      }
    });
    worker.on('error', (err) => problem(`threw ${err.stack ?? err}`));
    worker.on('exit', (code) => {
      if (code !== 0) problem(`exited with ${code}`);
      if (seen.size !== job.calls) problem(`posted ${seen.size} of ${job.calls} results`);
      if (refusals.length !== 2) problem(`reported ${refusals.length} of 2 bad calls`);
      resolve();
    });
  });
  await Promise.all(Array.from({ length: count }, (_, w) => one(w)));
  return report;
}
