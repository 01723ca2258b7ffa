// One worker thread of score-sets.ts: fills each chunk it is sent at the start of the buffer that
// came with it (or of a new one, the first time) and transfers the buffer back.
import { parentPort, workerData } from 'worker_threads';
import { allocScores } from '../reference/codec';
import { CHUNK, ChunkMessage, SetSpec, chunkLength, fillChunk } from './score-sets';

const spec = workerData as SetSpec;

parentPort!.on('message', ({ chunk, buffer }: ChunkMessage) => {
  const scores = !buffer ? allocScores(spec.dtype, CHUNK) : spec.dtype === 'f32' ? new Float32Array(buffer) : new Uint16Array(buffer);
  fillChunk(spec, chunk, scores.subarray(0, chunkLength(spec.length, chunk)));
  const reply: Required<ChunkMessage> = { chunk, buffer: scores.buffer as ArrayBuffer };
  parentPort!.postMessage(reply, [reply.buffer]);
});
