// One resource check of gpu/resources.test.ts, run as a process of its own with --expose-gc (jest
// cannot collect garbage on demand) through register-ts.js:
//   node --expose-gc -r test/helpers/register-ts.js test/helpers/resources-child.ts <phase> <count>
// Prints one JSON line (ResourceReport). What is measured: every phase allocates 1.2 times the
// device's memory in all, so freeing nothing runs out of memory (a failure that names the phase);
// and, where nvidia-smi lists this process, its GPU memory before and after (after a warm-up of
// the same work, so kernels loaded lazily and the CUDA context count before).
import { spawnSync } from 'child_process';
import { DeviceBuffer, Stream, TopK, cudaStatus } from '../../lib';

export interface ResourceReport {
  phase: string;
  count: number;
  /** Bytes the phase allocated in all, and the device's memory. */
  allocatedBytes: number;
  deviceBytes: number;
  /** This process's GPU memory in MiB per nvidia-smi, or null where it does not list the process. */
  mibBefore: number | null;
  mibAfter: number | null;
  seconds: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

/** This process's GPU memory in MiB, as nvidia-smi reports it, or null. */
function processMiB(): number | null {
  const r = spawnSync('nvidia-smi', ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  for (const line of r.stdout.split('\n')) {
    const [pid, mib] = line.split(',').map((x) => Number(x.trim()));
    if (pid === process.pid && Number.isFinite(mib)) return mib;
  }
  return null;
}

/** Collects garbage and lets the finalizers it queued run (Node runs them after the collection). */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const MiB = 2 ** 20;
const deviceBytes = cudaStatus().devices[0].totalMemory;
/** Bytes per item so that `count` items add up to 1.2 times the device's memory, in whole MiB. */
const share = (count: number) => Math.ceil((1.2 * deviceBytes) / count / MiB) * MiB;

/** `count` buffers of `bytes`, each disposed at once. */
function disposeCycles(count: number, bytes: number): number {
  for (let i = 0; i < count; i++) DeviceBuffer.alloc(bytes).dispose();
  return count * bytes;
}

/** `count` buffers of `bytes` dropped undisposed, the garbage collected every `batch`. */
async function finalizedBuffers(count: number, bytes: number): Promise<number> {
  const batch = 500;
  for (let i = 0; i < count; i++) {
    DeviceBuffer.alloc(bytes);
    if (i % batch === batch - 1) await collect();
  }
  return count * bytes;
}

/**
 * `count` sort-backend ops (a workspace of about `bytes` each) dropped undisposed after one run
 * each; every other op is graph-safe, so it also leaves a captured graph to its finalizer.
 */
async function finalizedOps(count: number, bytes: number): Promise<number> {
  const maxLen = 4096;
  // The sort backend's workspace holds two words of 8 bytes per position of its maxima.
  const maxRows = Math.ceil(bytes / (maxLen * 16));
  const stream = new Stream();
  const scores = DeviceBuffer.from(Float32Array.from({ length: 64 }, (_, i) => i));
  const out = DeviceBuffer.alloc({ dtype: 'i32', length: 8 });
  const batch = 200;
  let allocated = 0;
  for (let i = 0; i < count; i++) {
    const op = new TopK({ k: 8, maxRows, maxLen, backend: 'sort', graphSafe: i % 2 === 0, tieBreak: 'none', deterministic: false, fuse: 'none' });
    allocated += op.workspaceBytes;
    op.run({ scores, rows: 1, stride: 64, out, stream });
    if (i % batch === batch - 1) {
      stream.synchronize();
      await collect();
    }
  }
  stream.synchronize();
  const got = new Int32Array(8);
  out.copyTo(got);
  // The last run's answer (any order): positions 56..63 hold the greatest scores.
  if ([...got].sort((a, b) => a - b).join() !== '56,57,58,59,60,61,62,63') throw new Error(`the last op answered ${got}`);
  for (const x of [scores, out, stream]) x.dispose();
  return allocated;
}

const PHASES: Record<string, (count: number, bytes: number) => number | Promise<number>> = {
  'dispose-cycles': disposeCycles,
  'finalized-buffers': finalizedBuffers,
  'finalized-ops': finalizedOps,
};

async function main(): Promise<void> {
  const [phase, countText] = process.argv.slice(2);
  const run = PHASES[phase];
  if (!run) throw new Error(`unknown phase ${phase}; phases: ${Object.keys(PHASES).join(', ')}`);
  const count = Number(countText);
  const bytes = share(count);
  // Warm-up: the same work, a little of it, so what loads once is loaded before the first reading.
  await run(Math.max(2, Math.floor(count / 1000)), bytes);
  await collect();
  const mibBefore = processMiB();
  const started = performance.now();
  const allocatedBytes = await run(count, bytes);
  await collect();
  const report: ResourceReport = {
    phase, count, allocatedBytes, deviceBytes, mibBefore, mibAfter: processMiB(), seconds: (performance.now() - started) / 1000,
  };
  console.log(JSON.stringify(report));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
