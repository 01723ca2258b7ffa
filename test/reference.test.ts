// The two references. The tests' own (test/reference.ts: sort-based, keys as decoded numbers) on
// cases small enough to work out by hand; then the package's (lib/reference: codecs, the key order
// from bits, the contract checker, the generators) held to it, over every 16-bit pattern and on
// random cases with outputs of known verdict. Every other suite trusts both.
import { NsaTopkError } from '../lib';
import {
  CLIP, FUZZ_LIMITS, FuzzCase, HOT_SHIFT, Output, SCORE_KINDS, allocScores, bitsOf, checkTopk, encode, fillScores, fuzzCase, keyOf as bitsKey, rng,
} from '../lib/reference';
import {
  DTYPES, DType, NEG_INF_BITS, TIE_BREAKS, decodeBf16, decodeF16, keyOf, referenceTopk, rowKeys, selectRow, sortByKey, transformOf,
} from './reference';

const { abs } = Math;

describe("the tests' reference", () => {
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

  test('NaN is greatest, -0 equals +0, +inf above finite', () => {
    expect(keyOf(NaN)).toBeGreaterThan(keyOf(Infinity));
    expect(keyOf(Infinity)).toBeGreaterThan(keyOf(3.4e38));
    expect(keyOf(-0)).toBe(keyOf(0));
    expect(keyOf(-Infinity)).toBeLessThan(keyOf(-3.4e38));
  });

  const scores = Float32Array.from([1, 3, 3, 0, 3, 2]);

  test.each([
    ['small', false, [1, 2]],
    ['large', false, [2, 4]],
    ['small', true, [1, 2]],
    ['large', true, [4, 2]],
  ] as const)('tieBreak %s sorted %s', (tieBreak, sorted, want) => {
    const got = referenceTopk(scores, { k: 2, rows: 1, tieBreak, sorted });
    expect(Array.from(got.indices)).toEqual(sorted ? want : [...want].sort((a, b) => a - b));
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
    const s = Uint16Array.from([0x3c00, 0x7e00, 0xfd55, 0x7c00, 0x8000]);
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

describe('the package checker on hand cases', () => {
  const scores = Float32Array.from([2, 7, 7, 7, 1]);
  const o = { k: 2, rows: 1 };
  const check = (indices: number[], opts: object, s: Float32Array = scores, values?: number[]) =>
    checkTopk({ indices: Int32Array.from(indices), values: values && Float32Array.from(values) }, s, { ...o, ...opts });

  test('tieBreak none accepts any tied choice, rejects a wrong key, a duplicate or a position outside the window', () => {
    expect(check([3, 1], {})).toEqual([]);
    expect(check([0, 1], {})).toHaveLength(1);
    expect(check([1, 1], {})).toHaveLength(1);
    expect(check([1, 5], {})).toHaveLength(1);
  });

  test('small/large are exact; order is checked when sorted or deterministic', () => {
    expect(check([2, 1], { tieBreak: 'small' })).toEqual([]);
    expect(check([2, 1], { tieBreak: 'small', deterministic: true })).toHaveLength(1);
    expect(check([1, 3], { tieBreak: 'small' })).toHaveLength(1);
    expect(check([3, 2], { tieBreak: 'large', sorted: true })).toEqual([]);
    expect(check([2, 3], { tieBreak: 'large', sorted: true })).toHaveLength(1);
  });

  test('padding must be -1 with -inf values, and last when ordered', () => {
    const s = Float32Array.from([1]);
    expect(check([0, -1], { values: true, deterministic: true }, s, [1, -Infinity])).toEqual([]);
    expect(check([-1, 0], { values: true, deterministic: true }, s, [-Infinity, 1])).toHaveLength(1);
    expect(check([-1, 0], { values: true }, s, [-Infinity, 1])).toEqual([]);
    expect(check([0, -1], { values: true }, s, [1, 0])).toHaveLength(1);
    expect(check([0, -1], { values: true }, s)).toEqual(['values missing']);
  });

  test('tieBreak none with a fused transform: the indices are traced back to positions', () => {
    const ragged = { fuse: 'ragged' as const, offsets: [100] };
    expect(check([103, 102], ragged)).toEqual([]);
    expect(check([103, 100], ragged)).toEqual(['row 0: slot 1: position 0 has key 0xc0000000, below the k-th key 0xc0e00000']);
    expect(check([103, 105], ragged)[0]).toMatch(/no position of the window/);
    // pageSize 2, batch 1, start 1: positions 0..4 map to table[1, (j + 1) / 2] * 2 + (j + 1) % 2 = 17..21.
    const paged = { fuse: 'page-table' as const, pageSize: 2, pageTable: [5, 6, 7, 8, 9, 10], pageTableStride: 3, rowToBatch: [1], pageTableStarts: [1] };
    expect(check([20, 18], paged)).toEqual([]);
    expect(check([20, 17], paged)[0]).toMatch(/position 0 has key .* below the k-th key/);
    expect(check([20, 16], paged)[0]).toMatch(/no position of the window/);
  });

  test('a page table that maps two positions of a window alike is refused with a stable code', () => {
    let caught: unknown;
    try {
      check([0, 1], { fuse: 'page-table', pageTable: [4, 4, 5, 6, 7] });
    } catch (err) { caught = err; }
    expect(caught).toBeInstanceOf(NsaTopkError);
    expect(caught).toMatchObject({ code: 'ERR_NSA_TOPK_INVALID_ARGUMENT' });
    expect((caught as Error).message).toContain('positions 0 and 1 both map to 4');
  });
});

const decode16 = (dtype: DType, h: number) => (dtype === 'f16' ? decodeF16(h) : decodeBf16(h));
const compare = (x: number, y: number) => (x < y ? -1 : x > y ? 1 : 0);
const f32Bits = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0];
const f32Of = (bits: number) => new Float32Array(Uint32Array.of(bits).buffer)[0];

describe("the package codecs and key order against the tests' decoding", () => {
  test.each(['f16', 'bf16'] as const)('%s, every bit pattern: encode(decode(h)) is h (a NaN stays a NaN), and keys order as the decoded numbers', (dtype) => {
    const bad: string[] = [];
    const patterns = Array.from({ length: 1 << 16 }, (_, h) => h);
    for (const h of patterns) {
      const x = decode16(dtype, h);
      const back = encode(dtype, x);
      if (Number.isNaN(x) ? !Number.isNaN(decode16(dtype, back)) : back !== h) bad.push(`encode(decode(0x${h.toString(16)})) = 0x${back.toString(16)}`);
    }
    patterns.sort((a, b) => bitsKey(dtype, a) - bitsKey(dtype, b));
    for (let i = 1; i < patterns.length && bad.length < 10; i++) {
      const [a, b] = [patterns[i - 1], patterns[i]];
      const bits = Math.sign(bitsKey(dtype, b) - bitsKey(dtype, a));
      const numbers = compare(keyOf(decode16(dtype, b)), keyOf(decode16(dtype, a)));
      if (bits !== numbers) bad.push(`0x${a.toString(16)} vs 0x${b.toString(16)}: bits say ${bits}, numbers ${numbers}`);
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });

  test.each(['f16', 'bf16'] as const)('%s: an f32 is rounded to the nearest value, ties to even', (dtype) => {
    const rand = rng(3);
    const [lo, hi] = dtype === 'f16' ? [-26, 16] : [-135, 127];
    const bad: string[] = [];
    for (let i = 0; i < 20_000 && bad.length < 10; i++) {
      const x = Math.fround((rand() < 0.5 ? -1 : 1) * (1 + rand()) * 2 ** (lo + Math.floor(rand() * (hi - lo))));
      const h = encode(dtype, x);
      const error = abs(decode16(dtype, h) - x);
      for (const n of [h - 1, h + 1]) {
        // Neighbours of the same sign that are finite numbers.
        if ((n & 0x8000) !== (h & 0x8000) || !Number.isFinite(decode16(dtype, n))) continue;
        const other = abs(decode16(dtype, n) - x);
        if (other < error || (other === error && h & 1)) bad.push(`${x} -> 0x${h.toString(16)}, 0x${n.toString(16)} is nearer or even`);
      }
    }
    expect(bad).toEqual([]);
    expect(encode('f16', 1 + 2 ** -11)).toBe(0x3c00);
    expect(encode('f16', 1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(encode('f16', 70000)).toBe(0x7c00);
  });

  test('f32: random bit patterns and the special values order as the numbers they hold', () => {
    const rand = rng(4);
    const patterns = Array.from({ length: 50_000 }, () => Math.floor(rand() * 2 ** 32));
    patterns.push(0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0x00000001, 0x80000001, 0x7f7fffff, 0xff7fffff);
    patterns.sort((a, b) => bitsKey('f32', a) - bitsKey('f32', b));
    const bad: string[] = [];
    for (let i = 1; i < patterns.length && bad.length < 10; i++) {
      const [a, b] = [patterns[i - 1], patterns[i]];
      const bits = Math.sign(bitsKey('f32', b) - bitsKey('f32', a));
      const numbers = compare(keyOf(f32Of(b)), keyOf(f32Of(a)));
      if (bits !== numbers) bad.push(`0x${a.toString(16)} vs 0x${b.toString(16)}`);
    }
    expect(bad).toEqual([]);
    expect(encode('f32', 1.5)).toBe(f32Bits(1.5));
  });
});

/** One way to change a right output, and whether the contract still allows the result. */
interface Mutation { name: string; output: Output; valid: boolean }

/**
 * Outputs of known verdict for case c, from the tests' reference: its answer reordered as the
 * options allow, and changes of one row (the longest window) that the contract allows or forbids.
 */
function* mutations(c: FuzzCase): Generator<Mutation> {
  const o = c.options;
  const k = o.k;
  const tieBreak = o.tieBreak ?? 'none';
  const ordered = Boolean(o.sorted || o.deterministic);
  const ref = referenceTopk(c.scores, o);
  yield { name: 'the reference', output: ref, valid: true };
  const windows = Array.from({ length: o.rows }, (_, r) => rowKeys(c.scores, o, r));
  const r = windows.reduce((best, w, i) => (w.keys.length > windows[best].keys.length ? i : best), 0);
  const { start, keys } = windows[r];
  const n = keys.length;
  const taken = selectRow(keys, k, tieBreak, false);
  const threshold = n > k ? Math.min(...taken.map((j) => keys[j])) : undefined;
  const untaken = Array.from({ length: n }, (_, j) => j).filter((j) => !taken.includes(j));
  const inBits = bitsOf(c.scores);
  /** The output with row r holding positions `js` (-1: padding) in the order the options ask for (unless `raw`), then padding. */
  const withRow = (js: number[], raw = false): Output => {
    const order = raw ? js : o.sorted ? sortByKey([...js], keys, tieBreak) : [...js].sort((a, b) => a - b);
    const indices = Int32Array.from(ref.indices);
    const values = ref.values?.slice();
    const valueBits = values && bitsOf(values);
    for (let i = 0; i < k; i++) {
      const j = i < order.length ? order[i] : -1;
      indices[r * k + i] = j < 0 ? -1 : transformOf(o, r, j);
      if (valueBits) valueBits[r * k + i] = j < 0 ? NEG_INF_BITS[o.dtype!] : inBits[start + j];
    }
    return { indices, values };
  };
  if (!ordered && taken.length >= 2) yield { name: 'slots reordered', output: withRow([...taken].reverse(), true), valid: true };
  const tiedUntaken = untaken.filter((j) => keys[j] === threshold);
  const tiedTaken = taken.filter((j) => keys[j] === threshold);
  if (tiedUntaken.length && tiedTaken.length) {
    const other = taken.map((j) => (j === tiedTaken[0] ? tiedUntaken[0] : j));
    yield { name: 'another tied position', output: withRow(other), valid: tieBreak === 'none' };
  }
  const below = untaken.find((j) => threshold !== undefined && keys[j] < threshold);
  if (below !== undefined) yield { name: 'a position below the k-th key', output: withRow([...taken.slice(1), below]), valid: false };
  if (taken.length >= 2) yield { name: 'a position twice', output: withRow([taken[0], ...taken.slice(0, -1)], true), valid: false };
  if (taken.length >= 1) {
    yield { name: 'one position fewer', output: withRow(taken.slice(1)), valid: false };
    yield { name: 'a position outside the window', output: withRow([...taken.slice(1), n], true), valid: false };
  }
  if (ordered && taken.length >= 2) {
    const right = withRow(taken);
    const swapped = Array.from(right.indices.subarray(r * k, r * k + 2));
    right.indices.set(swapped.reverse(), r * k);
    if (right.values) bitsOf(right.values).set(Array.from(bitsOf(right.values).subarray(r * k, r * k + 2)).reverse(), r * k);
    yield { name: 'two slots swapped', output: right, valid: false };
  }
  if (o.values && taken.length >= 1) {
    const flipped = withRow(taken);
    bitsOf(flipped.values!)[r * k] ^= 1;
    yield { name: 'a value bit flipped', output: flipped, valid: false };
  }
  if (o.values && taken.length < k) {
    const zero = withRow(taken);
    bitsOf(zero.values!)[r * k + k - 1] = 0;
    yield { name: 'padding valued 0', output: zero, valid: false };
  }
  if (ordered && taken.length >= 1 && taken.length < k) yield { name: 'padding first', output: withRow([-1, ...taken], true), valid: false };
}

describe("the package checker against the tests' reference on random cases", () => {
  test('2,000 fuzz cases: the reference passes, and each change passes exactly when the contract allows it', () => {
    const wrong: string[] = [];
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const c = fuzzCase(99, i);
      for (const m of mutations(c)) {
        counts.set(m.name, (counts.get(m.name) ?? 0) + 1);
        const errors = checkTopk(m.output, c.scores, c.options);
        if ((errors.length === 0) !== m.valid) wrong.push(`case ${i} ${m.name}: ${m.valid ? errors[0] : 'accepted'}`);
      }
    }
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(counts.size).toBe(11);
    for (const [name, count] of counts) expect({ name, enough: count >= 100 }).toEqual({ name, enough: true });
  });
});

describe('the package generators', () => {
  const N = 4096;
  const draw = (dtype: DType, kind: (typeof SCORE_KINDS)[number]) => {
    const out = allocScores(dtype, N);
    fillScores(dtype, kind, out, rng(5));
    return Array.from(bitsOf(out));
  };
  const decode = (dtype: DType, b: number) => (dtype === 'f32' ? f32Of(b) : decode16(dtype, b));
  const sign = (dtype: DType) => (dtype === 'f32' ? 0x80000000 : 0x8000);

  test.each(DTYPES)('each kind of scores is what it says (%s)', (dtype) => {
    const levels = new Set([-1, 0, 1, 2].map((x) => encode(dtype, x)));
    expect(new Set(draw(dtype, 'equal'))).toEqual(new Set([encode(dtype, 1)]));
    expect(new Set(draw(dtype, 'fewDistinct'))).toEqual(levels);
    const low = draw(dtype, 'lowBits');
    expect(new Set(low.map((b) => b & ~7)).size).toBe(1);
    expect(new Set(low).size).toBe(8);
    // Subnormal or zero: the exponent bits are all 0.
    expect(draw(dtype, 'denormal').every((b) => decode(dtype, b) === 0 || abs(decode(dtype, b)) < (dtype === 'f16' ? 2 ** -14 : 2 ** -126))).toBe(true);
    const relu = draw(dtype, 'relu').map((b) => decode(dtype, b));
    expect(relu.every((x) => x >= 0 && !Object.is(x, -0))).toBe(true);
    expect(relu.filter((x) => x > 0).length).toBeLessThan(20);
    expect(draw(dtype, 'sparse').filter((b) => b !== 0).length).toBeLessThan(40);
    const special = draw(dtype, 'special');
    const values = special.map((b) => decode(dtype, b));
    expect(values.some(Number.isNaN)).toBe(true);
    expect(values).toContain(Infinity);
    expect(values).toContain(-Infinity);
    expect(special.some((b, i) => b === sign(dtype) && special[i + 1] === 0)).toBe(true);
    const wide = draw(dtype, 'wideRange').map((b) => abs(decode(dtype, b))).filter((x) => x > 0 && x < Infinity);
    expect(Math.max(...wide) / Math.min(...wide)).toBeGreaterThan(dtype === 'f16' ? 2 ** 25 : 2 ** 70);
    const normal = draw(dtype, 'normal').map((b) => decode(dtype, b));
    expect(abs(normal.reduce((a, x) => a + x, 0) / N)).toBeLessThan(0.1);
    // hotSpan: the raised scores fill one run of N / 16 positions (a raised or an unraised normal
    // lies across HOT_SHIFT / 2 about once in 30,000).
    const hot = draw(dtype, 'hotSpan').map((b) => (decode(dtype, b) > HOT_SHIFT / 2 ? 1 : 0));
    const run = N / 16, raised = hot.reduce((a: number, h) => a + h, 0);
    let inRun = hot.slice(0, run).reduce((a: number, h) => a + h, 0), best = inRun;
    for (let i = run; i < N; i++) best = Math.max(best, (inRun += hot[i] - hot[i - run]));
    expect(best).toBeGreaterThan(run - 3);
    expect(raised - best).toBeLessThan(3);
    // clipped: ~2.3% (~93 of 4096) at CLIP, none above.
    const clipped = draw(dtype, 'clipped').map((b) => decode(dtype, b));
    expect(clipped.every((x) => x <= CLIP)).toBe(true);
    const tied = clipped.filter((x) => x === CLIP).length;
    expect(tied).toBeGreaterThan(50);
    expect(tied).toBeLessThan(150);
  });

  test('fuzz cases are drawn from (seed, index) alone, within the limits, and cover every option', () => {
    const again = fuzzCase(5, 17);
    expect(again.options).toEqual(fuzzCase(5, 17).options);
    expect(bitsOf(again.scores)).toEqual(bitsOf(fuzzCase(5, 17).scores));
    expect(fuzzCase(5, 18).options).not.toEqual(again.options);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const { options: o, scores, kinds } = fuzzCase(6, i);
      const stride = scores.length / o.rows;
      expect(o.rows <= FUZZ_LIMITS.maxRows && stride <= FUZZ_LIMITS.maxLen && o.k <= FUZZ_LIMITS.maxK).toBe(true);
      const lengths = Array.from(o.lengths ?? []);
      for (const tag of [
        o.dtype, `tieBreak ${o.tieBreak}`, o.fuse, o.pageSize === 1 && 'P=1', o.pageSize! > 1 && 'P>1', o.rowToBatch && 'rowToBatch',
        o.sorted && 'sorted', o.deterministic && 'deterministic', o.values && 'values', o.stride && 'stride', o.rowStarts && 'rowStarts',
        o.k === 1 && 'k=1', o.k > stride && 'k>stride', lengths.some((n) => n < 0) && 'negative length',
        lengths.some((n) => n > o.k) && 'length>k', lengths.includes(o.k) && 'length=k', lengths.includes(0) && 'empty', ...kinds,
      ]) if (tag) seen.add(tag);
    }
    expect([...seen].sort()).toEqual([
      ...DTYPES, ...TIE_BREAKS.map((t) => `tieBreak ${t}`), 'none', 'ragged', 'page-table', 'P=1', 'P>1', 'rowToBatch', 'sorted', 'deterministic',
      'values', 'stride', 'rowStarts', 'k=1', 'k>stride', 'negative length', 'length>k', 'length=k', 'empty', ...SCORE_KINDS,
    ].sort());
  });
});
