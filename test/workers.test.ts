// nsa-topk in several worker_threads at once: the addon keeps its state per environment, so each
// worker loads and initializes it anew and runs CPU calls (topkSync and await topk, some in flight
// together) while the main thread runs its own; every result is checked against the contract.
// Workers load the TypeScript sources through helpers/register-ts.js (jest does not reach them).
import { spawnSync } from 'child_process';
import * as path from 'path';
import { topk } from '../lib';
import { FuzzLimits, checkTopk, fuzzCase } from '../lib/reference';
import { testSeed } from './helpers/seed';
import { runWorkers } from './helpers/workers';

jest.setTimeout(120_000);

const WORKERS = 4;
const CALLS = 48;
const MAIN_CALLS = 24;
/** Up to 16 x 8192 with k up to 2048: calls long enough to overlap across threads. */
const LIMITS: FuzzLimits = { maxRows: 16, maxLen: 8192, maxK: 2048 };

test(`${WORKERS} worker threads at once, each running topkSync and topk, beside the main thread: all right`, async () => {
  const seed = testSeed(4_000);
  const mainThread = async () => {
    const problems: string[] = [];
    for (let index = 0; index < MAIN_CALLS; index++) {
      const c = fuzzCase(seed - 1, index, LIMITS);
      const options = { ...c.options, backend: 'cpu' as const };
      const wrong = checkTopk(await topk(c.scores, options), c.scores, options);
      if (wrong.length > 0) problems.push(`main thread case ${index}: ${wrong.join('; ')}`);
    }
    return problems;
  };
  const [report, mainProblems] = await Promise.all([runWorkers(WORKERS, { seed, calls: CALLS, backend: 'cpu', limits: LIMITS }), mainThread()]);
  console.log(`worker threads: ${WORKERS} workers x ${CALLS} calls (${report.checked} results checked) beside ${MAIN_CALLS} main-thread calls; seed ${seed}`);
  expect(report.problems).toEqual([]);
  expect(mainProblems).toEqual([]);
  expect(report.checked).toBe(WORKERS * CALLS);
});

// A worker terminated while its topk() calls run: their completion in the torn-down environment
// used to throw a Napi::Error out of the async work's callback and abort the whole process
// (SIGABRT). In a process of its own, so an abort could not take jest down.
test('terminating a worker whose topk() calls still run leaves the process alive', () => {
  const helpers = path.join(__dirname, 'helpers');
  const child = spawnSync(process.execPath, ['-r', path.join(helpers, 'register-ts.js'), path.join(helpers, 'terminate-child.ts')], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect({ status: child.status, signal: child.signal, stdout: child.stdout.trim() }).toEqual({ status: 0, signal: null, stdout: 'survived' });
});
