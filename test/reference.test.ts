// The reference itself, on cases small enough to work out by hand: every other suite trusts it.
import {
  checkTopk, decodeBf16, decodeF16, encodeF16, keyOf, makePageTable, referenceTopk, specialBits, transformOf,
} from './reference';

describe('reference keys', () => {
  test('f16 and bf16 decoding', () => {
    expect(decodeF16(0x3c00)).toBe(1);
    expect(decodeF16(0xc000)).toBe(-2);
    expect(decodeF16(0x0001)).toBe(2 ** -24);
    expect(decodeF16(0x7c00)).toBe(Infinity);
    expect(decodeF16(0x7c01)).toBeNaN();
    expect(Object.is(decodeF16(0x8000), -0)).toBe(true);
    expect(decodeBf16(0x3f80)).toBe(1);
    expect(decodeBf16(0xff80)).toBe(-Infinity);
    expect(decodeBf16(0xff85)).toBeNaN();
  });

  test('f16 encoding round-trips and rounds to nearest even', () => {
    for (const h of [0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0xfbff, 0x7c00, 0xfc00]) {
      expect(encodeF16(decodeF16(h))).toBe(h);
    }
    expect(encodeF16(1 + 2 ** -11)).toBe(0x3c00); // halfway, rounds to even
    expect(encodeF16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(encodeF16(70000)).toBe(0x7c00);
  });

  test('NaN is greatest, -0 equals +0, +inf above finite', () => {
    expect(keyOf(NaN)).toBeGreaterThan(keyOf(Infinity));
    expect(keyOf(Infinity)).toBeGreaterThan(keyOf(3.4e38));
    expect(keyOf(-0)).toBe(keyOf(0));
    expect(keyOf(-Infinity)).toBeLessThan(keyOf(-3.4e38));
  });
});

describe('reference selection', () => {
  const scores = Float32Array.from([1, 3, 3, 0, 3, 2]);

  test.each([
    ['small', false, [1, 2]],
    ['large', false, [2, 4]],
    ['small', true, [1, 2]],
    ['large', true, [4, 2]],
  ] as const)('tieBreak %s sorted %s', (tieBreak, sorted, want) => {
    const k = 2;
    const got = referenceTopk(scores, { k, rows: 1, tieBreak, sorted });
    const expected = sorted ? want : [...want].sort((a, b) => a - b);
    expect(Array.from(got.indices)).toEqual(expected);
  });

  test('NaN of either sign beats +inf; -0 ties +0', () => {
    const s = new Float32Array(5);
    new Uint32Array(s.buffer).set([0x80000000, 0x7f800000, 0xff812345, 0, 0xbf800000]);
    const got = referenceTopk(s, { k: 3, rows: 1, sorted: true, tieBreak: 'large', values: true });
    expect(Array.from(got.indices)).toEqual([2, 1, 3]);
    expect(Array.from(new Uint32Array(got.values!.buffer))).toEqual([0xff812345, 0x7f800000, 0]);
  });

  test('windows, padding and clamping', () => {
    const s = Float32Array.from([5, 4, 3, 2, 1, 0, 9, 8]);
    const got = referenceTopk(s, { k: 3, rows: 2, lengths: [2, 99], rowStarts: [1, -4], values: true, sorted: true });
    expect(Array.from(got.indices)).toEqual([0, 1, -1, 2, 3, 0]);
    expect(Array.from(got.values!)).toEqual([4, 3, -Infinity, 9, 8, 1]);
  });

  test('f16 raw bits, NaN payloads all equal', () => {
    const s = Uint16Array.from([0x3c00, 0x7e00, 0xfd55, 0x7c00, specialBits('f16', 'negZero')]);
    const got = referenceTopk(s, { k: 3, rows: 1, dtype: 'f16', sorted: true, tieBreak: 'small' });
    expect(Array.from(got.indices)).toEqual([1, 2, 3]);
  });

  test('ragged and page-table transforms', () => {
    const base = { k: 2, rows: 2, sorted: true, tieBreak: 'small' as const };
    const s = Float32Array.from([0, 1, 2, 3, 0, 0, 0, 5]);
    expect(Array.from(referenceTopk(s, { ...base, fuse: 'ragged', offsets: [100, 200] }).indices)).toEqual([103, 102, 203, 200]);
    const table = [10, 11, 12, 13, 20, 21, 22, 23];
    expect(Array.from(referenceTopk(s, { ...base, fuse: 'page-table', pageTable: table }).indices)).toEqual([13, 12, 23, 20]);
    // pageSize 2: p = j + start; out = table[b, p / 2] * 2 + p % 2.
    const paged = { ...base, fuse: 'page-table' as const, pageTable: table, pageSize: 2, rowToBatch: [1, 0], pageTableStarts: [1, 0], pageTableStride: 4 };
    expect(transformOf(paged, 0, 3)).toBe(22 * 2 + 0);
    expect(Array.from(referenceTopk(s, paged).indices)).toEqual([44, 43, 23, 20]);
  });
});

describe('checker', () => {
  const scores = Float32Array.from([2, 7, 7, 7, 1]);
  const o = { k: 2, rows: 1 };

  test('tieBreak none accepts any tied choice, rejects a wrong key or a duplicate', () => {
    expect(checkTopk({ indices: Int32Array.from([3, 1]) }, scores, o)).toEqual([]);
    expect(checkTopk({ indices: Int32Array.from([0, 1]) }, scores, o)).toHaveLength(1);
    expect(checkTopk({ indices: Int32Array.from([1, 1]) }, scores, o)).toHaveLength(1);
    expect(checkTopk({ indices: Int32Array.from([1, 5]) }, scores, o)).toHaveLength(1);
  });

  test('small/large are exact; order is checked when sorted or deterministic', () => {
    expect(checkTopk({ indices: Int32Array.from([2, 1]) }, scores, { ...o, tieBreak: 'small' })).toEqual([]);
    expect(checkTopk({ indices: Int32Array.from([2, 1]) }, scores, { ...o, tieBreak: 'small', deterministic: true })).toHaveLength(1);
    expect(checkTopk({ indices: Int32Array.from([1, 3]) }, scores, { ...o, tieBreak: 'small' })).toHaveLength(1);
    expect(checkTopk({ indices: Int32Array.from([3, 2]) }, scores, { ...o, tieBreak: 'large', sorted: true })).toEqual([]);
  });

  test('padding must be -1 with -inf values and last when ordered', () => {
    const s = Float32Array.from([1]);
    const ok = { indices: Int32Array.from([0, -1]), values: Float32Array.from([1, -Infinity]) };
    expect(checkTopk(ok, s, { ...o, values: true, deterministic: true })).toEqual([]);
    const bad = { indices: Int32Array.from([-1, 0]), values: Float32Array.from([-Infinity, 1]) };
    expect(checkTopk(bad, s, { ...o, values: true, deterministic: true })).toHaveLength(1);
    expect(checkTopk(bad, s, { ...o, values: true })).toEqual([]);
  });

  test('page tables from the generator are injective', () => {
    const table = makePageTable(3, 4, 1);
    expect(new Set(table).size).toBe(12);
  });
});
