// The reusable TopK op: run() enqueues and returns, runAsync() resolves when done, the workspace
// is sized once, and bad run arguments or a disposed op are refused before any launch.
import { DeviceBuffer, NsaTopkError, Stream, TopK, captureGraph, topk, topkSync } from '../../lib';
import { checkTopk, makeScores, pageTableOperands, randomInts, runOp } from '../../lib/reference';
import type { ScoreKind } from '../../lib/reference';
import type { DType } from '../../lib';
import { describeGpu } from '../helpers/gpu';
import { RefOptions, referenceTopk } from '../reference';

jest.setTimeout(120_000);

async function expectCode(fn: () => unknown, code: string | string[], names?: string): Promise<void> {
  let caught: unknown;
  try { await fn(); } catch (err) { caught = err; }
  expect(caught).toBeInstanceOf(NsaTopkError);
  expect(typeof code === 'string' ? [code] : code).toContain((caught as NsaTopkError).code);
  if (names) expect((caught as Error).message).toContain(names);
}

describeGpu('TopK op', () => {
  const rows = 16;
  const stride = 10_000;
  const k = 512;
  const scores = makeScores('f32', rows, stride, ['relu', 'normal'], 90);

  test.each(['radix', 'sort', 'auto'] as const)('backend %s: run() then synchronize, runAsync()', async (backend) => {
    const op = new TopK({ k, maxRows: rows, maxLen: stride, backend, tieBreak: 'small', sorted: true });
    expect(typeof op.workspaceBytes).toBe('number');
    expect(op.workspaceBytes).toBeGreaterThanOrEqual(0);
    const stream = new Stream();
    const dScores = DeviceBuffer.from(scores);
    const out = DeviceBuffer.alloc({ dtype: 'i32', length: rows * k });
    const o: RefOptions = { k, rows, tieBreak: 'small', sorted: true };
    for (const mode of ['run', 'runAsync'] as const) {
      out.fill(0xff, { stream });
      const args = { scores: dScores, rows, stride, out, stream };
      if (mode === 'run') {
        expect(op.run(args)).toBeUndefined();
        stream.synchronize();
      } else {
        await op.runAsync(args);
      }
      const indices = new Int32Array(rows * k);
      out.copyTo(indices);
      expect({ mode, errors: checkTopk({ indices }, scores, o) }).toEqual({ mode, errors: [] });
    }
    // Fewer rows than maxRows, on the same op.
    await op.runAsync({ scores: dScores, rows: 3, stride, out, stream });
    const three = new Int32Array(3 * k);
    out.copyTo(three);
    expect(checkTopk({ indices: three }, scores.subarray(0, 3 * stride), { ...o, rows: 3 })).toEqual([]);
    for (const x of [op, out, dScores, stream]) x.dispose();
  });

  test('a graph-safe op, captured over zeroed operands and replayed over these, returns what a plain op returns', async () => {
    const o: RefOptions = { k, rows, tieBreak: 'large', deterministic: true, values: true, lengths: Array.from({ length: rows }, (_, r) => r * 600) };
    const plain = await runOp(scores, o, { backend: 'radix' });
    const safe = await runOp(scores, o, { backend: 'radix', graph: true });
    expect(safe.indices).toEqual(plain.indices);
    expect(checkTopk(safe, scores, o)).toEqual([]);
  });

  test('a graph-safe op captured once replays with new scores, lengths and row starts', async () => {
    const op = new TopK({ k, maxRows: rows, maxLen: stride, graphSafe: true, tieBreak: 'small', deterministic: true });
    const stream = new Stream();
    const dScores = DeviceBuffer.alloc({ dtype: 'f32', length: rows * stride });
    const dLengths = DeviceBuffer.alloc({ dtype: 'i32', length: rows });
    const dStarts = DeviceBuffer.alloc({ dtype: 'i32', length: rows });
    const out = DeviceBuffer.alloc({ dtype: 'i32', length: rows * k });
    const graph = captureGraph(stream, () => op.run({ scores: dScores, rows, stride, lengths: dLengths, rowStarts: dStarts, out, stream }));
    for (const seed of [1, 2, 3]) {
      const s = makeScores('f32', rows, stride, ['sparse', 'relu', 'normal'], 95 + seed);
      const rowStarts = randomInts(rows, 0, stride / 2, seed);
      // Some windows shorter than k, some longer; device-side values are the only change.
      const lengths = Int32Array.from(rowStarts, (st, r) => Math.min(stride - st, (r * 397 * seed) % stride));
      await dScores.copyFromAsync(s, { stream });
      await dLengths.copyFromAsync(lengths, { stream });
      await dStarts.copyFromAsync(rowStarts, { stream });
      out.fill(0xff, { stream });
      graph.replay(stream);
      await stream.synchronizeAsync();
      const indices = new Int32Array(rows * k);
      out.copyTo(indices);
      const o: RefOptions = { k, rows, tieBreak: 'small', deterministic: true, lengths, rowStarts };
      expect(indices).toEqual(referenceTopk(s, o).indices);
    }
    graph.dispose();
    graph.dispose();
    await expectCode(() => graph.replay(stream), 'ERR_NSA_TOPK_DISPOSED');
    for (const x of [op, dScores, dLengths, dStarts, out, stream]) x.dispose();
  });

  // Sorted decode ops of up to 4 x 8192 scores take the register kernel on a cluster of CTAs per
  // row (2 for maxLen 16384, 4 for 32768): rows as long as maxLen and shorter (as a graph-safe
  // op replays them), and rows longer than maxLen (a stride past it, with lengths), which the
  // cluster's first CTA takes with the batch agent.
  test('sorted decode rows on the register kernel\'s clusters, shorter and longer than maxLen', async () => {
    const shapes: [number, number, number[]][] = [
      [16384, 16384, [16384, 16383, 8193, 8192, 2049, 0]],
      [32768, 32768, [32768, 30000, 16385, 9000, 2048, 1]],
      [16384, 40000, [40000, 16385, 30001, 100, 16384, 24000]],
    ];
    for (const [maxLen, stride, lengths] of shapes) {
      const scores = makeScores('f32', lengths.length, stride, ['relu', 'normal', 'fewDistinct'], maxLen + stride);
      for (const tieBreak of ['small', 'large'] as const) {
        const o: RefOptions = { k: 2048, rows: lengths.length, stride, tieBreak, sorted: true, values: true, lengths };
        for (const graph of [false, true]) {
          const got = await runOp(scores, o, { backend: 'radix', maxLen, graph });
          const where = { maxLen, stride, tieBreak, graph };
          expect({ ...where, errors: checkTopk(got, scores, o) }).toEqual({ ...where, errors: [] });
        }
      }
    }
  });

  // A forced path on its shapes (dtype, k, maxLen, stride, kinds, lengths, row starts, operands)
  // in every output mode, eager and as graph-safe replays (after a first call on zeros). Unsorted
  // output that need not be repeatable (deterministic off) may come in any order (the spread
  // finish stages it unmerged: v6 step 89), its set still exact.
  type ForcedShape = [DType, number, number, number, ScoreKind[], number[], number[]?, Partial<RefOptions>?];
  const FORCED_MODES: Partial<RefOptions>[] = [
    { tieBreak: 'small', deterministic: true },
    { tieBreak: 'large', deterministic: true },
    { tieBreak: 'none' },
    { tieBreak: 'small' },
    { tieBreak: 'large' },
    { tieBreak: 'large', sorted: true },
    { tieBreak: 'small', sorted: true },
  ];
  async function checkForcedPath(path: 'spread' | 'chunked' | undefined, shapes: ForcedShape[]): Promise<void> {
    for (const [dtype, k, maxLen, stride, kinds, lengths, rowStarts, operands] of shapes) {
      const rows = lengths.length;
      const scores = makeScores(dtype, rows, stride, kinds, maxLen + stride + k);
      for (const mode of FORCED_MODES) {
        const o: RefOptions = { k, rows, stride, dtype, values: true, lengths, rowStarts, ...operands, ...mode };
        for (const graph of [false, true]) {
          const got = await runOp(scores, o, { backend: 'radix', path, maxLen, graph });
          const where = { path, dtype, rows, maxLen, stride, fuse: o.fuse, ...mode, graph };
          expect({ ...where, errors: checkTopk(got, scores, o) }).toEqual({ ...where, errors: [] });
        }
      }
    }
  }

  // The spread kernels (path 'spread'): a row over a grid of register CTAs, 8192 scores each, in
  // three kernels. Rows as long as maxLen and shorter, of at most k, past maxLen (a stride past
  // it, with lengths: the finish kernel's batch agent), starting off a 16-byte boundary; plateaus
  // whose k-th's bin overflows the candidates with one key (relu, equal, fewDistinct, zeros) and
  // with several (lowBits, denormal: the batch agent); f32 and bf16.
  test('rows spread over a grid of register CTAs (path spread)', async () => {
    await checkForcedPath('spread', [
      ['f32', 2048, 300000, 300000, ['normal', 'relu', 'fewDistinct', 'lowBits'], [300000, 299999, 150001, 8193]],
      ['f32', 2048, 65536, 65536, ['normal', 'equal', 'denormal', 'sparse', 'special', 'wideRange'], [65536, 2048, 2049, 0, 1, 40000]],
      ['f32', 512, 40000, 70000, ['normal', 'relu', 'lowBits', 'normal'], [70000, 39999, 40001, 20000], [0, 3, 5, 1]],
      ['bf16', 2048, 100000, 100003, ['normal', 'relu', 'fewDistinct'], [100000, 99999, 65537], [3, 1, 2]],
    ]);
  });

  // The spread kernels over grids of more than two CTAs a SM (11 x 74, 12 x 49 and 9 x 62 chunks on a
  // GPU of 132 SMs or fewer): the split kernel's dense instance, whose chunks claim their slots
  // from the row's cursor where the members fit the candidates (normal, wideRange), and publish
  // in order where they overflow (relu, sparse: one key; lowBits: several, the batch agent). Its
  // chunks rank count's shortlists where those reach the row's bin (normal; clipped: a tie of one
  // key that overflows the candidates, in every chunk's list) and load their scores where they do
  // not (hotSpan's hot chunks) or where count wrote none (relu, sparse: lists too short for k).
  // Normal rows whose elements above the bin lie in one or two chunks (9000, 8193: many slots
  // claimed by one chunk), of at most k, empty, and shorter than the stride; f32, bf16 and f16.
  test('rows spread over grids of several waves claim their slots (path spread)', async () => {
    await checkForcedPath('spread', [
      ['f32', 2048, 600000, 600000,
        ['normal', 'relu', 'wideRange', 'lowBits', 'special', 'sparse', 'normal', 'normal', 'normal', 'hotSpan', 'clipped'],
        [600000, 599999, 300001, 590000, 2048, 450000, 9000, 8193, 0, 600000, 600000]],
      ['bf16', 512, 400000, 400003, ['normal', 'relu', 'fewDistinct', 'normal', 'hotSpan', 'clipped'],
        [400000, 399999, 200001, 20000, 511, 400000, 131073, 1, 300000, 399998, 65536, 400003], [3, 1, 2, 0, 5, 3, 1, 0, 2, 3, 4, 0]],
      ['f16', 1024, 500000, 500000, ['normal', 'clipped', 'relu'], [500000, 499999, 250001, 8192, 500000, 300000, 1025, 499000, 500000]],
    ]);
  });

  // Dense spread grids whose rows hold at most 16 chunks (40 x 16, 24 x 16, 36 x 13 and 60 x 5 on a
  // GPU of 132 SMs or fewer): each row's chunks are one group, whose split CTA finishes the row
  // too, from its shared memory (v6 step 90). Members that fit the candidates (normal, wideRange,
  // hotSpan, clipped: its tie settled among them), overflow them with one key (relu, equal, sparse,
  // fewDistinct's plateaus) and with several (lowBits: the batch agent after the split); rows
  // shorter than the stride and starting off a 16-byte boundary; rows finished whole by that CTA:
  // of at most k, empty, and past the chunks (a stride past maxLen: the batch agent); f32, bf16
  // and f16.
  test('rows of one group of chunks finished by their split CTA (path spread)', async () => {
    const kinds: ScoreKind[] = ['normal', 'relu', 'wideRange', 'lowBits', 'equal', 'sparse', 'hotSpan', 'clipped', 'fewDistinct'];
    const pick = (rows: number, from: number[]) => Array.from({ length: rows }, (_, r) => from[r % from.length]);
    await checkForcedPath('spread', [
      ['f32', 2048, 131072, 131072, kinds, pick(40, [131072, 131071, 98305, 120000, 131072, 65537, 131072, 131072, 9000, 2048, 0])],
      ['bf16', 512, 131072, 131072, ['normal', 'relu', 'fewDistinct', 'clipped'], pick(24, [131069, 131071, 70001, 511, 131072]),
        pick(24, [3, 1, 2, 0, 0, 5])],
      ['f16', 1024, 100000, 100000, ['normal', 'clipped', 'relu'], pick(36, [100000, 99999, 50001, 8192, 1025])],
      ['f32', 512, 40000, 70000, ['normal', 'relu', 'lowBits'], pick(60, [70000, 39999, 40001, 20000]), pick(60, [0, 3, 5, 1])],
    ]);
  });

  // Plateau chunks of dense spread grids (9 x 74 chunks: the split kernel's dense instance on GPUs
  // of up to 132 SMs), whose shortlists hold fewer than k over the row: count records their
  // members of the bin below the list, and where that bin is the row's and overflows the
  // candidates, split places the chunk from the record and loads its scores only where some of
  // its members are kept (v6 step 55). Rows: ReLU, all equal, sparse; zeros with 200 positives in
  // one chunk (that chunk's list is long enough for k: a list without a record, beside the zero
  // chunks' records); a chunk's own plateau (1000 of 5.0) above the row's bin (the chunk loads after the
  // row's bin); a row whose k-th lies in a chunk's tie of 8192 ones (the other chunks far below);
  // chunks whose 257th greatest lies in the top coarse bin (3e5, +inf, NaN: no list), in f32 rows
  // starting off 16-byte boundaries; every tie-break and order, eager and graph-safe.
  test('plateau chunks of dense spread grids, placed from their records (path spread)', async () => {
    const rows = 9, stride = 600000, k = 2048, chunk = 8192;
    const scores = makeScores('f32', rows, stride, ['relu', 'equal', 'sparse', 'normal'], 77) as Float32Array;
    const row = (r: number) => scores.subarray(r * stride, (r + 1) * stride);
    row(3).fill(0);
    for (let i = 0; i < 200; i++) row(3)[5 * chunk + 40 * i + 3] = 1 + i / 256;
    for (let i = 0; i < chunk; i++) row(4)[7 * chunk + i] = i < 1000 ? 5 : row(4)[7 * chunk + i] - 10;
    for (let i = 0; i < stride; i++) row(5)[i] = Math.floor(i / chunk) === 3 ? 1 : row(5)[i] - 10;
    for (let i = 0; i < chunk; i++) {
      row(6)[2 * chunk + i] = i % 20 ? 3e5 : row(6)[2 * chunk + i];
      row(7)[9 * chunk + i] = i % 3 ? Infinity : -1;
      row(8)[chunk + i] = i % 4 ? NaN : 2;
    }
    const lengths = [stride, stride - 1, stride, 599000, stride, stride, 500001, stride, 400000];
    const rowStarts = [0, 0, 3, 0, 1, 0, 2, 0, 5];
    for (const mode of FORCED_MODES) {
      const o: RefOptions = { k, rows, stride, dtype: 'f32', values: true, lengths, rowStarts, ...mode };
      for (const graph of [false, true]) {
        const got = await runOp(scores, o, { backend: 'radix', path: 'spread', maxLen: stride, graph });
        expect({ ...mode, graph, errors: checkTopk(got, scores, o) }).toEqual({ ...mode, graph, errors: [] });
      }
    }
  });

  // The chunked path (path 'chunked'): each row cut on the device into equal chunks (16 a row for
  // these few rows) that the batch kernel takes as rows, then a top-k of their k best each, then
  // the slots mapped back to positions through the fused transform. Rows whose last chunk is
  // short or empty (299999, 8193: chunks of k), of at most k and just past it, empty, starting off
  // a 16-byte boundary; plateaus across chunk boundaries (relu, equal, fewDistinct: the tie-break
  // by slot must be the one by position); ragged offsets and page tables; f32, bf16 and f16.
  test('rows cut into chunks for the batch kernel (path chunked)', async () => {
    await checkForcedPath('chunked', [
      ['f32', 2048, 300000, 300000, ['normal', 'relu', 'fewDistinct', 'lowBits'], [300000, 299999, 150001, 8193]],
      ['f32', 2048, 65536, 65536, ['normal', 'equal', 'denormal', 'sparse', 'special', 'wideRange'], [65536, 2048, 2049, 0, 1, 40000]],
      ['f32', 512, 40000, 70000, ['normal', 'relu', 'lowBits', 'normal'], [70000, 39999, 40001, 20000], [0, 3, 5, 1],
        { fuse: 'ragged', offsets: [5, 0, 1000, 77] }],
      ['bf16', 2048, 100000, 100003, ['normal', 'relu', 'fewDistinct'], [100000, 99999, 65537], [3, 1, 2],
        pageTableOperands(3, 100003, 64, 7)],
      ['f16', 4096, 140000, 140000, ['relu', 'normal'], [140000, 4097]],
    ]);
  });

  // Chunks of more than 16384 keys cached by CTAs that each have an SM alone, as the heuristic
  // takes them on the H200 (v6 step 38): 8-CTA clusters on rows of up to 262144 (four rows; chunks
  // of 32768 ranked in two rounds), 4-CTA ones on 20 rows of up to 131072; rows shorter on the
  // device, of at most k, starting off a 16-byte boundary; plateaus too large to list (relu,
  // equal) and keys that differ in their low bits only (lowBits); f32 and bf16. On other GPUs the
  // heuristic may take other paths, which the cases check as well.
  test('chunks past 16384 keys cached by CTAs alone on their SMs, lengths from the device', async () => {
    const lengths20 = Array.from({ length: 20 }, (_, r) => [131072, 131071, 98305, 65537, 2048, 0][r % 6]);
    await checkForcedPath(undefined, [
      ['f32', 2048, 262144, 262144, ['normal', 'relu', 'fewDistinct', 'lowBits'], [262144, 262143, 150001, 8193]],
      ['bf16', 512, 200000, 200003, ['normal', 'relu', 'equal'], [200000, 131073, 199999], [3, 1, 2]],
      ['f32', 4096, 131072, 131072, ['normal', 'relu', 'lowBits'], lengths20],
    ]);
  });

  // An op for up to 64 rows of 200000 called with 20 and 40: on the H200 calls of 4 rows up to the
  // 8-CTA clusters it runs at once (at most 16) take 8-CTA cached clusters, fewer and more rows the
  // spread kernels (beside the length split's radix kernel for rows of up to 131072 at 1-3 and
  // 17-33 rows, 81920 from 34; grids of several waves from 22 rows), so the op's workspace and
  // branch must serve a row count between one and maxRows (v6 step 38's review; v6 steps 52, 65,
  // 67 and 68).
  test('an op whose middle row counts take the spread kernels', async () => {
    for (const rows of [20, 40]) {
      const lengths = Array.from({ length: rows }, (_, r) => [200000, 131073, 131072, 81921, 81920, 50000, 2049][r % 7]);
      const scores = makeScores('f32', rows, 200000, ['normal', 'relu', 'clipped'], 5);
      for (const tieBreak of ['small', 'none'] as const) {
        const o: RefOptions = { k: 2048, rows, stride: 200000, tieBreak, deterministic: tieBreak === 'small', values: true, lengths };
        const got = await runOp(scores, o, { backend: 'radix', maxRows: 64, maxLen: 200000 });
        expect({ rows, tieBreak, errors: checkTopk(got, scores, o) }).toEqual({ rows, tieBreak, errors: [] });
      }
    }
  });

  // A call's stride shorter than the op's maxLen picks its path too: an op for up to 64 rows of
  // 524288 (34-131 rows: the chunked path) called with 60 rows at a stride of 100000, too short for
  // four chunks, takes the spread kernels, whose regions must hold 60 rows (step 52's review).
  test('a stride shorter than maxLen that takes the spread kernels at a row count maxLen does not', async () => {
    const rows = 60, stride = 100000;
    const scores = makeScores('f32', rows, stride, ['normal', 'relu'], 9);
    const o: RefOptions = { k: 2048, rows, stride, values: true };
    const got = await runOp(scores, o, { backend: 'radix', maxRows: 64, maxLen: 524288 });
    expect(checkTopk(got, scores, o)).toEqual([]);
  });

  // One op serves every call within its maxima, one call after another: the path follows each
  // call's rows and stride (and device lengths), while the workspace and the branch were sized once
  // for the op. An op of 64 x 200000 called with 1 to 64 rows at strides of 200000 down to 8192 (on
  // the H200: cached clusters, the spread kernels beside the length split, the register and radix
  // kernels), eager and graph-safe.
  test('one op serves calls of every row count and stride within its maxima, in turn', async () => {
    const shapes: [number, number][] = [[1, 200000], [20, 200000], [40, 100000], [60, 81921], [64, 8192], [60, 100000], [20, 131072], [64, 200000]];
    for (const graphSafe of [false, true]) {
      const op = new TopK({ k: 2048, maxRows: 64, maxLen: 200000, backend: 'radix', tieBreak: 'small', deterministic: true, graphSafe });
      const stream = new Stream();
      for (const [rows, stride] of shapes) {
        const scores = makeScores('f32', rows, stride, ['normal', 'relu', 'clipped'], rows + stride);
        const lengths = Int32Array.from({ length: rows }, (_, r) => Math.min(stride, [stride, stride - 1, 81921, 81920, 2049, 0][r % 6]));
        const o: RefOptions = { k: 2048, rows, stride, tieBreak: 'small', deterministic: true, lengths };
        const dScores = DeviceBuffer.from(scores), dLengths = DeviceBuffer.from(lengths);
        const out = DeviceBuffer.alloc({ dtype: 'i32', length: rows * 2048 });
        await op.runAsync({ scores: dScores, rows, stride, lengths: dLengths, out, stream });
        const indices = new Int32Array(rows * 2048);
        out.copyTo(indices);
        expect({ graphSafe, rows, stride, errors: checkTopk({ indices }, scores, o) }).toEqual({ graphSafe, rows, stride, errors: [] });
        for (const x of [out, dLengths, dScores]) x.dispose();
      }
      op.dispose();
      stream.dispose();
    }
  });

  // One-shot calls (topkSync, topk) reuse a device arena per lane, whatever op each call makes: a
  // spread call's regions must be zero where it expects them to be, after calls of other
  // configurations (chunked, sorted, dense spread grids with shortlists) wrote over the arena.
  test('one-shot calls of alternating configurations on one arena', async () => {
    const calls: [number, number, ScoreKind[], number, boolean][] = [
      // rows, stride, kinds, k, sorted
      [8, 300000, ['normal', 'relu'], 2048, false],      // spread
      [60, 131072, ['relu', 'normal'], 4096, false],     // chunked (k past the spread kernels')
      [8, 1 << 20, ['relu', 'equal', 'normal'], 2048, false],  // dense spread grid: shortlists
      [2, 300001, ['fewDistinct', 'relu'], 512, true],   // sorted spread
      [1, 8192, ['normal'], 2048, false],                // register
      [8, 1 << 20, ['normal', 'sparse'], 1024, false],   // dense again, another k
      [8, 300000, ['equal', 'normal'], 2048, false],     // spread again
    ];
    for (const [i, [rows, stride, kinds, k, sorted]] of calls.entries()) {
      const scores = makeScores('f32', rows, stride, kinds, 300 + i);
      const o: RefOptions = { k, rows, tieBreak: 'small', sorted, deterministic: true };
      const res = i % 2 ? await topk(scores, { ...o, backend: 'radix' }) : topkSync(scores, { ...o, backend: 'radix' });
      expect({ i, errors: checkTopk(res, scores, o) }).toEqual({ i, errors: [] });
    }
  });

  // The heuristic's paths at 60 rows of up to 131072 (on GPUs of 105-137 SMs; on others other paths
  // take them, and the cases still check those), rows shorter on the device in graph-safe replays:
  // up to k = 2048 the spread kernels (960 chunks; v6 step 65), unsorted beside the length split's
  // radix kernel for rows of up to 81920, sorted alone; past it the chunked path, four chunks a row
  // (4 x 60 x 4 >= 7 x SMs).
  test('spread and chunked rows as the heuristic picks them, lengths from the device', async () => {
    const rows = 60;
    const lengths = Array.from({ length: rows }, (_, r) => Math.max([131072, 131071, 65536, 32769, 2048, 0][r % 6] - (r % 5), 0));
    await checkForcedPath(undefined, [
      ['f32', 2048, 131072, 131072, ['normal', 'relu'], lengths],
      ['bf16', 512, 131072, 131072, ['relu', 'fewDistinct'], lengths, undefined, pageTableOperands(rows, 131072, 16, 11)],
      ['f32', 4096, 131072, 131072, ['relu', 'normal'], lengths],
      ['bf16', 3000, 131072, 131072, ['fewDistinct', 'relu'], lengths, undefined, pageTableOperands(rows, 131072, 16, 11)],
    ]);
  });

  // The one-CTA-per-row kernels write a row's indices four slots at a time where they start on a
  // 16-byte boundary; indices 4 bytes into an allocation take the slot-by-slot loop instead.
  test('indices at an address that is not 16-byte aligned hold what aligned ones hold', async () => {
    const stream = new Stream();
    // rows, length, k: the register kernel (few rows, and its batch policy), the batch kernel, the radix clusters
    const shapes: [number, number, number][] = [[8, 8192, 2048], [140, 8192, 2048], [140, 33000, 2048], [8, 40000, 1024]];
    for (const [rows, length, k] of shapes) {
      const scores = makeScores('f32', rows, length, ['normal', 'relu'], 17);
      const dScores = DeviceBuffer.from(scores);
      const op = new TopK({ k, maxRows: rows, maxLen: length, backend: 'radix', tieBreak: 'small', deterministic: true });
      const slots = rows * k;
      const aligned = DeviceBuffer.alloc({ dtype: 'i32', length: slots });
      const owner = DeviceBuffer.alloc({ dtype: 'i32', length: slots + 4 });
      const shifted = DeviceBuffer.wrap(owner.ptr + 4n, slots * 4);
      const got: Int32Array[] = [];
      for (const out of [aligned, shifted]) {
        await op.runAsync({ scores: dScores, rows, stride: length, out, stream });
        const indices = new Int32Array(slots);
        out.copyTo(indices);
        got.push(indices);
      }
      const where = { rows, length, k };
      expect({ ...where, errors: checkTopk({ indices: got[1] }, scores, { k, rows, tieBreak: 'small', deterministic: true }) }).toEqual({ ...where, errors: [] });
      expect({ ...where, same: got[1].every((x, i) => x === got[0][i]) }).toEqual({ ...where, same: true });
      for (const x of [shifted, owner, aligned, op, dScores]) x.dispose();
    }
    stream.dispose();
  });

  test('bad run arguments are refused before any launch', async () => {
    const op = new TopK({ k, maxRows: rows, maxLen: stride, values: true });
    const stream = new Stream();
    const dScores = DeviceBuffer.from(scores);
    const out = DeviceBuffer.alloc({ dtype: 'i32', length: rows * k });
    const values = DeviceBuffer.alloc({ dtype: 'f32', length: rows * k });
    const small = DeviceBuffer.alloc(16);
    const ok = { scores: dScores, rows, stride, out, values, stream };
    const invalid = 'ERR_NSA_TOPK_INVALID_ARGUMENT';
    await expectCode(() => op.run({ ...ok, rows: rows + 1 }), invalid, 'rows');
    await expectCode(() => op.run({ ...ok, out: small }), invalid, 'out');
    await expectCode(() => op.run({ ...ok, values: small }), invalid, 'values');
    await expectCode(() => op.run({ ...ok, scores: small }), invalid, 'scores');
    await expectCode(() => op.run({ ...ok, lengths: small }), invalid, 'lengths');
    // The sort backend sorts whole rows: a stride beyond maxLen is refused even with lengths.
    const sortOp = new TopK({ k, maxRows: rows, maxLen: stride / 2, backend: 'sort', values: true });
    await expectCode(() => sortOp.run({ ...ok, lengths: small }), invalid, 'stride');
    sortOp.dispose();
    out.dispose();
    await expectCode(() => op.run({ ...ok, out }), 'ERR_NSA_TOPK_DISPOSED', 'out');
    op.dispose();
    op.dispose();
    await expectCode(() => op.run(ok), 'ERR_NSA_TOPK_DISPOSED');
    await expectCode(() => op.runAsync(ok), 'ERR_NSA_TOPK_DISPOSED');
    for (const x of [dScores, values, small, stream]) x.dispose();
  });

  test('bad op options are refused', async () => {
    const invalid = 'ERR_NSA_TOPK_INVALID_ARGUMENT';
    await expectCode(() => new TopK({ k: 0, maxRows: 1, maxLen: 10 }), invalid, 'k');
    await expectCode(() => new TopK({ k: 1, maxRows: 0, maxLen: 10 }), invalid, 'maxRows');
    await expectCode(() => new TopK({ k: 1, maxRows: 1, maxLen: -1 }), invalid, 'maxLen');
    await expectCode(() => new TopK({ k: 1, maxRows: 1, maxLen: 10, backend: 'cpu' as never }), ['ERR_NSA_TOPK_UNKNOWN_BACKEND', invalid], 'backend');
    await expectCode(() => new TopK({ k: 1, maxRows: 1, maxLen: 10, path: 'warp' as never }), invalid, 'path');
  });
});
