// Deterministic means the same bytes: on every run, whatever the batch around a row, whichever
// radix path runs, and (for small/large) whichever backend runs.
import { topk } from '../../lib';
import { allocScores, checkTopk, fillScores, makeScores, rng, runOp } from '../../lib/reference';
import { describeGpu } from '../helpers/gpu';
import { RefOptions, Scores, TIE_BREAKS, diffAt } from '../reference';

jest.setTimeout(600_000);

const BACKENDS = ['radix', 'sort'] as const;

describeGpu('determinism', () => {
  describe.each(BACKENDS)('%s', (backend) => {
    test.each(TIE_BREAKS)('20 runs are byte-identical (tieBreak %s)', async (tieBreak) => {
      const scores = makeScores('f32', 64, 40_000, ['sparse', 'relu', 'equal', 'fewDistinct', 'special'], 80);
      for (const sorted of [false, true]) {
        const o: RefOptions = { k: 2048, rows: 64, tieBreak, sorted, deterministic: true, values: true };
        const first = await runOp(scores, o, { backend, poison: 0xff });
        expect(checkTopk(first, scores, o)).toEqual([]);
        for (let run = 1; run < 20; run++) {
          // A different poison each run: a slot the kernel forgot to write cannot match.
          const again = await runOp(scores, o, { backend, poison: [0x00, 0x5a, 0xff][run % 3] });
          expect({ run, indices: diffAt(again.indices, first.indices), values: diffAt(again.values!, first.values!) })
            .toEqual({ run, indices: -1, values: -1 });
        }
      }
    });

    test.each(TIE_BREAKS)('a row alone equals the same row inside a batch of 256 others (tieBreak %s)', async (tieBreak) => {
      const stride = 65_536;
      const rows = 257;
      const target = 100;
      const batch = makeScores('bf16', rows, stride, ['normal', 'relu', 'sparse', 'equal', 'special'], 81);
      const row = allocScores('bf16', stride);
      fillScores('bf16', 'sparse', row, rng(82));
      batch.set(row, target * stride);
      const k = 2048;
      for (const sorted of [false, true]) {
        const base = { k, dtype: 'bf16' as const, tieBreak, sorted, deterministic: true, values: true };
        const alone = await runOp(row, { ...base, rows: 1 }, { backend });
        const inBatch = await runOp(batch, { ...base, rows }, { backend });
        expect(diffAt(inBatch.indices.subarray(target * k, (target + 1) * k), alone.indices)).toBe(-1);
        expect(diffAt(inBatch.values!.subarray(target * k, (target + 1) * k), alone.values!)).toBe(-1);
        // And through topk(), with a different window for the neighbours.
        const lengths = Int32Array.from({ length: rows }, (_, r) => (r === target ? stride : (r * 977) % stride));
        const viaTopk = await topk(batch, { ...base, rows, lengths, backend });
        expect(diffAt(viaTopk.indices.subarray(target * k, (target + 1) * k), alone.indices)).toBe(-1);
      }
    });
  });

  test('radix paths block, cluster, batch, register and chunked give identical bytes', async () => {
    for (const stride of [4096, 300_000]) {
      const rows = 8;
      const scores = makeScores('f16', rows, stride, ['sparse', 'relu', 'fewDistinct', 'special'], 83);
      for (const tieBreak of TIE_BREAKS) {
        for (const sorted of [false, true]) {
          const o: RefOptions = { k: 2048, rows, dtype: 'f16', tieBreak, sorted, deterministic: true, values: true };
          const block = await runOp(scores, o, { backend: 'radix', path: 'block' });
          expect(checkTopk(block, scores, o)).toEqual([]);
          for (const path of ['cluster', 'batch', 'register', 'chunked'] as const) {
            const other = await runOp(scores, o, { backend: 'radix', path });
            expect({ stride, tieBreak, sorted, path, indices: diffAt(other.indices, block.indices), values: diffAt(other.values!, block.values!) })
              .toEqual({ stride, tieBreak, sorted, path, indices: -1, values: -1 });
          }
        }
      }
    }
  });

  test('sort and radix agree on 4096 x 131072 f32, k 2048, tieBreak small', async () => {
    const rows = 4096;
    const stride = 131_072;
    const scores = quantizedScores(rows, stride, 84);
    const o = { k: 2048, rows, tieBreak: 'small' as const, sorted: true, values: true };
    const radix = await topk(scores, { ...o, backend: 'radix' });
    const sort = await topk(scores, { ...o, backend: 'sort' });
    expect(diffAt(radix.indices, sort.indices)).toBe(-1);
    expect(diffAt(radix.values!, sort.values!)).toBe(-1);
    // Spot-check a few rows against the reference (all 4096 would take minutes in JS).
    for (const r of [0, 1, 2047, 4095]) {
      const row = scores.subarray(r * stride, (r + 1) * stride);
      expect(checkTopk({ indices: radix.indices.subarray(r * 2048, (r + 1) * 2048) }, row, { ...o, rows: 1, values: false })).toEqual([]);
    }
  });
});

/**
 * 512M scores quickly: 16-bit quantized uniforms (so about two ties per value in each row, and
 * the 2048th value is usually tied), from an xorshift stream rather than Math.log per element.
 */
function quantizedScores(rows: number, stride: number, seed: number): Scores {
  const scores = new Float32Array(rows * stride);
  let x = seed | 1;
  for (let i = 0; i < scores.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    scores[i] = ((x >>> 16) - 32768) / 4096;
  }
  return scores;
}
