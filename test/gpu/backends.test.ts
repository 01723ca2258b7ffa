// Every option and dtype of the CUDA backends against the CPU backend and the reference,
// through topk() on host arrays and through the TopK op on device buffers.
import { topk, topkSync } from '../../lib';
import { Case, edgeLengths, pageTable, ragged, windows } from '../helpers/cases';
import { OpRun, ScoreKind, checkTopk, makeScores, runOp } from '../../lib/reference';
import { CUDA_RUNS, describeGpu } from '../helpers/gpu';
import { DTYPES, RefOptions, RefResult, TIE_BREAKS, diffAt } from '../reference';

jest.setTimeout(300_000);

const KINDS: readonly ScoreKind[] = ['normal', 'relu', 'special', 'sparse', 'equal', 'fewDistinct', 'lowBits', 'denormal', 'wideRange'];
const ORDERS = [
  { sorted: false, deterministic: false },
  { sorted: false, deterministic: true },
  { sorted: true, deterministic: true },
];

/**
 * Checks a GPU result against the reference and, where the contract makes it unique, the CPU
 * bytes; through topk() too when the run forces no kernel path (topk() takes none).
 */
async function compare(run: OpRun, c: Case, o: RefOptions): Promise<void> {
  const cpu = topkSync(c.scores, { ...o, backend: 'cpu' });
  const results: [string, RefResult][] = [['TopK op', await runOp(c.scores, o, run)]];
  if (run.path === undefined) {
    const viaTopk = await topk(c.scores, { ...o, backend: run.backend });
    expect(viaTopk.backend).toBe(run.backend);
    results.push(['topk()', viaTopk]);
  }
  for (const [how, res] of results) {
    expect({ how, errors: checkTopk(res, c.scores, o) }).toEqual({ how, errors: [] });
    if (o.tieBreak !== 'none' && (o.sorted || o.deterministic)) {
      expect({ how, indices: diffAt(res.indices, cpu.indices) }).toEqual({ how, indices: -1 });
      if (o.values) expect({ how, values: diffAt(res.values!, cpu.values!) }).toEqual({ how, values: -1 });
    }
  }
}

describeGpu('CUDA backends against the CPU backend', () => {
  describe.each(CUDA_RUNS)('%s', (_name, run) => {
    const backend = run.backend;
    describe.each(DTYPES)('%s', (dtype) => {
      test.each(TIE_BREAKS)('tieBreak %s: lengths, windows, transforms, every order', async (tieBreak) => {
        for (const [i, k] of [1, 512, 2048].entries()) {
          const stride = 3 * k + 200;
          const cases = [
            edgeLengths(dtype, KINDS, k, 10 + i),
            windows(dtype, KINDS, k, 12, stride, 20 + i),
            ragged(dtype, KINDS, k, 6, stride, 30 + i),
            pageTable(dtype, KINDS, k, 6, stride, 1, 40 + i),
            pageTable(dtype, KINDS, k, 6, stride, 16, 50 + i),
          ];
          for (const c of cases) {
            for (const order of ORDERS) {
              await compare(run, c, { ...c.opts, ...order, tieBreak, values: true });
            }
          }
        }
      });
    });

    test('k 8192 on long rows, every dtype and tie-break', async () => {
      for (const dtype of DTYPES) {
        for (const tieBreak of TIE_BREAKS) {
          const c = windows(dtype, ['relu', 'normal', 'sparse', 'special'], 8192, 4, 60_000, 61);
          await compare(run, c, { ...c.opts, tieBreak, sorted: true, deterministic: true, values: true });
        }
      }
    });

    test('rows longer than the batch kernel\'s buffer (several cuts), odd strides, k 1 to 4096', async () => {
      for (const dtype of DTYPES) {
        for (const [i, k] of [1, 700, 2048, 4096].entries()) {
          const c = windows(dtype, KINDS, k, 6, 100_003, 70 + i);
          for (const tieBreak of TIE_BREAKS) {
            await compare(run, c, { ...c.opts, tieBreak, sorted: i % 2 === 1, deterministic: true, values: true });
          }
        }
      }
    });

    test('rows that fill the register kernel\'s registers (8192 scores) at every alignment, and a few more', async () => {
      for (const dtype of DTYPES) {
        const full = 8192;
        const stride = full + 16;
        const rowStarts = Int32Array.from({ length: 12 }, (_, r) => r % 8);
        const lengths = Int32Array.from({ length: 12 }, (_, r) => (r < 8 ? full : [full + 1, full - 1, full - 3, full + 5][r - 8]));
        for (const [i, k] of [1, 2048].entries()) {
          const scores = makeScores(dtype, 12, stride, ['normal', 'relu', 'equal', 'fewDistinct', 'special', 'wideRange', 'lowBits'], 80 + i);
          for (const tieBreak of TIE_BREAKS) {
            const c: Case = { name: `full rows ${dtype} k=${k}`, scores, opts: { k, rows: 12, dtype, rowStarts, lengths } };
            await compare(run, c, { ...c.opts, tieBreak, sorted: tieBreak === 'large', deterministic: true, values: true });
          }
        }
      }
    });

    test('values: false returns no values; k = 1 on single-element and empty rows', async () => {
      const scores = makeScores('f32', 3, 1, 'normal', 62);
      const o: RefOptions = { k: 1, rows: 3, lengths: [1, 0, 1], deterministic: true };
      const res = run.path === undefined ? await topk(scores, { ...o, backend }) : await runOp(scores, o, run);
      expect(res.values).toBeUndefined();
      expect(checkTopk(res, scores, o)).toEqual([]);
      expect(res.indices[1]).toBe(-1);
    });
  });
});
