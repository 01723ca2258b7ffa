// The contract checker: what is wrong with a top-k result, worked out from the scores and the
// call's options alone. It finds each row's k-th key and holds the selection to it, so it needs
// no reference output and accepts any valid choice among tied positions where tieBreak is none.
import { invalidArgument } from '../errors';
import { FuseName, TieBreak, pickOptions } from '../options';
import type { ScoresArray, TopKOptions } from '../topk';
import { bitsOf, dtypeOf, keyOf, specialBits } from './codec';

const { floor, max, min } = Math;

/** What a call returned (a TopKResult, or indices and values read back from a device). */
export interface Output {
  indices: Int32Array;
  values?: ScoresArray;
}

/** Whether two arrays hold the same bytes (deterministic outputs must). */
export const sameBytes = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

const hex = (x: number) => `0x${x.toString(16)}`;

/**
 * Everything wrong with `result` under the contract, one message per wrong row, at most `limit`
 * (empty: correct). `options` are the call's; what they leave out resolves as the call's did.
 * - selection: a window of at most k positions whole; otherwise every position whose key is above
 *   the k-th key and as many tied with it as fill k; tieBreak small/large: exactly the smallest/
 *   largest tied positions; tieBreak none: any of them;
 * - positions distinct and in the window, seen through the fused transform (ragged offsets, page
 *   tables of any pageSize, rowToBatch, pageTableStarts); padding -1, with -inf values;
 * - order: sorted, keys descending, ties by ascending position (large: descending);
 *   deterministic, ascending position; padding last in both; otherwise any order;
 * - values: the bits of the score at each selected position.
 * Page tables must map each window one-to-one and never to -1 (else an output index could not be
 * traced to its position): this throws ERR_NSA_TOPK_INVALID_ARGUMENT when one does not.
 */
export function checkTopk(result: Output, scores: ScoresArray, options: TopKOptions, limit = 5): string[] {
  const { k, rows } = options;
  const dtype = dtypeOf(scores, options.dtype);
  const slots = rows * k;
  if (result.indices.length !== slots) return [`indices has ${result.indices.length} slots, expected rows * k = ${slots}`];
  if (Boolean(options.values) !== (result.values !== undefined)) return [options.values ? 'values missing' : 'values returned without values: true'];
  if (result.values && (result.values.length !== slots || (result.values instanceof Float32Array) !== (dtype === 'f32'))) {
    return [`values is a ${result.values.constructor.name} of ${result.values.length}, expected ${slots} ${dtype} values`];
  }
  const { tieBreak, deterministic, fuse } = pickOptions(['tieBreak', 'deterministic', 'fuse'], options);
  const call: Call = {
    options, k, tieBreak, fuse, sorted: options.sorted ?? false, deterministic,
    stride: options.stride ?? scores.length / rows,
    keyOf: (bits) => keyOf(dtype, bits),
    inBits: bitsOf(scores),
    outBits: result.values && bitsOf(result.values),
    negInf: specialBits(dtype, 'negInf'),
  };
  const errors: string[] = [];
  for (let r = 0; r < rows && errors.length < limit; r++) {
    const problem = checkRow(call, result.indices.subarray(r * k, (r + 1) * k), r);
    if (problem) errors.push(`row ${r}: ${problem}`);
  }
  return errors;
}

/** One call, as the row checks read it. */
interface Call {
  options: TopKOptions;
  k: number;
  tieBreak: TieBreak;
  fuse: FuseName;
  sorted: boolean;
  deterministic: boolean;
  stride: number;
  keyOf: (bits: number) => number;
  inBits: Uint32Array | Uint16Array;
  outBits?: Uint32Array | Uint16Array;
  negInf: number;
}

/** The first thing wrong with row r's k output slots, or undefined. */
function checkRow(c: Call, indices: Int32Array, r: number): string | undefined {
  const { k, tieBreak, outBits } = c;
  const { start, length: n } = windowOf(c, r);
  const base = r * c.stride + start;
  const keys = new Uint32Array(n);
  for (let j = 0; j < n; j++) keys[j] = c.keyOf(c.inBits[base + j]);
  const sel = selection(keys, k, tieBreak);
  const position = inverseTransform(c, r, n);
  const ordered = c.sorted || c.deterministic;
  const before = (a: number, b: number) => {
    if (!c.sorted) return a < b;
    return keys[a] !== keys[b] ? keys[a] > keys[b] : tieBreak === 'large' ? a > b : a < b;
  };
  const taken = new Uint8Array(n);
  let count = 0;
  let aboveTaken = 0;
  let previous = -1;
  let padding = -1;
  for (let i = 0; i < k; i++) {
    const out = indices[i];
    const valueBits = outBits?.[r * k + i];
    if (out === -1) {
      if (padding < 0) padding = i;
      if (valueBits !== undefined && valueBits !== c.negInf) return `padding slot ${i} holds value bits ${hex(valueBits)}, not -inf`;
      continue;
    }
    if (ordered && padding >= 0) return `slot ${i} holds ${out} after padding at slot ${padding}: padding must come last`;
    const j = position(out);
    if (j === undefined) return `slot ${i} holds ${out}, which no position of the window (length ${n}) maps to`;
    if (taken[j]) return `position ${j} is selected twice`;
    taken[j] = 1;
    count++;
    if (sel.threshold !== undefined) {
      if (keys[j] < sel.threshold) return `slot ${i}: position ${j} has key ${hex(keys[j])}, below the k-th key ${hex(sel.threshold)}`;
      if (keys[j] > sel.threshold) aboveTaken++;
      else if (sel.cut !== undefined && (tieBreak === 'small' ? j > sel.cut : j < sel.cut)) {
        return `slot ${i}: position ${j} is tied with the k-th key, but tieBreak ${tieBreak} takes the tied positions ${tieBreak === 'small' ? 'up to' : 'from'} ${sel.cut}`;
      }
    }
    if (valueBits !== undefined && valueBits !== c.inBits[base + j]) {
      return `slot ${i} (position ${j}) holds value bits ${hex(valueBits)}, the score's are ${hex(c.inBits[base + j])}`;
    }
    if (ordered && previous >= 0 && !before(previous, j)) {
      return `slot ${i}: position ${j} after position ${previous} breaks the ${c.sorted ? 'sorted' : 'deterministic'} order`;
    }
    previous = j;
  }
  const want = min(n, k);
  if (count !== want) return `${count} positions selected, expected ${want}`;
  if (aboveTaken !== sel.above) return `${sel.above - aboveTaken} of the ${sel.above} positions with keys above the k-th key are missing`;
  return undefined;
}

/** Row r's window, clamped into the row as the contract says, whatever the lengths and starts hold. */
function windowOf(c: Call, r: number): { start: number; length: number } {
  const { rowStarts, lengths } = c.options;
  const start = min(max(rowStarts ? rowStarts[r] : 0, 0), c.stride);
  const length = min(max(lengths ? lengths[r] : c.stride - start, 0), c.stride - start);
  return { start, length };
}

/**
 * Where the k-th key falls in a window longer than k: the key itself, how many keys lie above it,
 * and for small/large the last (small) or first (large) tied position that may be taken.
 */
function selection(keys: Uint32Array, k: number, tieBreak: TieBreak): { threshold?: number; above: number; cut?: number } {
  const n = keys.length;
  if (n <= k) return { above: 0 };
  const threshold = keys.slice().sort()[n - k];
  let above = 0;
  for (let j = 0; j < n; j++) if (keys[j] > threshold) above++;
  if (tieBreak === 'none') return { threshold, above };
  let need = k - above;
  const step = tieBreak === 'small' ? 1 : -1;
  let j = tieBreak === 'small' ? 0 : n - 1;
  for (; ; j += step) if (keys[j] === threshold && --need === 0) break;
  return { threshold, above, cut: j };
}

/**
 * Maps row r's output indices back to window positions (undefined: none maps there). A page
 * table is inverted through a map of every position's index.
 */
function inverseTransform(c: Call, r: number, n: number): (out: number) => number | undefined {
  const inWindow = (j: number) => (j >= 0 && j < n ? j : undefined);
  if (c.fuse === 'ragged') {
    const offset = c.options.offsets![r];
    return (out) => inWindow(out - offset);
  }
  if (c.fuse !== 'page-table') return inWindow;
  const forward = pageTableTransform(c, r);
  const positions = new Map<number, number>();
  for (let j = 0; j < n; j++) {
    const out = forward(j);
    const other = positions.get(out);
    if (out === -1 || other !== undefined) {
      const why = out === -1 ? `position ${j} maps to -1` : `positions ${other} and ${j} both map to ${out}`;
      throw invalidArgument('pageTable', `a table that maps each window one-to-one and never to -1 (row ${r}: ${why})`, c.options.pageTable);
    }
    positions.set(out, j);
  }
  return (out) => positions.get(out);
}

/** Row r's page-table transform of a position, as the kernels apply it: -1 outside the table. */
function pageTableTransform(c: Call, r: number): (j: number) => number {
  const o = c.options;
  const table = o.pageTable!;
  const tableStride = o.pageTableStride ?? table.length / o.rows;
  const tableRows = floor(table.length / tableStride);
  const pageSize = o.pageSize ?? 1;
  const batch = o.rowToBatch ? o.rowToBatch[r] : r;
  const first = o.pageTableStarts ? o.pageTableStarts[r] : 0;
  return (j) => {
    const p = j + first;
    const page = floor(p / pageSize);
    if (batch < 0 || batch >= tableRows || p < 0 || page >= tableStride) return -1;
    const entry = table[batch * tableStride + page];
    return pageSize === 1 ? entry : entry * pageSize + (p % pageSize);
  };
}
