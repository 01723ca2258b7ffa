// The one plain config native code receives (nsa::TopKConfig), built from options that topk() and
// TopK have checked, and the numbers of every enum that crosses the boundary. The numbers must
// equal csrc/common/problem.h and csrc/cuda/topk_cuda.h: test/boundary.test.ts compares them.
import {
  NativeBackend, NativeConfig, NativeDType, NativeRadixPath, NativeTieBreak, NativeTransform,
} from './native';
import { DType, FuseName, GlobalOptions, RadixPathName, ResolvedBackend, TieBreak } from './options';
import { INT32_MAX, optionalBool, optionalInt } from './validate';

export const NATIVE_DTYPE: Record<DType, NativeDType> = { f32: NativeDType.F32, f16: NativeDType.F16, bf16: NativeDType.BF16 };
export const NATIVE_TIE_BREAK: Record<TieBreak, NativeTieBreak> = { none: NativeTieBreak.None, small: NativeTieBreak.Small, large: NativeTieBreak.Large };
export const NATIVE_TRANSFORM: Record<FuseName, NativeTransform> = { none: NativeTransform.None, ragged: NativeTransform.Ragged, 'page-table': NativeTransform.PageTable };
export const NATIVE_BACKEND: Record<ResolvedBackend, NativeBackend> = { cpu: NativeBackend.Cpu, radix: NativeBackend.Radix, sort: NativeBackend.Sort };
export const NATIVE_PATH: Record<RadixPathName, NativeRadixPath> = { auto: NativeRadixPath.Auto, block: NativeRadixPath.Block, cluster: NativeRadixPath.Cluster, batch: NativeRadixPath.Batch, register: NativeRadixPath.Register, spread: NativeRadixPath.Spread, chunked: NativeRadixPath.Chunked };

/** The native config from the options topk() and TopK share: the one place they are unpacked. */
export function nativeConfig(
  o: { sorted?: unknown; pageSize?: unknown; values?: unknown; pdl?: unknown },
  fixed: {
    k: number; dtype: DType; global: Pick<GlobalOptions, 'tieBreak' | 'deterministic' | 'fuse'>;
    graphSafe: boolean; maxRows: number; maxLen: number;
  },
): NativeConfig {
  return {
    k: fixed.k,
    dtype: NATIVE_DTYPE[fixed.dtype],
    tieBreak: NATIVE_TIE_BREAK[fixed.global.tieBreak],
    deterministic: fixed.global.deterministic,
    sorted: optionalBool('sorted', o.sorted, false),
    transform: NATIVE_TRANSFORM[fixed.global.fuse],
    pageSize: optionalInt('pageSize', o.pageSize, 1, 1, INT32_MAX),
    writeValues: optionalBool('values', o.values, false),
    graphSafe: fixed.graphSafe,
    pdl: optionalBool('pdl', o.pdl, false),
    maxRows: fixed.maxRows,
    maxLen: fixed.maxLen,
  };
}
