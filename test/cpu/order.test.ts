// Output order and values: sorted (key descending, ties by j; large: descending j),
// deterministic unsorted (ascending j), padding last, values as the exact input bits.
import { topkSync } from '../../lib';
import { edgeLengths, windows } from '../helpers/cases';
import { checkTopk, makeScores } from '../../lib/reference';
import { DTYPES, RefOptions, TIE_BREAKS, bytesOf, referenceTopk } from '../reference';

const orders = [
  { sorted: true, deterministic: false },
  { sorted: true, deterministic: true },
  { sorted: false, deterministic: true },
  { sorted: false, deterministic: false },
];

describe.each(DTYPES)('cpu order and values, %s', (dtype) => {
  test.each(TIE_BREAKS)('tieBreak %s', (tieBreak) => {
    for (const order of orders) {
      for (const c of [
        edgeLengths(dtype, ['special', 'fewDistinct', 'equal'], 9, 11),
        windows(dtype, ['relu', 'special', 'sparse', 'normal'], 24, 16, 200, 12),
      ]) {
        const o: RefOptions = { ...c.opts, ...order, tieBreak, values: true };
        const res = topkSync(c.scores, { ...o, backend: 'cpu' });
        expect(res.values).toBeInstanceOf(dtype === 'f32' ? Float32Array : Uint16Array);
        expect(checkTopk(res, c.scores, o)).toEqual([]);
        if (tieBreak !== 'none' && (order.sorted || order.deterministic)) {
          // Exact to the byte: the reference's order is the only one allowed.
          const ref = referenceTopk(c.scores, o);
          expect(res.indices).toEqual(ref.indices);
          expect(bytesOf(res.values!)).toEqual(bytesOf(ref.values!));
        }
      }
    }
  });
});

test('deterministic tieBreak none repeats byte for byte, whatever the thread count', () => {
  const scores = makeScores('f32', 32, 3000, ['relu', 'equal', 'sparse', 'fewDistinct'], 13);
  const o = { k: 100, rows: 32, deterministic: true, tieBreak: 'none' as const, values: true, backend: 'cpu' as const };
  const first = topkSync(scores, { ...o, threads: 1 });
  expect(checkTopk(first, scores, o)).toEqual([]);
  for (const threads of [1, 2, 3, 8]) {
    const again = topkSync(scores, { ...o, threads });
    expect(again.indices).toEqual(first.indices);
    expect(bytesOf(again.values!)).toEqual(bytesOf(first.values!));
  }
});

test('a deterministic row does not depend on the rest of the batch', () => {
  const batch = makeScores('bf16', 64, 1000, ['sparse', 'equal', 'relu'], 14) as Uint16Array;
  const o = { k: 50, dtype: 'bf16' as const, deterministic: true, sorted: false, backend: 'cpu' as const };
  const all = topkSync(batch, { ...o, rows: 64 });
  for (const r of [0, 1, 37, 63]) {
    const alone = topkSync(batch.subarray(r * 1000, (r + 1) * 1000), { ...o, rows: 1 });
    expect(alone.indices).toEqual(all.indices.subarray(r * 50, (r + 1) * 50));
  }
});
