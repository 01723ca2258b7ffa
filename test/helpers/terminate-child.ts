// Run as a process of its own (node -r test/helpers/register-ts.js this file): terminates a worker
// whose topk() calls are still running, waits past the time they take, then makes a call on the
// main thread and prints 'survived'. A process that aborts on the way never prints it.
import { topkSync } from '../../lib';
import { FUZZ_LIMITS } from '../../lib/reference';
import { startWorker } from './workers';

async function main(): Promise<void> {
  const worker = startWorker({ mode: 'busy', seed: 1, calls: 0, backend: 'cpu', limits: FUZZ_LIMITS });
  await new Promise((resolve) => worker.once('message', resolve));
  await worker.terminate();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const r = topkSync(Float32Array.from([1, 3, 2]), { k: 1, rows: 1, backend: 'cpu' });
  console.log(r.indices[0] === 1 ? 'survived' : `survived, but answered ${r.indices[0]}`);
}

void main();
