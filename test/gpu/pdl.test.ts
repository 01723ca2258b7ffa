// PDL (pdl: true): a call's first kernel may start while the kernel before it on the stream is
// still running, so it must read nothing before that kernel's writes are done, and its own early
// trigger must not let the next kernel read its outputs too soon. A three-op chain checks both:
//  - the producer (values: true, k = the row length, so every position is selected and its values,
//    in position order, are a copy of its input) writes the scores into a buffer filled with NaN
//    decoys, the greatest key, right before the top-k; a top-k that read early would select them;
//  - the top-k under test (pdl: true, each kernel path) reads that buffer;
//  - a dependent op (pdl: true) reads the top-k's values as its scores.
// Every result is compared, byte for byte, with the CPU backend's: eager, as the replay of a
// captured graph of the whole chain (where the launches become programmatic edges), and with
// graph-safe ops (each call the replay of the op's own graph, its first node a PDL kernel).
import { DeviceBuffer, Stream, TopK, captureGraph, cudaStatus, topkSync } from '../../lib';
import type { TopKOpOptions } from '../../lib';
import { makeScores } from '../../lib/reference';
import { Owned, describeGpu } from '../helpers/gpu';
import { testSeed } from '../helpers/seed';
import { diffAt } from '../reference';

jest.setTimeout(300_000);

const SEED = testSeed(20260502);
/** The dependent op's k. */
const DEPENDENT_K = 64;
/** Rounds of new scores per case, each through the same ops (and the same graph). */
const ROUNDS = 3;

interface Case {
  rows: number;
  length: number;
  k: number;
  op: Pick<TopKOpOptions, 'backend' | 'path' | 'sorted'>;
  /** The top-k's row lengths on the device (none: whole rows). */
  lengths?: number[];
}

/** One case per kernel path that can be a call's first kernel (the batch shape fills the SMs). */
function cases(sms: number): [string, Case][] {
  return [
    ['batch kernel', { rows: Math.max(132, sms), length: 65536, k: 2048, op: { backend: 'radix', path: 'batch' } }],
    ['register kernel', { rows: Math.max(132, sms), length: 8192, k: 2048, op: { backend: 'radix', path: 'register' } }],
    ['radix, cached cluster', { rows: 4, length: 32768, k: 2048, op: { backend: 'radix', path: 'cluster' } }],
    ['radix, streamed', { rows: 8, length: 65536, k: 2048, op: { backend: 'radix', path: 'block' } }],
    ['radix, sorted (radix kernel, then the sort kernels)', { rows: 8, length: 16384, k: 512, op: { backend: 'radix', sorted: true } }],
    ['sort backend', { rows: 6, length: 8192, k: 512, op: { backend: 'sort' } }],
    // The spread kernels on the stream and, for the rows short on the device, the radix kernel on
    // the op's branch: each is a first kernel (after the fork).
    ['spread, with the length split', { rows: 4, length: 300000, k: 2048, op: { backend: 'radix' }, lengths: [300000, 50000, 262145, 4096] }],
    // The chunked path's first stage (the batch kernel on chunks), then its candidates' top-k and
    // its gather, each launched with PDL behind the one before.
    ['chunked path', { rows: 4, length: 140000, k: 2048, op: { backend: 'radix', path: 'chunked' }, lengths: [140000, 50000, 131073, 4096] }],
  ];
}

/**
 * The chain for one case on `stream`: `enqueue()` poisons the scores and outputs (unless `poison`
 * is false), then runs producer, top-k and dependent.
 */
function chain(owned: Owned, c: Case, stream: Stream, graphSafe = false) {
  const { rows, length, k } = c;
  // Every option that has a flag or variable is given, so the process's cannot change them.
  const common = { maxRows: rows, tieBreak: 'small', deterministic: true, fuse: 'none', values: true, graphSafe, pdl: true } as const;
  const producer = owned.keep(new TopK({ ...common, k: length, maxLen: length, backend: 'radix' }));
  const topk = owned.keep(new TopK({ ...common, k, maxLen: length, ...c.op }));
  const dependent = owned.keep(new TopK({ ...common, k: DEPENDENT_K, maxLen: k, backend: 'radix' }));
  const f32 = (length: number) => owned.keep(DeviceBuffer.alloc({ dtype: 'f32', length }));
  const i32 = (length: number) => owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length }));
  const source = f32(rows * length);
  const scores = f32(rows * length);
  const out = { producer: i32(rows * length), topk: i32(rows * k), dependent: i32(rows * DEPENDENT_K) };
  const lengths = c.lengths ? owned.keep(DeviceBuffer.from(Int32Array.from(c.lengths))) : undefined;
  const values = { topk: f32(rows * k), dependent: f32(rows * DEPENDENT_K) };
  const enqueue = (poison = true) => {
    // 0xff bytes: NaN in every slot, the decoys the producer overwrites.
    if (poison) for (const b of [scores, out.topk, out.dependent, values.topk, values.dependent]) b.fill(0xff, { stream });
    producer.run({ scores: source, rows, stride: length, out: out.producer, values: scores, stream });
    topk.run({ scores, rows, stride: length, lengths, out: out.topk, values: values.topk, stream });
    dependent.run({ scores: values.topk, rows, stride: k, out: out.dependent, values: values.dependent, stream });
  };
  const read = () => {
    const get = <T extends Int32Array | Float32Array>(b: DeviceBuffer, host: T) => { b.copyTo(host); return host; };
    return {
      topk: { indices: get(out.topk, new Int32Array(rows * k)), values: get(values.topk, new Float32Array(rows * k)) },
      dependent: { indices: get(out.dependent, new Int32Array(rows * DEPENDENT_K)), values: get(values.dependent, new Float32Array(rows * DEPENDENT_K)) },
    };
  };
  return { source, enqueue, read };
}

/** What the CPU backend returns for the top-k and for the dependent over its values. */
function expected(c: Case, host: Float32Array) {
  const options = { rows: c.rows, backend: 'cpu', tieBreak: 'small', deterministic: true, values: true } as const;
  const topk = topkSync(host, { ...options, k: c.k, sorted: c.op.sorted, lengths: c.lengths });
  const dependent = topkSync(topk.values as Float32Array, { ...options, k: DEPENDENT_K });
  return { topk, dependent };
}

type Got = ReturnType<ReturnType<typeof chain>['read']>;

function expectSame(got: Got, want: ReturnType<typeof expected>, label: string): void {
  const diff = {
    topkIndices: diffAt(got.topk.indices, want.topk.indices),
    topkValues: diffAt(got.topk.values, want.topk.values!),
    dependentIndices: diffAt(got.dependent.indices, want.dependent.indices),
    dependentValues: diffAt(got.dependent.values, want.dependent.values!),
  };
  // -1: no byte differs.
  expect({ label, diff }).toEqual({ label, diff: { topkIndices: -1, topkValues: -1, dependentIndices: -1, dependentValues: -1 } });
}

describeGpu('PDL: a top-k right after the kernel that writes its scores', () => {
  const sms = () => cudaStatus().devices[0].multiProcessors;
  const names = cases(132).map(([name]) => name);

  test.each(names)('%s: eager, as a captured graph and graph-safe, each round equal to the CPU backend', async (name) => {
    const c = cases(sms()).find(([n]) => n === name)![1];
    const owned = new Owned();
    try {
      const stream = owned.keep(new Stream());
      const plain = chain(owned, c, stream);
      const safe = chain(owned, c, stream, true);
      // One eager chain first: a first call may load a module, which a capture must not do.
      plain.enqueue();
      await stream.synchronizeAsync();
      const graph = owned.keep(captureGraph(stream, () => plain.enqueue()));
      const modes: [string, typeof plain, () => void][] = [
        ['eager', plain, () => plain.enqueue()],
        ['captured graph', plain, () => graph.replay(stream)],
        ['graph-safe ops', safe, () => safe.enqueue()],
      ];
      for (let round = 0; round < ROUNDS; round++) {
        const host = makeScores('f32', c.rows, c.length, ['normal', 'relu', 'fewDistinct'], SEED + round) as Float32Array;
        const want = expected(c, host);
        for (const [mode, ch, run] of modes) {
          ch.source.copyFrom(host);
          run();
          await stream.synchronizeAsync();
          expectSame(ch.read(), want, `${name}, round ${round}, ${mode}`);
        }
      }
    } finally {
      owned.dispose();
    }
  });

  test('back to back: chains enqueued without a sync or a poison between them end right', async () => {
    // Each producer follows the previous chain's dependent, kernel after kernel: it overwrites the
    // scores that chain's top-k read, which is safe only because every wait is for a kernel that
    // itself waited for the one before it.
    const c = cases(sms())[0][1];
    const owned = new Owned();
    try {
      const stream = owned.keep(new Stream());
      const { source, enqueue, read } = chain(owned, c, stream);
      const host = makeScores('f32', c.rows, c.length, 'normal', SEED + ROUNDS) as Float32Array;
      source.copyFrom(host);
      for (let i = 0; i < 20; i++) enqueue(i === 0);
      await stream.synchronizeAsync();
      expectSame(read(), expected(c, host), 'back to back');
    } finally {
      owned.dispose();
    }
  });
});
