// Every invalid argument throws an NsaTopkError with a stable code and a message naming the
// argument, before any work; the native code table equals the TypeScript one.
import * as fs from 'fs';
import * as path from 'path';
import { DeviceBuffer, NsaTopkError, Stream, TopK, cudaStatus, topk, topkSync } from '../lib';
import { ErrorCodes } from '../lib/errors';
import { loadNative } from '../lib/loader';
import { RunLimits, checkRun } from '../lib/op';

const INVALID = 'ERR_NSA_TOPK_INVALID_ARGUMENT';
const scores = new Float32Array(40);
const half = new Uint16Array(40);

/** What a call threw (or rejected with), for matching. */
async function thrown(fn: () => unknown): Promise<NsaTopkError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NsaTopkError);
    expect(err).toBeInstanceOf(Error);
    return err as NsaTopkError;
  }
  throw new Error('expected the call to throw');
}

const bad: [string, Parameters<typeof topkSync>[0], Record<string, unknown>, string, string | RegExp][] = [
  // [case, scores, options, code, argument named in the message]
  ['k < 1', scores, { k: 0, rows: 4 }, INVALID, 'k'],
  ['k negative', scores, { k: -3, rows: 4 }, INVALID, 'k'],
  ['k not an integer', scores, { k: 1.5, rows: 4 }, INVALID, 'k'],
  ['k NaN', scores, { k: NaN, rows: 4 }, INVALID, 'k'],
  ['k missing', scores, { rows: 4 }, INVALID, 'k'],
  ['rows < 1', scores, { k: 1, rows: 0 }, INVALID, 'rows'],
  ['rows not dividing scores', scores, { k: 1, rows: 3 }, INVALID, /rows|stride|scores/],
  ['rows * stride != scores.length', scores, { k: 1, rows: 4, stride: 11 }, INVALID, /stride|scores/],
  ['f16 dtype for a Float32Array', scores, { k: 1, rows: 4, dtype: 'f16' }, INVALID, 'dtype'],
  ['f32 dtype for a Uint16Array', half, { k: 1, rows: 4, dtype: 'f32' }, INVALID, 'dtype'],
  ['no dtype for a Uint16Array', half, { k: 1, rows: 4 }, INVALID, 'dtype'],
  ['unknown dtype', half, { k: 1, rows: 4, dtype: 'f8' }, INVALID, 'dtype'],
  ['scores of the wrong array type', new Float64Array(40) as never, { k: 1, rows: 4 }, INVALID, 'scores'],
  ['lengths of the wrong size', scores, { k: 1, rows: 4, lengths: [1, 2, 3] }, INVALID, 'lengths'],
  ['rowStarts of the wrong size', scores, { k: 1, rows: 4, rowStarts: new Int32Array(5) }, INVALID, 'rowStarts'],
  ['lengths not integers', scores, { k: 1, rows: 4, lengths: [1, 2, 3.5, 4] }, INVALID, 'lengths'],
  ['unknown tieBreak', scores, { k: 1, rows: 4, tieBreak: 'medium' }, INVALID, 'tieBreak'],
  ['deterministic not a boolean', scores, { k: 1, rows: 4, deterministic: 'yes' }, INVALID, 'deterministic'],
  ['sorted not a boolean', scores, { k: 1, rows: 4, sorted: 1 }, INVALID, 'sorted'],
  ['unknown fuse', scores, { k: 1, rows: 4, fuse: 'paged' }, INVALID, 'fuse'],
  ['ragged without offsets', scores, { k: 1, rows: 4, fuse: 'ragged' }, INVALID, 'offsets'],
  ['offsets of the wrong size', scores, { k: 1, rows: 4, fuse: 'ragged', offsets: [0] }, INVALID, 'offsets'],
  ['page-table without pageTable', scores, { k: 1, rows: 4, fuse: 'page-table' }, INVALID, 'pageTable'],
  ['pageSize 0', scores, { k: 1, rows: 4, fuse: 'page-table', pageTable: new Int32Array(40), pageSize: 0 }, INVALID, 'pageSize'],
  ['pageSize negative', scores, { k: 1, rows: 4, fuse: 'page-table', pageTable: new Int32Array(40), pageSize: -2 }, INVALID, 'pageSize'],
  ['pageSize not an integer', scores, { k: 1, rows: 4, fuse: 'page-table', pageTable: new Int32Array(40), pageSize: 1.5 }, INVALID, 'pageSize'],
  ['an empty pageTable', scores, { k: 1, rows: 4, fuse: 'page-table', pageTable: [], pageTableStride: 10 }, INVALID, /for pageTable but/],
  ['rowToBatch of the wrong size', scores, { k: 1, rows: 4, fuse: 'page-table', pageTable: new Int32Array(40), pageTableStride: 10, rowToBatch: [0] }, INVALID, 'rowToBatch'],
  ['threads negative', scores, { k: 1, rows: 4, threads: -1 }, INVALID, 'threads'],
  ['unknown backend', scores, { k: 1, rows: 4, backend: 'tpu' }, 'ERR_NSA_TOPK_UNKNOWN_BACKEND', 'tpu'],
  ['unknown option key', scores, { k: 1, rows: 4, tieBrake: 'small' }, 'ERR_NSA_TOPK_UNKNOWN_OPTION', 'tieBrake'],
];

describe.each([
  ['topkSync', (s: Parameters<typeof topkSync>[0], o: Record<string, unknown>) => topkSync(s, o as never)],
  ['topk', (s: Parameters<typeof topkSync>[0], o: Record<string, unknown>) => topk(s, o as never)],
] as const)('%s refuses invalid arguments', (_name, call) => {
  test.each(bad)('%s', async (_case, s, o, code, argument) => {
    const err = await thrown(() => call(s, { backend: 'cpu', ...o }));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(argument);
  });
});

test('invalid-argument messages follow "Expected ... for <argument> but received <value>"', async () => {
  const err = await thrown(() => topkSync(scores, { k: 0, rows: 4 }));
  expect(err.message).toMatch(/Expected .* for k but received 0/);
});

test('an unknown backend message lists the valid ones', async () => {
  const err = await thrown(() => topkSync(scores, { k: 1, rows: 4, backend: 'tpu' as never }));
  for (const name of ['auto', 'radix', 'sort', 'cpu']) expect(err.message).toContain(name);
});

test('topk() refuses before any work: nothing runs and the error keeps the caller in its stack', async () => {
  const big = new Float32Array(1 << 24);
  const started = performance.now();
  const err = await thrown(() => topk(big, { k: 0, rows: 1, backend: 'cpu' }));
  expect(performance.now() - started).toBeLessThan(200);
  expect(err.stack).toContain('errors.test');
});

const status = cudaStatus();

(status.usable ? test.skip : test).each(['radix', 'sort'] as const)(
  'backend %s without a usable GPU throws ERR_NSA_TOPK_CUDA_UNAVAILABLE with the reason',
  async (backend) => {
    const err = await thrown(() => topkSync(scores, { k: 1, rows: 4, backend }));
    expect(err.code).toBe('ERR_NSA_TOPK_CUDA_UNAVAILABLE');
    expect(status.reason).toBeTruthy();
    expect(err.message).toContain(status.reason!);
  },
);

(status.usable ? describe.skip : describe)('without a usable GPU', () => {
  test("backend 'auto' runs on the CPU", () => {
    expect(topkSync(scores, { k: 1, rows: 4 }).backend).toBe('cpu');
  });

  test.each([
    ['TopK', () => new TopK({ k: 1, maxRows: 1, maxLen: 10 })],
    ['DeviceBuffer.alloc', () => DeviceBuffer.alloc(16)],
    ['Stream', () => new Stream()],
  ])('%s throws ERR_NSA_TOPK_CUDA_UNAVAILABLE with the reason', async (_name, fn) => {
    const err = await thrown(fn);
    expect(err.code).toBe('ERR_NSA_TOPK_CUDA_UNAVAILABLE');
    expect(err.message).toContain(status.reason!);
  });

  test('op options are still checked first', async () => {
    const err = await thrown(() => new TopK({ k: 0, maxRows: 1, maxLen: 10 }));
    expect(err.code).toBe(INVALID);
    expect(err.message).toContain('k');
  });
});

describe('TopK run arguments are checked before any buffer is looked at', () => {
  // checkRun is all of run()'s checking; an op's limits as a plain object need no GPU.
  const limits = (backend: 'radix' | 'sort'): RunLimits => ({
    k: 4, maxRows: 2, maxLen: 100, dtype: 'f32', backend, device: 0, fuse: 'none', config: { writeValues: false },
  });
  const lengths = {} as DeviceBuffer;

  test.each(['radix', 'sort'] as const)('%s: stride above maxLen without lengths names stride', async (backend) => {
    const err = await thrown(() => checkRun(limits(backend), { rows: 2, stride: 101 }));
    expect(err.code).toBe(INVALID);
    expect(err.message).toMatch(/for stride but received 101/);
  });

  test('sort: stride above maxLen is refused even with lengths (it sorts whole rows)', async () => {
    const err = await thrown(() => checkRun(limits('sort'), { rows: 2, stride: 101, lengths }));
    expect(err.code).toBe(INVALID);
    expect(err.message).toMatch(/at most maxLen \(100\) with the sort backend for stride/);
  });

  test('radix: stride above maxLen with lengths passes on to the buffers', async () => {
    const err = await thrown(() => checkRun(limits('radix'), { rows: 2, stride: 101, lengths }));
    expect(err.message).not.toContain('stride');
    expect(err.message).toContain('stream');
  });

  test('rows above maxRows and unknown keys', async () => {
    expect((await thrown(() => checkRun(limits('radix'), { rows: 3, stride: 10 }))).message).toContain('rows');
    expect((await thrown(() => checkRun(limits('radix'), { rows: 1, stride: 10, lenghts: lengths }))).code).toBe('ERR_NSA_TOPK_UNKNOWN_OPTION');
  });
});

describe('error code table', () => {
  /** The codes of csrc/common/error_codes.h, in order. */
  const headerCodes = Array.from(
    fs.readFileSync(path.join(__dirname, '..', 'csrc', 'common', 'error_codes.h'), 'utf8').matchAll(/X\(\w+,\s*"(ERR_NSA_TOPK_[A-Z_]+)"\)/g),
    (m) => m[1],
  );

  test('the header lists the documented codes', () => {
    expect(headerCodes).toEqual(expect.arrayContaining([
      INVALID, 'ERR_NSA_TOPK_UNKNOWN_BACKEND', 'ERR_NSA_TOPK_UNKNOWN_OPTION', 'ERR_NSA_TOPK_CUDA_UNAVAILABLE',
      'ERR_NSA_TOPK_CUDA', 'ERR_NSA_TOPK_DISPOSED', 'ERR_NSA_TOPK_DEVICE_MISMATCH', 'ERR_NSA_TOPK_LOAD_FAILED',
    ]));
  });

  test('native errorCodes() equals lib/errors.ts and the header, in order', () => {
    expect(loadNative().errorCodes()).toEqual(headerCodes);
    expect(Object.values(ErrorCodes)).toEqual(headerCodes);
  });

  test('NsaTopkError carries its code and is an Error', () => {
    const err = new NsaTopkError('boom', 'ERR_NSA_TOPK_CUDA');
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ERR_NSA_TOPK_CUDA');
    expect(err.message).toContain('boom');
    expect(err.name).toBe('NsaTopkError');
  });
});
