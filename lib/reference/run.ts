// A case through the TopK op on device buffers, the way a serving loop runs it: every operand
// uploaded, the outputs poisoned so an unwritten slot shows, eager or as a graph-safe replay.
import { DeviceBuffer, Stream } from '../device';
import { TopK, TopKRunArgs } from '../op';
import type { RadixPathName } from '../options';
import type { IntArrayLike, ScoresArray, TopKOptions } from '../topk';
import type { Output } from './check';
import { allocScores, dtypeOf } from './codec';

export interface OpRun {
  backend: 'radix' | 'sort';
  path?: RadixPathName;
  /** The op's maxima: at least the call's rows and stride (the default). */
  maxRows?: number;
  maxLen?: number;
  /**
   * A graph-safe op: a first run over zeroed operands (every window empty) captures its graph,
   * then the real operands are copied into the same buffers and the graph replays over them.
   */
  graph?: boolean;
  /** Byte the outputs are poisoned with before each run (default 0xff). */
  poison?: number;
  stream?: Stream;
}

/** Runs one call through a TopK op built for it, then frees everything it allocated. */
export async function runOp(scores: ScoresArray, o: TopKOptions, run: OpRun): Promise<Output> {
  const dtype = dtypeOf(scores, o.dtype);
  const stride = o.stride ?? scores.length / o.rows;
  const owned: { dispose(): void }[] = [];
  const keep = <T extends { dispose(): void }>(x: T): T => { owned.push(x); return x; };
  try {
    const stream = run.stream ?? keep(new Stream());
    // Every operand buffer with the host array it holds, for each pass to load.
    const operands: [DeviceBuffer, ArrayBufferView][] = [];
    const operand = (host?: ArrayBufferView) => {
      if (host === undefined) return undefined;
      const buffer = keep(DeviceBuffer.alloc(host.byteLength));
      operands.push([buffer, host]);
      return buffer;
    };
    const ints = (a?: IntArrayLike) => operand(a === undefined ? undefined : Int32Array.from(a));
    const op = keep(new TopK({
      k: o.k, maxRows: run.maxRows ?? o.rows, maxLen: run.maxLen ?? stride, dtype, backend: run.backend,
      tieBreak: o.tieBreak, deterministic: o.deterministic, sorted: o.sorted, values: o.values,
      fuse: o.fuse, pageSize: o.pageSize, graphSafe: run.graph ?? false, path: run.path,
    }));
    const out = keep(DeviceBuffer.alloc({ dtype: 'i32', length: o.rows * o.k }));
    const values = o.values ? keep(DeviceBuffer.alloc({ dtype, length: o.rows * o.k })) : undefined;
    const tableLength = o.pageTable?.length ?? 0;
    const pageTableStride = o.pageTableStride ?? tableLength / o.rows;
    const args: TopKRunArgs = {
      scores: operand(scores)!, rows: o.rows, stride, lengths: ints(o.lengths), rowStarts: ints(o.rowStarts), offsets: ints(o.offsets),
      pageTable: ints(o.pageTable), rowToBatch: ints(o.rowToBatch), pageTableStarts: ints(o.pageTableStarts),
      pageTableStride: o.pageTable && pageTableStride, pageTableRows: o.pageTable && tableLength / pageTableStride,
      out, values, stream,
    };
    const pass = async (load: (buffer: DeviceBuffer, host: ArrayBufferView) => Promise<void>) => {
      for (const [buffer, host] of operands) await load(buffer, host);
      out.fill(run.poison ?? 0xff, { stream });
      values?.fill(run.poison ?? 0xff, { stream });
      await op.runAsync(args);
    };
    if (run.graph) await pass(async (buffer) => buffer.fill(0, { stream }));
    await pass((buffer, host) => buffer.copyFromAsync(host, { stream }));
    if (run.graph && op.capturedGraphs !== 1) throw new Error(`the graph-safe op captured ${op.capturedGraphs} graphs for one set of buffers`);
    const result: Output = { indices: new Int32Array(o.rows * o.k) };
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
