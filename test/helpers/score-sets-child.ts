// Bench's input sets filled by worker threads, run as a process of its own through register-ts.js
// (a worker thread inherits the loader; jest does not reach one):
//   node -r test/helpers/register-ts.js test/helpers/score-sets-child.ts '<ChildJob as JSON>'
// Fills the set once per entry of `workers` (null: fillSet with no options, all defaults) and
// prints one JSON line of ChildFill per fill.
import { createHash } from 'crypto';
import { SetSpec, fillSet } from '../../lib/cli/score-sets';
import { allocScores } from '../../lib/reference';

export interface ChildJob {
  spec: SetSpec;
  workers: (number | null)[];
}

export interface ChildFill {
  workers: number | null;
  /** sha256 of the set's bytes. */
  sha256: string;
  /** onChunk's calls, as [done, chunks] (none without options). */
  progress: [number, number][];
}

/** sha256 of a set's bytes. */
export const hashOf = (scores: { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }): string =>
  createHash('sha256').update(new Uint8Array(scores.buffer, scores.byteOffset, scores.byteLength)).digest('hex');

async function main(): Promise<void> {
  const { spec, workers } = JSON.parse(process.argv[2]) as ChildJob;
  for (const w of workers) {
    const out = allocScores(spec.dtype, spec.length);
    const progress: [number, number][] = [];
    if (w === null) await fillSet(out, spec);
    else await fillSet(out, spec, { workers: w, onChunk: (done, chunks) => progress.push([done, chunks]) });
    const fill: ChildFill = { workers: w, sha256: hashOf(out), progress };
    console.log(JSON.stringify(fill));
  }
}

if (require.main === module) void main();
