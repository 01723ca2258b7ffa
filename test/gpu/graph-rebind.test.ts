// Graph-safe ops under a caching allocator: every call gets its buffers at new addresses (views
// into a pool, the way PyTorch's allocator hands out blocks), and the op must move its cached
// graph to them instead of capturing again, returning what an eager op returns: byte for byte
// where the output's order is fixed (sorted or deterministic), the same selections otherwise.
import { DeviceBuffer, DType, Stream, TopK, TopKOpOptions, TopKRunArgs } from '../../lib';
import { allocScores, checkTopk, makeScores, pageTableOperands, raggedOffsets, randomInts, randomWindows, sameBytes } from '../../lib/reference';
import type { PageTableOperands } from '../../lib/reference/operands';
import { dtypeBytes } from '../../lib/options';
import { rowsThatDiffer } from '../helpers/compare';
import { describeGpu } from '../helpers/gpu';

jest.setTimeout(300_000);

const ALIGN = 256;

/** A caching allocator's stand-in: views into one allocation, each take at the next free offset, round the pool. */
class Pool {
  private readonly memory: DeviceBuffer;
  private cursor = 0;
  private readonly views: DeviceBuffer[] = [];

  constructor(readonly bytes: number) {
    this.memory = DeviceBuffer.alloc(bytes);
  }

  /** A view of `bytes` at an address the previous takes did not have (until the pool wraps round). */
  take(bytes: number): DeviceBuffer {
    const size = Math.ceil(bytes / ALIGN) * ALIGN;
    if (this.cursor + size > this.bytes) this.cursor = 0;
    const view = DeviceBuffer.wrap(this.memory.ptr + BigInt(this.cursor), bytes, { owner: this.memory });
    this.cursor += size + ALIGN;  // a gap, so a view never starts where the last one ended
    this.views.push(view);
    return view;
  }

  /** Drops the views taken so far (the memory stays: the allocator's cache). */
  release(): void {
    for (const view of this.views.splice(0)) view.dispose();
  }

  dispose(): void {
    this.release();
    this.memory.dispose();
  }
}

interface Case {
  name: string;
  op: TopKOpOptions;
  rows: number;
  stride: number;
  /** Host operands of call i (scores and the optional per-row arrays). */
  operands: (i: number) => { scores: ReturnType<typeof makeScores>; lengths?: Int32Array; rowStarts?: Int32Array; offsets?: Int32Array; table?: PageTableOperands };
}

/** Host operands that differ from call to call, so a replay that read stale addresses shows. */
function windowsCase(name: string, op: TopKOpOptions, rows: number, stride: number, extra: (i: number) => { offsets?: Int32Array; table?: PageTableOperands } = () => ({})): Case {
  const dtype = op.dtype ?? 'f32';
  const sets = Array.from({ length: 5 }, (_, s) => ({
    scores: makeScores(dtype, rows, stride, ['normal', 'relu', 'fewDistinct'], 100 + s),
    ...randomWindows(rows, stride, op.k, 200 + s),
  }));
  return { name, op, rows, stride, operands: (i) => ({ ...sets[(i * 3) % sets.length], ...extra(i) }) };
}

const CASES: Case[] = [
  windowsCase('radix, the path the heuristic picks for few rows (clusters)', { k: 64, maxRows: 4, maxLen: 65_536 }, 4, 65_536),
  windowsCase('radix sorted with values, tie-break large, one CTA per row', { k: 100, maxRows: 8, maxLen: 8192, sorted: true, values: true, tieBreak: 'large', path: 'block' }, 8, 8192),
  windowsCase('radix register kernel, tie-break large, sorted with values', { k: 300, maxRows: 8, maxLen: 8192, tieBreak: 'large', sorted: true, values: true, path: 'register' }, 8, 8192),
  windowsCase('radix batch kernel, deterministic, bf16', { k: 256, maxRows: 8, maxLen: 16_384, dtype: 'bf16', deterministic: true, tieBreak: 'small', path: 'batch' }, 8, 16_384),
  windowsCase('sort backend, deterministic unsorted', { k: 50, maxRows: 6, maxLen: 4096, backend: 'sort', deterministic: true, tieBreak: 'small' }, 6, 4096),
  windowsCase('ragged', { k: 32, maxRows: 5, maxLen: 4096, fuse: 'ragged', tieBreak: 'small', sorted: true }, 5, 4096,
    (i) => ({ offsets: raggedOffsets(5, 300 + (i % 4)) })),
  windowsCase('page table shared by rows, with starts', { k: 48, maxRows: 6, maxLen: 4096, fuse: 'page-table', pageSize: 4, tieBreak: 'small' }, 6, 4096,
    (i) => ({ table: pageTableOperands(6, 4096, 4, 400 + (i % 3), 3) })),
];

/** Runs `calls` calls of `c` through a graph-safe op and an eager twin, every buffer at a new address each call. */
async function runFresh(c: Case, calls: number, alias = false): Promise<{ counts: number[]; problems: string[] }> {
  const stream = new Stream();
  const pool = new Pool(64 << 20);
  const graph = new TopK({ ...c.op, graphSafe: true });
  const eager = new TopK({ ...c.op, graphSafe: false });
  const dtype: DType = c.op.dtype ?? 'f32';
  const slots = c.rows * c.op.k;
  const problems: string[] = [];
  try {
    for (let i = 0; i < calls && problems.length < 5; i++) {
      const h = c.operands(i);
      const upload = (host?: ArrayBufferView) => {
        if (host === undefined) return undefined;
        const view = pool.take(host.byteLength);
        view.copyFrom(host);
        return view;
      };
      const lengths = upload(h.lengths);
      const args: Omit<TopKRunArgs, 'out' | 'values'> = {
        rows: c.rows, stride: c.stride, stream,
        scores: upload(h.scores)!, lengths,
        // Aliased: the row starts read the lengths' buffer (legal; the windows are clamped).
        rowStarts: alias ? lengths : upload(h.rowStarts),
        offsets: upload(h.offsets),
        pageTable: upload(h.table?.pageTable && Int32Array.from(h.table.pageTable)),
        pageTableStride: h.table && (h.table.pageTableStride ?? h.table.pageTable!.length / c.rows),
        rowToBatch: upload(h.table?.rowToBatch && Int32Array.from(h.table.rowToBatch)),
        pageTableStarts: upload(h.table?.pageTableStarts && Int32Array.from(h.table.pageTableStarts)),
      };
      const outputs = () => {
        const o = { out: pool.take(slots * 4), values: c.op.values ? pool.take(slots * dtypeBytes(dtype)) : undefined };
        o.out.fill(0xff, { stream });
        o.values?.fill(0xff, { stream });
        return o;
      };
      const g = outputs();
      const e = outputs();
      graph.run({ ...args, ...g });
      eager.run({ ...args, ...e });
      await stream.synchronizeAsync();
      const read = (o: typeof g) => {
        const indices = new Int32Array(slots);
        o.out.copyTo(indices);
        const values = o.values && allocScores(dtype, slots);
        if (values) o.values!.copyTo(values);
        return { indices, values };
      };
      const got = read(g);
      const want = read(e);
      if (c.op.sorted || c.op.deterministic) {
        if (!sameBytes(got.indices, want.indices)) problems.push(`call ${i}: indices differ from the eager op's`);
        if (got.values && !sameBytes(got.values, want.values!)) problems.push(`call ${i}: values differ from the eager op's`);
      } else {
        // Each row's order is free (the contract): the same selections, in any order.
        const differ = rowsThatDiffer(got, want, c.rows, c.op.k);
        if (differ.length) problems.push(`call ${i}: rows ${differ.join(', ')} select differently from the eager op's`);
      }
      if (i % 10 === 0) {
        const errors = checkTopk(got, h.scores, {
          k: c.op.k, rows: c.rows, dtype, lengths: h.lengths, rowStarts: alias ? h.lengths : h.rowStarts,
          tieBreak: c.op.tieBreak, deterministic: c.op.deterministic, sorted: c.op.sorted, values: c.op.values,
          fuse: c.op.fuse, pageSize: c.op.pageSize, offsets: h.offsets, ...h.table,
        });
        if (errors.length > 0) problems.push(`call ${i}: ${errors.join('; ')}`);
      }
      pool.release();
    }
    // Graphs captured, moves, graphs cached.
    return { counts: [graph.capturedGraphs, graph.reboundGraphs, graph.cachedGraphs], problems };
  } finally {
    eager.dispose();
    graph.dispose();
    pool.dispose();
    stream.dispose();
  }
}

describeGpu('graph-safe ops on new buffer addresses every call', () => {
  test('1000 calls: one capture, 999 moves, every result the eager one', async () => {
    const { counts, problems } = await runFresh(CASES[1], 1000);
    expect(problems).toEqual([]);
    expect(counts).toEqual([1, 999, 1]);
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s: 50 calls, one capture', async (_name, c) => {
    const { counts, problems } = await runFresh(c, 50);
    expect(problems).toEqual([]);
    expect(counts).toEqual([1, 49, 1]);
  });

  test('aliased buffers cannot be told apart: each new set of addresses is captured again, still right', async () => {
    const { counts, problems } = await runFresh(CASES[3], 20, true);
    expect(problems).toEqual([]);
    // Each capture replaces the one of the same shape.
    expect(counts).toEqual([20, 0, 1]);
  });

  // The host time of a moved replay against an eager call is logged, not asserted: a timed
  // assertion in a suite that shares the machine with the others measured their load (it failed
  // three times in full GPU runs, never alone). Timings are the bench's job.
  test('a graph moved to new addresses on every call stays one capture (host time logged)', async () => {
    const stream = new Stream();
    const rows = 4;
    const stride = 4096;
    const k = 64;
    const opts: TopKOpOptions = { k, maxRows: rows, maxLen: stride, sorted: true, tieBreak: 'small' };
    const pool = new Pool(32 << 20);
    const sets = Array.from({ length: 16 }, (_, s) => {
      const scores = pool.take(rows * stride * 4);
      scores.copyFrom(makeScores('f32', rows, stride, 'normal', s));
      const lengths = pool.take(rows * 4);
      lengths.copyFrom(randomInts(rows, 1, stride, 50 + s));
      return { scores, lengths, out: pool.take(rows * k * 4) };
    });
    const time = (op: TopK, calls: number) => {
      const started = performance.now();
      for (let i = 0; i < calls; i++) op.run({ ...sets[i % sets.length], rows, stride, stream });
      stream.synchronize();
      return (performance.now() - started) / calls;
    };
    const graph = new TopK({ ...opts, graphSafe: true });
    const eager = new TopK(opts);
    try {
      time(graph, 50);
      time(eager, 50);
      // The best of 5 interleaved rounds of 200 calls each.
      const us = { eager: Infinity, graph: Infinity };
      for (let round = 0; round < 5; round++) {
        us.eager = Math.min(us.eager, 1000 * time(eager, 200));
        us.graph = Math.min(us.graph, 1000 * time(graph, 200));
      }
      console.log(`sorted calls of ${rows} x ${stride}, k ${k}, new addresses each call, best of 5 rounds of 200: eager ${us.eager.toFixed(1)} us/call, graph moved each call ${us.graph.toFixed(1)} us/call`);
      expect(graph.capturedGraphs).toBe(1);
    } finally {
      for (const x of [graph, eager, pool, stream]) x.dispose();
    }
  });
});
