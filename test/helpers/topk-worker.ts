// The body of one worker thread (started by helpers/workers.ts, loaded through register-ts.js):
// nsa-topk loaded in the worker's own environment. 'calls': fuzz cases (seed, 0..calls-1),
// alternately through topkSync and await topk with a few in flight at once, each result posted
// back for the main thread to check, then bad calls whose refusals must be this environment's
// NsaTopkError. 'busy': long topk() calls started and left in flight, for a terminate() to cut.
import { parentPort, workerData } from 'worker_threads';
import { NsaTopkError, topk, topkSync } from '../../lib';
import type { TopKOptions, TopKResult } from '../../lib';
import { fuzzCase, makeScores } from '../../lib/reference';
import type { WorkerJob, WorkerMessage } from './workers';

const job = workerData as WorkerJob;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);

async function calls(): Promise<void> {
  const batch = 4;
  for (let first = 0; first < job.calls; first += batch) {
    const pending: Promise<void>[] = [];
    for (let index = first; index < Math.min(first + batch, job.calls); index++) {
      const c = fuzzCase(job.seed, index, job.limits);
      const options: TopKOptions = { ...c.options, backend: job.backend };
      const send = (r: TopKResult) => post({ kind: 'result', index, indices: r.indices, values: r.values, backend: r.backend });
      if (index % 2 === 0) send(topkSync(c.scores, options));
      else pending.push(topk(c.scores, options).then(send));
    }
    await Promise.all(pending);
  }
  const scores = new Float32Array(8);
  for (const [entry, call] of [['topkSync', async () => topkSync(scores, { k: 0, rows: 2 })], ['topk', () => topk(scores, { k: 1, rows: 3 })]] as const) {
    try {
      await call();
      post({ kind: 'refusal', entry, nsaTopkError: false, code: 'none: the bad call returned' });
    } catch (err) {
      post({ kind: 'refusal', entry, nsaTopkError: err instanceof NsaTopkError, code: (err as NsaTopkError).code });
    }
  }
}

function busy(): void {
  // Calls of tens of milliseconds each, one per thread of libuv's pool: all running when the
  // main thread terminates the worker.
  const rows = 128;
  const scores = makeScores('f32', rows, 1 << 16, 'normal', job.seed);
  for (let i = 0; i < 4; i++) void topk(scores, { k: 2048, rows, backend: job.backend, threads: 1 });
  post({ kind: 'busy' });
}

if (job.mode === 'busy') busy();
else calls().catch((err) => post({ kind: 'error', message: String((err as Error)?.stack ?? err) }));
