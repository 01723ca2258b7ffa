// Fused index transforms on the CPU backend: ragged offsets and page tables (pageSize 1 and > 1,
// rowToBatch, pageTableStarts); -1 padding stays -1.
import { topkSync } from '../../lib';
import { pageTable, ragged } from '../helpers/cases';
import { checkTopk, makeScores } from '../../lib/reference';
import { DTYPES, RefOptions, TIE_BREAKS, referenceTopk } from '../reference';

describe.each(DTYPES)('cpu transforms, %s', (dtype) => {
  test.each(TIE_BREAKS)('tieBreak %s', (tieBreak) => {
    const kinds = ['special', 'relu', 'sparse', 'normal'] as const;
    for (const c of [
      ragged(dtype, kinds, 20, 10, 150, 21),
      pageTable(dtype, kinds, 20, 10, 150, 1, 22),
      pageTable(dtype, kinds, 20, 10, 150, 4, 23),
      pageTable(dtype, kinds, 20, 10, 150, 64, 24),
    ]) {
      for (const sorted of [false, true]) {
        const o: RefOptions = { ...c.opts, tieBreak, sorted, deterministic: true, values: true };
        const res = topkSync(c.scores, { ...o, backend: 'cpu' });
        expect(checkTopk(res, c.scores, o)).toEqual([]);
        if (tieBreak !== 'none') expect(res.indices).toEqual(referenceTopk(c.scores, o).indices);
      }
    }
  });
});

test('padding stays -1 under both transforms', () => {
  const scores = makeScores('f32', 2, 4, 'normal', 25);
  const base = { k: 6, rows: 2, lengths: [2, 0], deterministic: true, backend: 'cpu' as const };
  const r = topkSync(scores, { ...base, fuse: 'ragged', offsets: [1000, 2000] });
  expect(Array.from(r.indices)).toEqual([1000, 1001, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1]);
  const p = topkSync(scores, { ...base, fuse: 'page-table', pageTable: [5, 6, 7, 8, 9, 10, 11, 12] });
  expect(Array.from(p.indices)).toEqual([5, 6, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1]);
});
