// `nsa-topk verify`: every available backend against the CPU backend on a matrix of cases
// (dtypes, tie-breaks, orders, fused transforms, edge lengths, ReLU plateaus, NaN/inf/-0).
// With small/large tie-breaks the selection is unique and compared exactly; with none, the
// multiset of selected keys is. Without CUDA the CPU backend is checked against its own
// std::nth_element baseline instead. Every case gives every global option explicitly, so the
// --nsa-topk-* flags and NSA_TOPK_* variables cannot change the matrix.
import { Command } from 'commander';
import { cudaStatus } from '../cuda';
import { loadNative } from '../loader';
import { DType, DTYPES, FuseName, TIE_BREAKS, TieBreak } from '../options';
import { ScoresArray, TopKOptions, TopKResult, baselineTopkSync, topkSync } from '../topk';
import { Rng, allocScores, bitsOf, encode, keyOf, normal, rng } from './data';

interface VerifyCase {
  name: string;
  scores: ScoresArray;
  opts: TopKOptions;
}

const SPECIAL_BITS: Record<DType, number[]> = {
  // NaNs of several payloads and both signs, +inf, -inf, -0, +0.
  f32: [0x7fc00000, 0xffc00001, 0x7f800001, 0x7f800000, 0xff800000, 0x80000000, 0],
  f16: [0x7e00, 0xfe01, 0x7c01, 0x7c00, 0xfc00, 0x8000, 0],
  bf16: [0x7fc0, 0xffc1, 0x7f81, 0x7f80, 0xff80, 0x8000, 0],
};

/** Row r gets kind r % 4: normal, ReLU plateau (with some -0), specials sprinkled, few distinct. */
function makeScores(dtype: DType, rows: number, stride: number, rand: Rng): ScoresArray {
  const scores = allocScores(dtype, rows * stride);
  const bits = bitsOf(scores);
  const negZero = dtype === 'f32' ? 0x80000000 : 0x8000;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < stride; j++) {
      const x = normal(rand);
      let b: number;
      switch (r % 4) {
        case 0: b = encode(dtype, x); break;
        case 1: b = x > 0 ? encode(dtype, x) : j % 3 ? 0 : negZero; break;
        case 2: b = rand() < 0.15 ? SPECIAL_BITS[dtype][Math.floor(rand() * 7)] : encode(dtype, x); break;
        default: b = encode(dtype, Math.floor(rand() * 4));
      }
      bits[r * stride + j] = b;
    }
  }
  return scores;
}

const ints = (n: number, lo: number, hi: number, rand: Rng) => Int32Array.from({ length: n }, () => lo + Math.floor(rand() * (hi - lo)));

/** Edge lengths 0, 1, k-1, k, k+1, whole row, then random windows. */
function windows(k: number, rows: number, stride: number, rand: Rng): { lengths: Int32Array; rowStarts: Int32Array } {
  const rowStarts = new Int32Array(rows);
  const lengths = new Int32Array(rows);
  const edges = [0, 1, Math.max(k - 1, 0), k, k + 1, stride];
  for (let r = 0; r < rows; r++) {
    if (r < edges.length) {
      lengths[r] = Math.min(edges[r], stride);
      rowStarts[r] = Math.floor(rand() * (stride - lengths[r] + 1));
    } else {
      rowStarts[r] = Math.floor(rand() * (stride / 4));
      lengths[r] = Math.floor(rand() * (stride - rowStarts[r] + 1));
    }
  }
  return { lengths, rowStarts };
}

type FuseCase = { fuse: FuseName; pageSize?: number };
const FUSE_CASES: FuseCase[] = [{ fuse: 'none' }, { fuse: 'ragged' }, { fuse: 'page-table', pageSize: 1 }, { fuse: 'page-table', pageSize: 8 }];
const ORDERS = [{ name: 'unsorted' }, { name: 'deterministic', deterministic: true }, { name: 'sorted', sorted: true }];

function fuseOptions(f: FuseCase, rows: number, stride: number, rand: Rng): Partial<TopKOptions> {
  if (f.fuse === 'ragged') return { fuse: 'ragged', offsets: ints(rows, 0, 1 << 20, rand) };
  if (f.fuse !== 'page-table') return { fuse: 'none' };
  if (f.pageSize === 1) return { fuse: 'page-table', pageTable: ints(rows * stride, 0, 1 << 20, rand) };
  const maxStart = 2 * f.pageSize! + 1;
  const pageTableStride = Math.ceil((stride + maxStart) / f.pageSize!);
  return {
    fuse: 'page-table', pageSize: f.pageSize, pageTableStride, pageTable: ints(3 * pageTableStride, 0, 1 << 16, rand),
    rowToBatch: ints(rows, 0, 3, rand), pageTableStarts: ints(rows, 0, maxStart, rand),
  };
}

export function verifyCases(seed: number): VerifyCase[] {
  const rand = rng(seed);
  const cases: VerifyCase[] = [];
  for (const dtype of DTYPES) {
    for (const tieBreak of TIE_BREAKS) {
      for (const order of ORDERS) {
        for (const f of FUSE_CASES) {
          for (const [k, stride] of [[5, 17], [300, 4099]]) {
            const rows = 9;
            const opts: TopKOptions = {
              k, rows, dtype, tieBreak, deterministic: order.deterministic ?? false, sorted: order.sorted, values: true,
              ...windows(k, rows, stride, rand), ...fuseOptions(f, rows, stride, rand),
            };
            const fuse = f.fuse === 'page-table' ? `page-table P=${f.pageSize}` : f.fuse;
            cases.push({ name: `${dtype} ${tieBreak} ${order.name} ${fuse} k=${k} ${rows}x${stride}`, scores: makeScores(dtype, rows, stride, rand), opts });
          }
        }
      }
      // The NSA shapes, whole rows.
      for (const [k, rows, stride] of [[2048, 4, 131072], [512, 4, 40000]]) {
        cases.push({
          name: `${dtype} ${tieBreak} sorted k=${k} ${rows}x${stride}`,
          scores: makeScores(dtype, rows, stride, rand),
          opts: { k, rows, dtype, tieBreak, deterministic: false, sorted: true, values: true, fuse: 'none' },
        });
      }
    }
  }
  return cases;
}

const equalBytes = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

/** The first difference between `got` and the CPU reference `ref`, or undefined. */
function compare(c: VerifyCase, ref: TopKResult, got: TopKResult): string | undefined {
  const { k, rows, dtype = 'f32' } = c.opts;
  const tieBreak: TieBreak = c.opts.tieBreak ?? 'none';
  const exactOrder = c.opts.sorted || c.opts.deterministic;
  if (tieBreak !== 'none' && exactOrder) {
    if (!equalBytes(ref.indices, got.indices)) return 'indices differ';
    return equalBytes(ref.values!, got.values!) ? undefined : 'values differ';
  }
  const refBits = bitsOf(ref.values!);
  const gotBits = bitsOf(got.values!);
  for (let r = 0; r < rows; r++) {
    const slots = Array.from({ length: k }, (_, i) => r * k + i);
    const pad = (res: TopKResult) => slots.filter((s) => res.indices[s] === -1).length;
    if (pad(ref) !== pad(got)) return `row ${r}: ${pad(got)} padding slots, expected ${pad(ref)}`;
    if (tieBreak !== 'none') {
      // Unique selection, unspecified order: compare (index, value) pairs as sets.
      const pairs = (res: TopKResult, bits: ArrayLike<number>) => slots.map((s) => `${res.indices[s]}:${bits[s]}`).sort().join(',');
      if (pairs(ref, refBits) !== pairs(got, gotBits)) return `row ${r}: selected positions differ`;
      continue;
    }
    // tieBreak none: any tied positions may be chosen; the keys selected must agree.
    const keys = (bits: ArrayLike<number>) => slots.map((s) => keyOf(dtype, bits[s]));
    const a = keys(refBits);
    const b = keys(gotBits);
    if (!c.opts.sorted) { a.sort((x, y) => x - y); b.sort((x, y) => x - y); }
    if (a.join(',') !== b.join(',')) return `row ${r}: selected keys differ`;
    if (!c.opts.fuse || c.opts.fuse === 'none') {
      const start = c.opts.rowStarts ? (c.opts.rowStarts as Int32Array)[r] : 0;
      const scoreBits = bitsOf(c.scores);
      const stride = c.scores.length / rows;
      for (const s of slots) {
        const j = got.indices[s];
        if (j !== -1 && keyOf(dtype, scoreBits[r * stride + start + j]) !== keyOf(dtype, gotBits[s])) return `row ${r}: value at slot ${s - r * k} is not the score at its index`;
      }
      if (c.opts.deterministic) {
        const valid = slots.map((s) => got.indices[s]).filter((j) => j !== -1);
        if (valid.some((j, i) => i > 0 && j <= valid[i - 1])) return `row ${r}: deterministic order is not ascending`;
      }
    }
  }
  return undefined;
}

export interface VerifySummary { passed: number; failed: number; skipped?: string }

export function runVerify(opts: { seed: number; maxFailures: number }): VerifySummary {
  loadNative();
  const status = cudaStatus();
  type Candidate = { name: string; run: (c: VerifyCase) => TopKResult };
  const candidates: Candidate[] = status.usable
    ? (['radix', 'sort'] as const).map((backend) => ({ name: backend, run: (c: VerifyCase) => topkSync(c.scores, { ...c.opts, backend }) }))
    : [{ name: 'cpu nth_element baseline', run: (c: VerifyCase) => baselineTopkSync(c.scores, c.opts) }];
  const skipped = status.usable ? undefined : status.reason ?? (status.compiled ? 'no usable CUDA device' : 'built without CUDA');
  let passed = 0;
  let failed = 0;
  for (const c of verifyCases(opts.seed)) {
    const ref = topkSync(c.scores, { ...c.opts, backend: 'cpu' });
    for (const cand of candidates) {
      let problem: string | undefined;
      try {
        const got = cand.run(c);
        problem = compare(c, ref, got);
        if (!problem && c.opts.deterministic && !equalBytes(got.indices, cand.run(c).indices)) problem = 'not repeatable';
      } catch (err) {
        problem = `threw ${(err as Error).message}`;
      }
      if (problem) {
        failed++;
        if (failed <= opts.maxFailures) process.stdout.write(`FAIL ${cand.name}: ${c.name}: ${problem}\n`);
      } else {
        passed++;
      }
    }
  }
  if (skipped) process.stdout.write(`CUDA skipped: ${skipped}; checked the CPU backend against its nth_element baseline\n`);
  process.stdout.write(`verify: ${passed} passed, ${failed} failed\n`);
  return { passed, failed, skipped };
}

export function verifyCommand(setExit: (code: number) => void): Command {
  return new Command('verify')
    .description('check every available backend against the CPU backend; exit 1 on any mismatch')
    .option('--seed <n>', 'seed of the generated cases', (v) => Number.parseInt(v, 10), 1)
    .option('--max-failures <n>', 'failures to print in full', (v) => Number.parseInt(v, 10), 20)
    .action((o: { seed: number; maxFailures: number }) => {
      setExit(runVerify(o).failed > 0 ? 1 : 0);
    });
}
