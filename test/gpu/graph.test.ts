// Graph-safe mode from the TypeScript layer: a graphSafe op captures one graph per distinct call
// and replays it; replays must return, byte for byte, what an eager op returns on the device
// contents of the moment (lengths, row starts, offsets, page tables, scores), whatever path those
// contents would pick eagerly. captureGraph puts several ops into one caller-owned graph.
import { DeviceBuffer, DType, NsaTopkError, Stream, TopK, TopKOpOptions, TopKRunArgs, captureGraph } from '../../lib';
import { Owned, describeGpu } from '../helpers/gpu';
import { allocScores, checkTopk, makePageTable, makeScores, randomInts, rng } from '../../lib/reference';
import { RefOptions, Scores, diffAt } from '../reference';

jest.setTimeout(300_000);

type Inputs = Omit<TopKRunArgs, 'out' | 'values' | 'stream'>;

function download(buf: DeviceBuffer, dtype: DType | 'i32', length: number): Int32Array | Scores {
  const host = dtype === 'i32' ? new Int32Array(length) : allocScores(dtype, length);
  buf.copyTo(host);
  return host;
}

/**
 * A graph-safe op and an eager twin with the same options, each with its own poisoned outputs;
 * `both()` runs the pair on the same inputs and returns both results.
 */
function pair(owned: Owned, opts: TopKOpOptions, stream: Stream) {
  const graph = owned.keep(new TopK({ ...opts, graphSafe: true }));
  const eager = owned.keep(new TopK({ ...opts, graphSafe: false }));
  const dtype = opts.dtype ?? 'f32';
  const slots = opts.maxRows * opts.k;
  const outputs = () => ({
    out: owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: slots })),
    values: opts.values ? owned.keep(DeviceBuffer.alloc({ dtype, length: slots })) : undefined,
  });
  const g = outputs();
  const e = outputs();
  const read = (o: typeof g, rows: number) => ({
    indices: download(o.out, 'i32', rows * opts.k) as Int32Array,
    values: o.values ? (download(o.values, dtype, rows * opts.k) as Scores) : undefined,
  });
  const both = async (inputs: Inputs) => {
    for (const o of [g, e]) { o.out.fill(0xff, { stream }); o.values?.fill(0xff, { stream }); }
    graph.run({ ...inputs, ...g, stream });
    eager.run({ ...inputs, ...e, stream });
    await stream.synchronizeAsync();
    return { graph: read(g, inputs.rows), eager: read(e, inputs.rows) };
  };
  return { graph, eager, both, outputs: g };
}

/** The graph result equals the eager one byte for byte and is right under the contract. */
function expectSame(r: { graph: { indices: Int32Array; values?: Scores }; eager: { indices: Int32Array; values?: Scores } }, scores: Scores, o: RefOptions, label: string): void {
  expect({ label, indices: diffAt(r.graph.indices, r.eager.indices) }).toEqual({ label, indices: -1 });
  if (r.eager.values) expect({ label, values: diffAt(r.graph.values!, r.eager.values) }).toEqual({ label, values: -1 });
  expect({ label, errors: checkTopk(r.graph, scores, o) }).toEqual({ label, errors: [] });
}

/** Per-row lengths for the named scenario, against a window that may start anywhere. */
function lengthsFor(kind: string, rows: number, stride: number, k: number, seed: number): Int32Array {
  const pick: Record<string, (r: number) => number> = {
    capture: () => 1000,
    longer: () => 50_000,
    shorter: () => 300,
    zero: () => 0,
    belowK: () => k - 1,
    exactlyK: () => k,
    aboveK: () => k + 1,
    full: () => stride,
    // Beyond the row: clamped to stride - rowStart.
    overlong: () => stride * 2,
    negative: () => -5,
    mixed: (r) => [0, 1, k - 1, k, k + 1, 4096, stride / 2, stride][r % 8],
    // Both sides of the spread path's length split (on the H200, rows of up to 262144 take the
    // radix kernel in ops of 4 rows up to the 8-CTA clusters it runs at once, up to 131072 in
    // others), and 131072's.
    split: (r) => [262_145, 262_144, 4096, stride, 0, 131_073, k + 1, 131_072][r % 8],
  };
  if (kind === 'random') return randomInts(rows, 0, stride, seed);
  return Int32Array.from({ length: rows }, (_, r) => pick[kind](r));
}

const SCENARIOS = ['capture', 'longer', 'shorter', 'zero', 'belowK', 'exactlyK', 'aboveK', 'full', 'overlong', 'negative', 'mixed', 'random', 'split'];

describeGpu('graph-safe TopK', () => {
  // maxLen 131072: lengths from 1000 to 131072 would pick different paths (one CTA per row, a
  // cluster per row) if the host chose from the data; a graph-safe op must not. maxLen 300000:
  // the spread kernels, which leave rows of up to 262144 (these 8 rows, on the H200) on the device
  // to the radix kernel beside them when unsorted (the length split), both in one captured graph.
  const rows = 8;
  const k = 2048;

  test.each([
    ['f32', 'small', false, 131_072],
    ['f32', 'large', true, 131_072],
    ['f32', 'none', false, 131_072],
    ['bf16', 'small', true, 131_072],
    ['f32', 'small', false, 300_000],
    ['f32', 'large', false, 300_000],
    ['bf16', 'none', false, 300_000],
    ['f32', 'large', true, 300_000],
  ] as const)('%s tieBreak %s sorted %s maxLen %d: one capture replays every length scenario like eager', async (dtype, tieBreak, sorted, stride) => {
    const owned = new Owned();
    try {
      const stream = owned.keep(new Stream());
      const opts: TopKOpOptions = { k, maxRows: rows, maxLen: stride, dtype, tieBreak, deterministic: true, sorted, values: true };
      const p = pair(owned, opts, stream);
      const dScores = owned.keep(DeviceBuffer.alloc({ dtype, length: rows * stride }));
      const dLengths = owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: rows }));
      const dStarts = owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: rows }));
      let scores = makeScores(dtype, rows, stride, ['relu', 'normal', 'fewDistinct', 'sparse'], 7);
      await dScores.copyFromAsync(scores, { stream });
      for (const [i, kind] of SCENARIOS.entries()) {
        // New scores every few scenarios, so scores change between replays too.
        if (i % 4 === 3) {
          scores = makeScores(dtype, rows, stride, ['equal', 'normal', 'special', 'relu'], 100 + i);
          await dScores.copyFromAsync(scores, { stream });
        }
        const lengths = lengthsFor(kind, rows, stride, k, 200 + i);
        // Starts at 0 for the long windows, else anywhere (the kernel clamps what overhangs).
        const rowStarts = kind === 'full' || kind === 'overlong' || kind === 'split' ? new Int32Array(rows) : randomInts(rows, 0, stride / 2, 300 + i);
        await dLengths.copyFromAsync(lengths, { stream });
        await dStarts.copyFromAsync(rowStarts, { stream });
        const r = await p.both({ scores: dScores, rows, stride, lengths: dLengths, rowStarts: dStarts });
        expectSame(r, scores, { ...opts, rows, lengths, rowStarts }, kind);
      }
      expect(p.graph.capturedGraphs).toBe(1);
      expect(p.graph.cachedGraphs).toBe(1);
    } finally {
      owned.dispose();
    }
  });

  test('fused transforms: replays see new offsets, page tables, row-to-batch maps and starts', async () => {
    const owned = new Owned();
    try {
      const stream = owned.keep(new Stream());
      const len = 20_480;
      const kk = 256;
      const scores = makeScores('f32', rows, len, ['normal', 'relu'], 11);
      const dScores = owned.keep(DeviceBuffer.from(scores));
      const dLengths = owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: rows }));
      const put = async (buf: DeviceBuffer, host: Int32Array) => { await buf.copyFromAsync(host, { stream }); };

      const ragged: TopKOpOptions = { k: kk, maxRows: rows, maxLen: len, fuse: 'ragged', tieBreak: 'small', deterministic: true };
      const pr = pair(owned, ragged, stream);
      const dOffsets = owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: rows }));
      for (const seed of [1, 2, 3]) {
        const offsets = randomInts(rows, 0, 1 << 20, seed);
        const lengths = randomInts(rows, 0, len, 10 + seed);
        await put(dOffsets, offsets);
        await put(dLengths, lengths);
        const r = await pr.both({ scores: dScores, rows, stride: len, lengths: dLengths, offsets: dOffsets });
        expectSame(r, scores, { ...ragged, rows, lengths, offsets }, `ragged ${seed}`);
      }
      expect(pr.graph.capturedGraphs).toBe(1);

      const pageSize = 64;
      const batches = 3;
      // Room for a window shifted by any start below 2 pages.
      const pagesPerBatch = len / pageSize + 2;
      const paged: TopKOpOptions = { k: kk, maxRows: rows, maxLen: len, fuse: 'page-table', pageSize, tieBreak: 'large', deterministic: true, values: true };
      const pp = pair(owned, paged, stream);
      const dTable = owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: batches * pagesPerBatch }));
      const dBatch = owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: rows }));
      const dTableStarts = owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: rows }));
      for (const seed of [1, 2, 3]) {
        const pageTable = makePageTable(batches, pagesPerBatch, seed);
        const rowToBatch = randomInts(rows, 0, batches - 1, 20 + seed);
        const pageTableStarts = randomInts(rows, 0, 2 * pageSize - 1, 30 + seed);
        const lengths = randomInts(rows, 0, len, 40 + seed);
        for (const [buf, host] of [[dTable, pageTable], [dBatch, rowToBatch], [dTableStarts, pageTableStarts], [dLengths, lengths]] as const) await put(buf, host);
        const r = await pp.both({
          scores: dScores, rows, stride: len, lengths: dLengths,
          pageTable: dTable, pageTableStride: pagesPerBatch, rowToBatch: dBatch, pageTableStarts: dTableStarts,
        });
        expectSame(r, scores, { ...paged, rows, lengths, pageTable, pageTableStride: pagesPerBatch, rowToBatch, pageTableStarts }, `page-table ${seed}`);
      }
      expect(pp.graph.capturedGraphs).toBe(1);
    } finally {
      owned.dispose();
    }
  });

  test('1000 replays with random lengths and starts: all valid, every 50th equal to eager', async () => {
    const owned = new Owned();
    try {
      const stream = owned.keep(new Stream());
      const n = 16;
      const len = 32_768;
      const kk = 512;
      const opts: TopKOpOptions = { k: kk, maxRows: n, maxLen: len, tieBreak: 'small', deterministic: true };
      const p = pair(owned, opts, stream);
      const scores = makeScores('f32', n, len, ['normal', 'relu', 'sparse', 'fewDistinct'], 5);
      const dScores = owned.keep(DeviceBuffer.from(scores));
      const dLengths = owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: n }));
      const dStarts = owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: n }));
      const rand = rng(77);
      const indices = new Int32Array(n * kk);
      const bad: string[] = [];
      for (let it = 0; it < 1000 && bad.length === 0; it++) {
        // Mostly in range, sometimes past the row or negative (clamped), sometimes around k.
        const lengths = Int32Array.from({ length: n }, () => {
          const u = rand();
          if (u < 0.1) return Math.floor(rand() * 2 * kk);
          if (u < 0.15) return -Math.floor(rand() * 100);
          if (u < 0.2) return len + Math.floor(rand() * len);
          return Math.floor(rand() * len);
        });
        const rowStarts = Int32Array.from({ length: n }, () => (rand() < 0.5 ? 0 : Math.floor(rand() * len)));
        await dLengths.copyFromAsync(lengths, { stream });
        await dStarts.copyFromAsync(rowStarts, { stream });
        const args = { scores: dScores, rows: n, stride: len, lengths: dLengths, rowStarts: dStarts };
        if (it % 50 === 0) {
          expectSame(await p.both(args), scores, { ...opts, rows: n, lengths, rowStarts }, `iteration ${it}`);
          continue;
        }
        p.outputs.out.fill(0xff, { stream });
        p.graph.run({ ...args, ...p.outputs, stream });
        await stream.synchronizeAsync();
        p.outputs.out.copyTo(indices);
        // Quick validity: min(k, window) ascending in-window positions, then padding.
        for (let r = 0; r < n && bad.length === 0; r++) {
          const start = Math.min(Math.max(rowStarts[r], 0), len);
          const window = Math.min(Math.max(lengths[r], 0), len - start);
          const want = Math.min(kk, window);
          for (let i = 0; i < kk; i++) {
            const j = indices[r * kk + i];
            const ok = i < want ? j >= 0 && j < window && (i === 0 || j > indices[r * kk + i - 1]) : j === -1;
            if (!ok) { bad.push(`iteration ${it} row ${r} slot ${i}: ${j} (window ${window})`); break; }
          }
        }
      }
      expect(bad).toEqual([]);
      expect(p.graph.capturedGraphs).toBe(1);
    } finally {
      owned.dispose();
    }
  });

  test('an op whose branch a capture holds runs right on another stream meanwhile', async () => {
    // A call that splits its rows by length forks the op's branch stream into the caller's
    // capture, where it stays until the capture ends; a call of the same op on a stream outside
    // that capture must not fork (it would break the capture) and keeps its rows on the spread
    // kernels.
    const owned = new Owned();
    try {
      const s1 = owned.keep(new Stream());
      const s2 = owned.keep(new Stream());
      const n = 4;
      const len = 140_000;
      const kk = 2048;
      const opts: TopKOpOptions = { k: kk, maxRows: n, maxLen: len, tieBreak: 'small', deterministic: true };
      const op = owned.keep(new TopK(opts));
      const scores = makeScores('f32', n, len, ['normal', 'relu'], 80);
      const lengths = Int32Array.from([4096, len, 50_000, 131_073]);
      const dScores = owned.keep(DeviceBuffer.from(scores));
      const dLengths = owned.keep(DeviceBuffer.from(lengths));
      const outs = [0, 1].map(() => owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: n * kk })));
      for (const o of outs) o.fill(0xff, { stream: s2 });
      await s2.synchronizeAsync();
      const inputs = { scores: dScores, rows: n, stride: len, lengths: dLengths };
      const graph = owned.keep(captureGraph(s1, () => {
        op.run({ ...inputs, out: outs[0], stream: s1 });
        op.run({ ...inputs, out: outs[1], stream: s2 });
      }));
      await s2.synchronizeAsync();
      graph.replay(s1);
      await s1.synchronizeAsync();
      for (const [i, out] of outs.entries()) {
        const got = download(out, 'i32', n * kk) as Int32Array;
        expect({ i, errors: checkTopk({ indices: got }, scores, { ...opts, rows: n, lengths }) }).toEqual({ i, errors: [] });
      }
    } finally {
      owned.dispose();
    }
  });

  test('captureGraph holds several ops and other work; graph-safe ops enqueue into it', async () => {
    const owned = new Owned();
    try {
      const stream = owned.keep(new Stream());
      const len = 65_536;
      const ks = [64, 2048];
      const o = { maxRows: rows, maxLen: len, tieBreak: 'large' as const, deterministic: true, values: true };
      const ops = ks.map((kk) => owned.keep(new TopK({ ...o, k: kk, graphSafe: true })));
      const eagers = ks.map((kk) => owned.keep(new TopK({ ...o, k: kk })));
      const outs = ks.map((kk) => owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: rows * kk })));
      const vals = ks.map((kk) => owned.keep(DeviceBuffer.alloc({ dtype: 'f32', length: rows * kk })));
      const eOuts = ks.map((kk) => owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: rows * kk })));
      const eVals = ks.map((kk) => owned.keep(DeviceBuffer.alloc({ dtype: 'f32', length: rows * kk })));
      const dScores = owned.keep(DeviceBuffer.alloc({ dtype: 'f32', length: rows * len }));
      const dLengths = owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: rows }));
      const dStarts = owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: rows }));
      const inputs = { scores: dScores, rows, stride: len, lengths: dLengths, rowStarts: dStarts };

      expect(stream.isCapturing()).toBe(false);
      const seen: boolean[] = [];
      const graph = owned.keep(captureGraph(stream, () => {
        seen.push(stream.isCapturing());
        // Other native work in the same graph: the poisoning of the outputs.
        for (const b of [...outs, ...vals]) b.fill(0xff, { stream });
        ops.forEach((op, i) => op.run({ ...inputs, out: outs[i], values: vals[i], stream }));
      }));
      expect(seen).toEqual([true]);
      expect(stream.isCapturing()).toBe(false);
      // Enqueued into the caller's capture, not captured into graphs of their own.
      expect(ops.map((op) => op.capturedGraphs)).toEqual([0, 0]);

      for (const seed of [1, 2, 3, 4]) {
        const scores = makeScores('f32', rows, len, ['normal', 'equal', 'relu'], 50 + seed);
        const lengths = seed === 4 ? lengthsFor('mixed', rows, len, 2048, 0) : randomInts(rows, 0, len, 60 + seed);
        const rowStarts = randomInts(rows, 0, len / 4, 70 + seed);
        await dScores.copyFromAsync(scores, { stream });
        await dLengths.copyFromAsync(lengths, { stream });
        await dStarts.copyFromAsync(rowStarts, { stream });
        graph.replay(stream);
        eagers.forEach((op, i) => op.run({ ...inputs, out: eOuts[i], values: eVals[i], stream }));
        await stream.synchronizeAsync();
        ks.forEach((kk, i) => {
          const r = {
            graph: { indices: download(outs[i], 'i32', rows * kk) as Int32Array, values: download(vals[i], 'f32', rows * kk) as Scores },
            eager: { indices: download(eOuts[i], 'i32', rows * kk) as Int32Array, values: download(eVals[i], 'f32', rows * kk) as Scores },
          };
          expectSame(r, scores, { ...o, k: kk, rows, lengths, rowStarts }, `seed ${seed} k ${kk}`);
        });
      }
      // Outside any capture the same op captures and caches its own graph.
      ops[0].run({ ...inputs, out: outs[0], values: vals[0], stream });
      await stream.synchronizeAsync();
      expect(ops[0].capturedGraphs).toBe(1);
    } finally {
      owned.dispose();
    }
  });

  test('cache: same buffers replay, other buffers move the graph, other shapes or stream capture, LRU eviction past graphCacheSize', async () => {
    const owned = new Owned();
    try {
      const stream = owned.keep(new Stream());
      const other = owned.keep(new Stream());
      const len = 8192;
      const kk = 100;
      const opts: TopKOpOptions = { k: kk, maxRows: rows, maxLen: len, tieBreak: 'small', deterministic: true, graphCacheSize: 2 };
      const p = pair(owned, opts, stream);
      expect(p.graph.graphCacheSize).toBe(2);
      const scores = makeScores('f32', rows, len, ['normal', 'relu'], 3);
      const dScores = owned.keep(DeviceBuffer.from(scores));
      const dLengths = owned.keep(DeviceBuffer.from(randomInts(rows, 0, len, 4)));
      const lengths = new Int32Array(rows);
      dLengths.copyTo(lengths);
      const base = { scores: dScores, stride: len, lengths: dLengths };
      const check = async (args: Inputs, label: string) => {
        const o: RefOptions = { ...opts, rows: args.rows, stride: len, lengths: args.lengths ? lengths : undefined };
        expectSame(await p.both(args), scores, o, label);
      };
      const counts = () => [p.graph.capturedGraphs, p.graph.cachedGraphs];

      await check({ ...base, rows }, 'A');
      expect(counts()).toEqual([1, 1]);
      await check({ ...base, rows }, 'A again');
      expect(counts()).toEqual([1, 1]);
      // The same address under another wrapper is the same call.
      const alias = owned.keep(DeviceBuffer.wrap(dScores.ptr, dScores.bytes));
      await check({ ...base, scores: alias, rows }, 'A through an alias');
      expect(counts()).toEqual([1, 1]);
      // Other buffers of the same shape: the cached graph is moved to them, nothing is captured.
      const moved = owned.keep(DeviceBuffer.from(scores));
      await check({ ...base, scores: moved, rows }, 'A on other scores');
      expect(counts()).toEqual([1, 1]);
      expect(p.graph.reboundGraphs).toBe(1);
      await check({ ...base, rows: 3 }, 'B: fewer rows');
      expect(counts()).toEqual([2, 2]);
      await check({ ...base, rows, lengths: undefined }, 'C: no lengths');
      expect(counts()).toEqual([3, 2]);
      // A was the least recently used: evicted, so it captures again.
      await check({ ...base, rows }, 'A after eviction');
      expect(counts()).toEqual([4, 2]);
      await check({ ...base, rows, lengths: undefined }, 'C still cached');
      expect(counts()).toEqual([4, 2]);

      // Another stream is another call; runAsync goes through the same cache.
      p.outputs.out.fill(0xff, { stream: other });
      await p.graph.runAsync({ ...base, rows, ...p.outputs, stream: other });
      expect(counts()).toEqual([5, 2]);
      const got = download(p.outputs.out, 'i32', rows * kk) as Int32Array;
      expect(checkTopk({ indices: got }, scores, { ...opts, rows, lengths })).toEqual([]);

      p.graph.dispose();
      expect(p.graph.cachedGraphs).toBe(0);
      p.graph.dispose();
      let caught: unknown;
      try { p.graph.run({ ...base, rows, ...p.outputs, stream }); } catch (err) { caught = err; }
      expect((caught as NsaTopkError).code).toBe('ERR_NSA_TOPK_DISPOSED');
    } finally {
      owned.dispose();
    }
  });

  test('the legacy default stream runs eagerly (it cannot be captured)', async () => {
    const owned = new Owned();
    try {
      const legacy = owned.keep(Stream.wrap(0n));
      const len = 4096;
      const kk = 64;
      const op = owned.keep(new TopK({ k: kk, maxRows: rows, maxLen: len, graphSafe: true, tieBreak: 'small' }));
      const scores = makeScores('f32', rows, len, 'normal', 9);
      const dScores = owned.keep(DeviceBuffer.from(scores));
      const out = owned.keep(DeviceBuffer.alloc({ dtype: 'i32', length: rows * kk }));
      op.run({ scores: dScores, rows, stride: len, out, stream: legacy });
      legacy.synchronize();
      expect(op.capturedGraphs).toBe(0);
      const indices = download(out, 'i32', rows * kk) as Int32Array;
      expect(checkTopk({ indices }, scores, { k: kk, rows, tieBreak: 'small' })).toEqual([]);
    } finally {
      owned.dispose();
    }
  });

  test('graphCacheSize is checked', () => {
    for (const bad of [0, -1, 1.5, '8']) {
      let caught: unknown;
      try { new TopK({ k: 1, maxRows: 1, maxLen: 10, graphSafe: true, graphCacheSize: bad as number }); } catch (err) { caught = err; }
      expect((caught as NsaTopkError).code).toBe('ERR_NSA_TOPK_INVALID_ARGUMENT');
      expect((caught as Error).message).toContain('graphCacheSize');
    }
  });
});
