// Data meant to break a radix select: plateaus larger than any buffer, thresholds inside a
// plateau, NaN/+-inf/-0.0, empty windows, and device-side windows that lie.
import { topkSync } from '../../lib';
import {
  OpRun, SORT_EDGE_KINDS, allocScores, bitsOf, checkTopk, encode, intIn, keyOf, makeScores, pageTableOperands, rng, runOp,
  sortEdgeScores,
} from '../../lib/reference';
import { loadNative } from '../../lib/loader';
import { rowsThatDiffer } from '../helpers/compare';
import { CUDA_RUNS, describeGpu } from '../helpers/gpu';
import { DTYPES, RefOptions, Scores, TIE_BREAKS, diffAt, referenceTopk } from '../reference';

jest.setTimeout(300_000);

/**
 * The op's answer passes the reference check and, with small/large, equals the CPU's: byte for
 * byte where the order is fixed (sorted or deterministic), as each row's set otherwise.
 */
async function exact(run: OpRun, scores: Scores, o: RefOptions): Promise<void> {
  const res = await runOp(scores, o, run);
  expect(checkTopk(res, scores, o)).toEqual([]);
  if (o.tieBreak !== 'none') {
    const cpu = topkSync(scores, { ...o, backend: 'cpu' });
    if (o.sorted || o.deterministic) expect(diffAt(res.indices, cpu.indices)).toBe(-1);
    else expect(rowsThatDiffer(res, cpu, o.rows, o.k)).toEqual([]);
  }
}

describeGpu('CUDA backends on adversarial data', () => {
  describe.each(CUDA_RUNS)('%s', (_name, run) => {
    test.each(DTYPES)('a 2^20 row of 0.0 except a few, k 2048 (%s)', async (dtype) => {
      const stride = 1 << 20;
      const scores = allocScores(dtype, stride);
      const bits = bitsOf(scores);
      for (const j of [0, 5, 77_777, 500_000, stride - 1]) bits[j] = encode(dtype, 2 + j / stride);
      bits[123_456] = encode(dtype, -1);
      for (const tieBreak of TIE_BREAKS) {
        for (const sorted of [false, true]) {
          await exact(run, scores, {
            k: 2048, rows: 1, dtype, tieBreak, sorted, deterministic: true, values: true,
          });
        }
      }
    });

    test.each(DTYPES)('threshold inside a plateau: few distinct values, k 512/2048/8192 (%s)', async (dtype) => {
      const scores = makeScores(dtype, 16, 65_536, ['fewDistinct', 'relu', 'sparse', 'equal'], 71);
      for (const k of [512, 2048, 8192]) {
        for (const tieBreak of TIE_BREAKS) {
          await exact(run, scores, {
            k, rows: 16, dtype, tieBreak, deterministic: true,
          });
        }
      }
    });

    test("the greatest scores on the batch kernel's sampled positions (its second read)", async () => {
      // The batch kernel's first threshold comes from mv = min(sample, length / 16, aboveK *
      // length / k) / V evenly spaced 16-byte vectors of the row's aligned part (V scores each):
      // vector floor(j * nvec / mv) of the nvec that follow the row's `head` unaligned scores. Distinct
      // high scores on exactly those positions put it above the k-th, so fewer than k elements
      // reach it and the row must be read again. One equal high score there looks like a
      // plateau: its ties are taken in a second pass, which finds k of them (k <= sampled) or
      // too few (k > sampled: the row is read again).
      const { batchSample: sample, batchSampleAboveK: aboveK } = loadNative().tuning();
      for (const [spikes, dtype] of DTYPES.flatMap((d) => [['distinct', d], ['equal', d]] as const)) {
        // The last two sample fewer than `sample` scores (aboveK * length / k is below it).
        for (const [length, k] of [[20_000, 100], [100_003, 2048], [70_001, 4096], [32_771, 2048]]) {
          const rows = 3;
          const scores = makeScores(dtype, rows, length, ['normal', 'relu', 'equal'], 74);
          const bits = bitsOf(scores);
          const size = dtype === 'f32' ? 4 : 2;
          const perVector = 16 / size;
          const taken = Math.min(sample, Math.floor(length / 16), Math.floor((aboveK * length) / k));
          const mv = Math.floor(taken / perVector);
          for (let r = 0; r < rows; r++) {
            // Device buffers start 256-byte aligned, so row r starts r * length scores in.
            const head = ((16 - ((r * length * size) % 16)) % 16) / size;
            const nvec = Math.floor((length - head) / perVector);
            for (let j = 0; j < mv; j++) {
              const v = Math.floor((j * nvec) / mv);
              for (let i = 0; i < perVector; i++) {
                const s = j * perVector + i;
                bits[r * length + head + v * perVector + i] = encode(dtype, spikes === 'equal' ? 100 : 100 + s / 16);
              }
            }
          }
          for (const tieBreak of TIE_BREAKS) {
            await exact(run, scores, { k, rows, dtype, tieBreak, sorted: tieBreak === 'large', deterministic: true, values: true });
          }
        }
      }
    });

    // Fewer rows than SMs, and rows past the H200's 132 SMs of up to 8192 scores (the register
    // kernel's batch policy) and of 33000 (the batch kernel): each makes keys its own way.
    test.each([[32, 5000], [140, 5000], [140, 33_000]])(
      'NaN of both signs and payloads, +-inf, -0.0 beside +0.0, every dtype (%i x %i)', async (rows, stride) => {
        for (const dtype of DTYPES) {
          const scores = makeScores(dtype, rows, stride, 'special', 72);
          for (const tieBreak of TIE_BREAKS) {
            await exact(run, scores, {
              k: 700, rows, dtype, tieBreak, sorted: true, values: true,
            });
          }
        }
      });

    // Rows of up to 8192 scores on the register kernel, fewer than SMs (its few-rows policy,
    // which ranks a k-th's bin of up to 64 members by ballots: v6 step 14; the kernel notes'
    // steps 82-82c are the variants this case was written against) and more (its batch policy, a
    // thread a member): each window's k-th score copied onto a few lower ones, so that the
    // tie-break picks which of the bin's members stay. Misaligned windows put some in thread 0's
    // wrapped elements; plain indices, sorted or not, indices through a page table with values,
    // and unsorted output that need not be repeatable (v6 step 83: placed in no order, the bin's
    // members ranked by key and position), whose set the tie-break small still fixes. The 140
    // rows (f32) run that output and the deterministic small only: their reference is the cost.
    test.each([...DTYPES.map((d) => [d, 4] as const), ['f32', 140] as const])("a k-th's bin of few members, tied with the k-th (%s, %i rows)", async (dtype, rows) => {
      const stride = 8192;
      const rowStarts = Array.from({ length: rows }, (_, r) => [0, 1, 3, 2][r % 4]);
      const lengths = Array.from({ length: rows }, (_, r) => [8192, 8191, 6000, 3001][r % 4]);
      const rand = rng(78);
      for (const k of [2048, 512, 100]) {
        const scores = makeScores(dtype, rows, stride, 'normal', 78 + k);
        const bits = bitsOf(scores);
        for (let r = 0; r < rows; r++) {
          const at = (i: number) => r * stride + rowStarts[r] + i;
          const order = Array.from({ length: lengths[r] }, (_, i) => i).sort(
            (x, y) => keyOf(dtype, bits[at(y)]) - keyOf(dtype, bits[at(x)]));
          // Below the k-th, near it: members of its bin, or of the bins just under it.
          for (let c = 0; c < 6; c++) bits[at(order[k + intIn(rand, 0, 40)])] = bits[at(order[k - 1])];
        }
        const windows = { rowStarts, lengths };
        for (const tieBreak of rows > 4 ? (['small'] as const) : TIE_BREAKS) {
          for (const sorted of rows > 4 ? [false] : [false, true]) {
            await exact(run, scores, { k, rows, stride, dtype, tieBreak, sorted, deterministic: true, ...windows });
          }
          await exact(run, scores, {
            k, rows, stride, dtype, tieBreak, deterministic: true, values: true, ...windows,
            ...pageTableOperands(rows, stride, 16, 79),
          });
        }
        for (const tieBreak of ['none', 'small'] as const) {
          await exact(run, scores, { k, rows, stride, dtype, tieBreak, deterministic: false, ...windows });
          await exact(run, scores, {
            k, rows, stride, dtype, tieBreak, deterministic: false, values: true, ...windows,
            ...pageTableOperands(rows, stride, 16, 80),
          });
        }
      }
    });

    // The tie-break none on output that need not be repeatable: the radix kernel takes a
    // plateau's ties spread evenly over the row (v6 step 84), not its first ones; any of them
    // is right. ReLU and all-equal rows on each path, k down to 100, sorted or not, with values.
    test('a plateau under the tie-break none, not deterministic', async () => {
      const relu = makeScores('f32', 1, 131072, 'relu', 82);
      const equal = makeScores('bf16', 4, 32768, 'equal', 83);
      for (const [scores, rows, dtype] of [[relu, 1, 'f32'], [equal, 4, 'bf16']] as const) {
        for (const k of [2048, 512, 100]) {
          for (const sorted of [false, true]) {
            await exact(run, scores, { k, rows, dtype, tieBreak: 'none', sorted, deterministic: false, values: true });
          }
        }
      }
    });

    // Where (tied + 1) remain passes 2^32 the radix kernel takes the first `remain` ties, not
    // spread ones (32-bit arithmetic: v6 step 84c): an all-equal row of 2^22 on one CTA.
    test('a plateau too long to spread', async () => {
      const scores = makeScores('bf16', 1, 1 << 22, 'equal', 84);
      await exact({ backend: 'radix', path: 'block' }, scores, { k: 2048, rows: 1, dtype: 'bf16', tieBreak: 'none', deterministic: false, values: true });
    });

    // A k-th's bin taken whole (it holds exactly the k-th and the ties the row needs), with few
    // members and with more than any rank takes: unsorted output in no order stages the whole
    // bin at once (v6 step 83), the ordered output cuts at the bin's least key.
    test.each([4, 140])("a k-th's bin taken whole (%i rows)", async (rows) => {
      const stride = 8192;
      for (const held of [30, 1048]) {
        // Scores below 2 but for two levels far above them: 1000 at 6.0, then `held` at 4.0.
        const scores = makeScores('f32', rows, stride, 'normal', 81 + held) as Float32Array;
        for (let r = 0; r < rows; r++) {
          const row = scores.subarray(r * stride, (r + 1) * stride);
          for (let i = 0; i < stride; i++) row[i] = Math.min(row[i], 1.99);
          for (let i = 0; i < 1000 + held; i++) row[(i * 7919 + r) % stride] = i < 1000 ? 6 : 4;
        }
        for (const deterministic of [false, true]) {
          await exact(run, scores, { k: 1000 + held, rows, stride, dtype: 'f32', tieBreak: 'small', deterministic });
        }
      }
    });

    // Sorted output at its edges (sortEdgeScores: the bins, the least key's bin in stage order,
    // the radix sort's fallbacks), and rows of 2000 scores over 80 octaves of both signs (the
    // bins' shift at its widest). On a row of each kind (512-thread CTAs) and 140 rows (256-thread),
    // k 2048 and 1000 (half the items a thread).
    test.each([SORT_EDGE_KINDS, 140])('sorted output: the stage sort at its edges (%i rows)', async (rows) => {
      const scores = sortEdgeScores(rows, 76);
      const wide = makeScores('f32', rows, 2000, 'wideRange', 77);
      for (const k of [2048, 1000]) {
        for (const tieBreak of TIE_BREAKS) {
          await exact(run, scores, { k, rows, dtype: 'f32', tieBreak, sorted: true, deterministic: true, values: true });
        }
        await exact(run, wide, { k, rows, dtype: 'f32', tieBreak: 'small', sorted: true, deterministic: true, values: true });
      }
    });

    test('every window empty, and k above every length', async () => {
      const scores = makeScores('f16', 8, 100, 'normal', 73);
      const o: RefOptions = { k: 2048, rows: 8, dtype: 'f16', lengths: new Int32Array(8), values: true, deterministic: true };
      const res = await runOp(scores, o, run);
      expect(Array.from(new Set(res.indices))).toEqual([-1]);
      expect(Array.from(new Set(res.values!))).toEqual([0xfc00]);
      const o2: RefOptions = { k: 2048, rows: 8, dtype: 'f16', values: true, deterministic: true };
      expect(checkTopk(await runOp(scores, o2, run), scores, o2)).toEqual([]);
    });

    test('device-side lengths and row starts out of range are clamped into the row', async () => {
      const rows = 6;
      const stride = 3000;
      const scores = makeScores('f32', rows, stride, ['normal', 'sparse'], 74);
      const o: RefOptions = {
        k: 512, rows, tieBreak: 'small', sorted: true, values: true,
        rowStarts: [-5, 2990, 5000, 0, 100, -2147483648],
        lengths: [100000, 1000, 7, -3, 2147483647, 600],
      };
      const res = await runOp(scores, o, run);
      expect(checkTopk(res, scores, o)).toEqual([]);
      expect(res.indices).toEqual(referenceTopk(scores, o).indices);
    });
  });
});

describeGpu('the radix kernel on keys that agree below a digit', () => {
  // The radix kernel stops its passes early where every key a later pass counted has the same
  // bits below that pass's digit (the keys' span, v6 step 35). Rows: keys that differ in the
  // second digit only (0: the skip resolves the key), the same with every seventh key's low bits
  // different (1: all three passes), a ReLU plateau (2), and a row whose first share is -1.0
  // with a hundred tiny positive keys among it and 0.0 elsewhere (3: on a cluster, the first
  // CTA lists its few ties while the others count theirs, whose span alone would agree); on one
  // CTA a row, streamed ('block') and cached (sorted, one row an SM), and on an 8-CTA cluster.
  // k = 2000 puts the k-th key inside a bin of row 0's second digit.
  const cases = [
    ['block', 16_384, 4, false],
    ['block', 32_768, 4, false],
    ['auto', 16_384, 132, true],
    ['cluster', 131_072, 4, false],
  ] as const;
  test.each(cases)('keys that differ in the second digit only, and plateaus (%s path, rows of %i)', async (path, length, rows, sorted) => {
    const scores = makeScores('f32', rows, length, Array.from({ length: rows }, (_, r) => (r === 2 ? 'relu' : 'normal')), 75);
    const bits = bitsOf(scores) as Uint32Array;
    for (let r = 0; r < 2; r++) {
      for (let j = 0; j < length; j++) {
        const digit = (Math.imul(j + r, 2654435761) >>> 0) % 2048;
        const low = r === 1 && j % 7 === 0 ? 0x2aa : 0x155;
        bits[r * length + j] = (0x3f800000 | (digit << 10) | low) >>> 0;
      }
    }
    const share = length / 8;
    for (let j = 0; j < length; j++) bits[3 * length + j] = j >= share ? 0 : j % 163 === 0 ? j / 163 + 1 : 0xbf800000;
    for (const k of path === 'block' ? [2000, 4096] : [2000]) {
      for (const tieBreak of TIE_BREAKS) {
        await exact({ backend: 'radix', path }, scores, { k, rows, dtype: 'f32', tieBreak, sorted, deterministic: true, values: true });
      }
    }
  });
});
