// The public surface of nsa-topk.
export { topk, topkSync } from './topk';
export type { ScoresArray, IntArrayLike, TopKOptions, TopKResult } from './topk';
export { TopK } from './op';
export type { TopKOpOptions, TopKRunArgs } from './op';
export { DeviceBuffer, Stream } from './device';
export type { AsyncCopyOptions, BufferSize, CopyOptions, DeviceOptions, FillOptions, WrapOptions } from './device';
export { captureGraph, Graph } from './graph';
export { cudaStatus } from './cuda';
export type { CudaDeviceInfo, CudaStatus } from './cuda';
export { NsaTopkError, ErrorCodes } from './errors';
export type { ErrorCode } from './errors';
export { reloadOptions, resolveOptions, DEFAULTS, OPTION_SOURCES, BACKENDS, DTYPES, FUSES, TIE_BREAKS } from './options';
export type { BackendName, DType, FuseName, GlobalOptions, OptionSources, RadixPathName, ResolvedBackend, TieBreak } from './options';
