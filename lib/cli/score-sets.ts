// Bench's input sets, filled in chunks that worker threads can share. A set is cut into chunks of
// CHUNK scores, each filled by fillScores from a generator of its own (itemRng of the seed and the
// chunk's index over all sets), so a set's bytes depend on (seed, set) alone: not on how many
// workers fill it, nor on whether any does. A large set (537M scores take 20 s on one core) goes
// to worker threads (score-sets-worker.ts), each filling a chunk in a buffer of its own and
// transferring it back for this thread to copy into place: the set stays a plain ArrayBuffer (not
// a SharedArrayBuffer) for the native code that reads it. A small one is filled here, chunk by
// chunk, in the same way.
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { DType } from '../options';
import type { ScoresArray } from '../topk';
// From the modules themselves, not reference/index.ts: a worker loads only what it draws with.
import { itemRng } from '../reference/random';
import { ScoreKind, fillScores } from '../reference/scores';

/** Scores per chunk: the unit of work and of seeding (16 MiB of f32). */
export const CHUNK = 1 << 22;

/**
 * Sets this large go to worker threads by default: a worker takes about 0.1 s to start, as long
 * as a chunk takes to fill, so smaller sets gain little or nothing (measured on 2 cores).
 */
export const PARALLEL_MIN = 4 * CHUNK;

/** The most worker threads a set gets by default. */
const MAX_WORKERS = 16;

/**
 * The worker's script beside this module: .js in dist/, .ts when the sources run under a
 * TypeScript loader (the tests' register-ts.js, which a worker inherits through execArgv).
 */
const WORKER_SCRIPT = path.join(__dirname, `score-sets-worker${path.extname(__filename)}`);

/** Set `set` of a run seeded with `seed`: what a worker is given (workerData). */
export interface SetSpec {
  dtype: DType;
  kind: ScoreKind;
  seed: number;
  set: number;
  /** Scores in the set. */
  length: number;
  /** Scores per row of the set's matrix, for the kinds drawn per row (hotSpan: a span a row); the whole set by default. */
  row?: number;
}

export interface FillOptions {
  /** Worker threads, 0 to fill on this thread; by default one per core up to MAX_WORKERS for PARALLEL_MIN scores or more, else 0. */
  workers?: number;
  /** Called after each chunk is in place, with the chunks done and the set's chunk count. */
  onChunk?: (done: number, chunks: number) => void;
}

const chunkCount = (length: number): number => Math.ceil(length / CHUNK);

/** Scores in chunk `chunk` of a set of `length` (the last one may be short). */
export const chunkLength = (length: number, chunk: number): number => Math.min(CHUNK, length - chunk * CHUNK);

/** Fills `out` (chunkLength scores) with chunk `chunk` of the set. */
export function fillChunk(spec: SetSpec, chunk: number, out: ScoresArray): void {
  // The rows' spans from a stream of the set's own, apart from its chunks'.
  const rows = { origin: chunk * CHUNK, row: spec.row ?? spec.length, seed: itemRng(spec.seed, -1 - spec.set)() * 2 ** 32 };
  fillScores(spec.dtype, spec.kind, out, itemRng(spec.seed, spec.set * chunkCount(spec.length) + chunk), rows);
}

/** Fills `out` with set `set` of `kind` scores seeded with `seed`. */
export async function fillSet(out: ScoresArray, spec: Omit<SetSpec, 'length'>, options: FillOptions = {}): Promise<void> {
  const full: SetSpec = { ...spec, length: out.length };
  const chunks = chunkCount(out.length);
  const defaultWorkers = out.length >= PARALLEL_MIN ? Math.min(MAX_WORKERS, os.availableParallelism()) : 0;
  const workers = Math.min(chunks, options.workers ?? defaultWorkers);
  if (workers === 0) {
    for (let c = 0; c < chunks; c++) {
      fillChunk(full, c, out.subarray(c * CHUNK, c * CHUNK + CHUNK));
      options.onChunk?.(c + 1, chunks);
    }
    return;
  }
  await fillInWorkers(out, full, workers, options.onChunk);
}

/**
 * A chunk to fill, sent to a worker with the buffer of its previous one (none the first time: it
 * makes one of CHUNK scores), and posted back filled at the buffer's start; the buffer travels
 * both ways by transfer. Reusing it spares a worker the page faults of fresh memory at every chunk
 * (a first touch costs more than the filling's memory traffic).
 */
export interface ChunkMessage {
  chunk: number;
  buffer?: ArrayBuffer;
}

/** Fills `out` by `workers` worker threads, each given the next chunk not yet handed out as it posts one back. */
function fillInWorkers(out: ScoresArray, spec: SetSpec, workers: number, onChunk: FillOptions['onChunk']): Promise<void> {
  const chunks = chunkCount(out.length);
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  const started = Array.from({ length: workers }, () => new Worker(WORKER_SCRIPT, { workerData: spec }));
  const stop = () => Promise.all(started.map((w) => w.terminate()));
  return new Promise<void>((resolve, reject) => {
    let next = 0;
    let done = 0;
    const fail = (err: Error) => { void stop(); reject(err); };
    for (const worker of started) {
      worker.on('message', ({ chunk, buffer }: Required<ChunkMessage>) => {
        const width = out.BYTES_PER_ELEMENT;
        bytes.set(new Uint8Array(buffer, 0, chunkLength(out.length, chunk) * width), chunk * CHUNK * width);
        done++;
        onChunk?.(done, chunks);
        if (next < chunks) worker.postMessage({ chunk: next++, buffer } satisfies ChunkMessage, [buffer]);
        else if (done === chunks) stop().then(() => resolve(), reject);
      });
      worker.on('error', fail);
      worker.on('exit', (code) => { if (done < chunks) fail(new Error(`a score-filling worker exited with code ${code}`)); });
      worker.postMessage({ chunk: next++ } satisfies ChunkMessage);
    }
  });
}
