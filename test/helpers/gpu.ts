// GPU suites run only where a usable CUDA device exists. Where a GPU is required
// (REQUIRE_GPU=1, `npm run test:gpu`), its absence fails the run instead of skipping silently.
import { DeviceBuffer, Stream, TopK, cudaStatus } from '../../lib';
import type { RadixPathName } from '../../lib';
import { Ints, RefOptions, RefResult, Scores, allocScores, inferDType, strideOf } from '../reference';

/** Why no GPU suite can run here, or undefined when one can. */
export function gpuUnavailableReason(): string | undefined {
  try {
    const status = cudaStatus();
    if (status.usable) return undefined;
    return status.reason ?? (status.compiled ? 'no usable CUDA device' : 'the addon was built without CUDA');
  } catch (err) {
    return `cudaStatus() threw: ${(err as Error).message}`;
  }
}

export function describeGpu(name: string, fn: () => void): void {
  const reason = gpuUnavailableReason();
  if (reason === undefined) {
    describe(name, fn);
  } else if (process.env.REQUIRE_GPU === '1') {
    describe(name, () => {
      test('requires a usable GPU (REQUIRE_GPU=1)', () => {
        throw new Error(`REQUIRE_GPU=1 but no usable GPU: ${reason}`);
      });
    });
  } else {
    describe.skip(`${name} (no GPU: ${reason})`, fn);
  }
}

/**
 * The CUDA kernels a suite runs each case through: the radix backend as the heuristic picks (few
 * rows: the radix kernel), the batch kernel forced on the same rows, and the sort backend.
 */
export const CUDA_RUNS: readonly [string, DeviceRun][] = [
  ['radix', { backend: 'radix' }],
  ['radix batch', { backend: 'radix', path: 'batch' }],
  ['sort', { backend: 'sort' }],
];

/** What a GPU run may vary beyond the problem itself. */
export interface DeviceRun {
  backend: 'radix' | 'sort';
  path?: RadixPathName;
  graphSafe?: boolean;
  /** Byte the outputs are poisoned with before the run, so unwritten slots show. */
  poison?: number;
  stream?: Stream;
}

/**
 * One call through the reusable op on device buffers: uploads every operand, poisons the
 * outputs, runs, downloads, and frees everything it allocated. Everything is enqueued on the one
 * stream, so the kernels' results never depend on how copies order against other streams
 * (device.test.ts checks that separately).
 */
export async function runOnDevice(scores: Scores, o: RefOptions, run: DeviceRun): Promise<RefResult> {
  const dtype = inferDType(scores, o.dtype);
  const stride = strideOf(scores, o);
  const owned: { dispose(): void }[] = [];
  const keep = <T extends { dispose(): void }>(x: T): T => { owned.push(x); return x; };
  try {
    const stream = run.stream ?? keep(new Stream());
    const put = async (host: ArrayBufferView) => {
      const buf = keep(DeviceBuffer.alloc(host.byteLength));
      await buf.copyFromAsync(host, { stream });
      return buf;
    };
    const upload = async (a?: Ints) => (a === undefined ? undefined : put(Int32Array.from(a)));
    const op = keep(new TopK({
      k: o.k, maxRows: o.rows, maxLen: stride, dtype, backend: run.backend,
      tieBreak: o.tieBreak, deterministic: o.deterministic, sorted: o.sorted, values: o.values,
      fuse: o.fuse, pageSize: o.pageSize, graphSafe: run.graphSafe, path: run.path,
    }));
    const out = keep(DeviceBuffer.alloc({ dtype: 'i32', length: o.rows * o.k }));
    const values = o.values ? keep(DeviceBuffer.alloc({ dtype, length: o.rows * o.k })) : undefined;
    const poison = run.poison ?? 0xff;
    out.fill(poison, { stream });
    values?.fill(poison, { stream });
    const pageTableStride = o.pageTable ? o.pageTableStride ?? o.pageTable.length / o.rows : undefined;
    await op.runAsync({
      scores: await put(scores), rows: o.rows, stride,
      lengths: await upload(o.lengths), rowStarts: await upload(o.rowStarts), offsets: await upload(o.offsets),
      pageTable: await upload(o.pageTable), pageTableStride,
      pageTableRows: o.pageTable ? o.pageTable.length / pageTableStride! : undefined,
      rowToBatch: await upload(o.rowToBatch), pageTableStarts: await upload(o.pageTableStarts),
      out, values, stream,
    });
    const result: RefResult = { indices: new Int32Array(o.rows * o.k) };
    out.copyTo(result.indices);
    if (values) {
      result.values = allocScores(dtype, o.rows * o.k);
      values.copyTo(result.values);
    }
    return result;
  } finally {
    for (const x of owned.reverse()) x.dispose();
  }
}
