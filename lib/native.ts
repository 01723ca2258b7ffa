// The whole native surface, declared once. csrc/binding implements exactly this; everything
// richer (defaults, option checks, overloads, env resolution) lives in the TypeScript layer.

/** The numeric enums of csrc/common/problem.h and csrc/cuda/topk_cuda.h. */
export const enum NativeDType { F32 = 0, F16 = 1, BF16 = 2 }
export const enum NativeTieBreak { None = 0, Small = 1, Large = 2 }
export const enum NativeTransform { None = 0, Ragged = 1, PageTable = 2 }
export const enum NativeBackend { Cpu = 0, Radix = 1, Sort = 2 }
export const enum NativeRadixPath { Auto = 0, Block = 1, Cluster = 2, Batch = 3, Register = 4, Spread = 5, Chunked = 6 }
export const enum NativePathKernel { None = 0, Batch = 1, Radix = 2, Register = 3, Spread = 4, Chunked = 5 }

/** Fixed for the life of an op; unpacked into nsa::TopKConfig. */
export interface NativeConfig {
  k: number;
  dtype: NativeDType;
  tieBreak: NativeTieBreak;
  deterministic: boolean;
  sorted: boolean;
  transform: NativeTransform;
  pageSize: number;
  writeValues: boolean;
  graphSafe: boolean;
  /** CUDA: launch each call's first kernel with programmatic stream serialization. */
  pdl: boolean;
  maxRows: number;
  maxLen: number;
}

/** One CPU call on host typed arrays; unpacked into nsa::TopKArgs. Sizes are checked in TS. */
export interface NativeHostCall {
  config: NativeConfig;
  rows: number;
  stride: number;
  scores: Float32Array | Uint16Array;
  lengths?: Int32Array;
  rowStarts?: Int32Array;
  offsets?: Int32Array;
  pageTable?: Int32Array;
  pageTableStride?: number;
  rowToBatch?: Int32Array;
  pageTableStarts?: Int32Array;
  outIndices: Int32Array;
  outValues?: Float32Array | Uint16Array;
  threads: number;
  /** Use the std::nth_element baseline instead of the radix select (benchmarks only). */
  baseline?: boolean;
}

export interface NativeDeviceInfo {
  ordinal: number;
  name: string;
  computeCapability: string;
  multiProcessors: number;
  totalMemory: number;
  l2CacheBytes: number;
  maxSharedMemoryPerBlockOptin: number;
  clusterLaunch: boolean;
}

export interface NativeCudaStatus {
  /** The addon was built with CUDA. */
  compiled: boolean;
  /** At least one usable device. */
  usable: boolean;
  /** Why not usable (not compiled in, no device, driver too old), with the CUDA error name. */
  reason?: string;
  runtimeVersion?: number;
  driverVersion?: number;
  devices: NativeDeviceInfo[];
}

export interface NativeBuildInfo {
  napiVersion: number;
  cuda: boolean;
  cudaArchs: string;
  compiler: string;
  buildType: string;
}

export declare class NativeDeviceBuffer {
  /** Allocates `bytes` on device `device`. */
  constructor(bytes: number, device: number);
  /**
   * Wraps an external allocation; never freed by us. Refuses memory that is not device or managed
   * memory of `device` (-1: any device; the buffer takes the memory's).
   */
  static wrap(ptr: bigint, bytes: number, device: number): NativeDeviceBuffer;
  readonly ptr: bigint;
  readonly bytes: number;
  readonly device: number;
  readonly owned: boolean;
  readonly disposed: boolean;
  /** Host -> device at byteOffset. With a stream: enqueued, the host array must stay alive (the wrapper keeps it). */
  copyFromHost(src: ArrayBufferView, byteOffset: number, stream?: NativeStream): void;
  /** Device -> host from byteOffset. Without a stream: synchronous. */
  copyToHost(dst: ArrayBufferView, byteOffset: number, stream?: NativeStream): void;
  /** Fills with a repeated byte (cudaMemsetAsync), for poisoning outputs in tests. */
  fill(byte: number, stream?: NativeStream): void;
  dispose(): void;
}

export declare class NativeStream {
  /** Creates a non-blocking stream on `device`. */
  constructor(device: number);
  /**
   * Wraps an external cudaStream_t (0n is the legacy default stream); never destroyed by us.
   * Refuses a stream of another device than `device` (-1: any; the wrapper takes the stream's).
   */
  static wrap(handle: bigint, device: number): NativeStream;
  readonly handle: bigint;
  readonly device: number;
  readonly disposed: boolean;
  synchronize(): void;
  /** Resolves when all work enqueued so far is done; waits on a worker thread. */
  synchronizeAsync(): Promise<void>;
  /** True while this stream is being captured into a CUDA graph (by us or by other native code). */
  isCapturing(): boolean;
  dispose(): void;
}

export interface NativeRunArgs {
  rows: number;
  stride: number;
  scores: NativeDeviceBuffer;
  lengths?: NativeDeviceBuffer;
  rowStarts?: NativeDeviceBuffer;
  offsets?: NativeDeviceBuffer;
  pageTable?: NativeDeviceBuffer;
  pageTableStride?: number;
  pageTableRows?: number;
  rowToBatch?: NativeDeviceBuffer;
  pageTableStarts?: NativeDeviceBuffer;
  out: NativeDeviceBuffer;
  values?: NativeDeviceBuffer;
  stream: NativeStream;
}

export declare class NativeTopKOp {
  /** Allocates the op's workspace once, for its maxima. */
  constructor(config: NativeConfig, backend: NativeBackend, device: number, path: NativeRadixPath);
  readonly device: number;
  readonly workspaceBytes: number;
  readonly disposed: boolean;
  /** Enqueues on args.stream and returns at once. Safe under capture. */
  run(args: NativeRunArgs): void;
  /** Captures one run on args.stream into a graph (nothing runs), knowing where its kernels hold args' buffer addresses. */
  capture(args: NativeRunArgs): NativeGraph;
  /** Moves a graph that capture() made onto args' buffers (same shape); false, with nothing changed, where it cannot. */
  rebind(graph: NativeGraph, args: NativeRunArgs): boolean;
  dispose(): void;
}

export declare class NativeGraph {
  /** Captures everything `body` enqueues on `stream` (cudaStreamBeginCapture, thread-local mode). */
  static capture(stream: NativeStream, body: () => void): NativeGraph;
  readonly disposed: boolean;
  replay(stream: NativeStream): void;
  dispose(): void;
}

export declare class NativeEvent {
  /** A timing event on `device`. */
  constructor(device: number);
  record(stream: NativeStream): void;
  synchronize(): void;
  /** Whether the work recorded before this event has completed (cudaEventQuery). */
  query(): boolean;
  /** Milliseconds between `start` (recorded earlier) and this event; both must have completed. */
  elapsedSince(start: NativeEvent): number;
  dispose(): void;
}

export interface NativeAddon {
  /** Hands the JS error class to native code; called once per environment by the loader. */
  init(errorClass: new (message: string, code: string) => Error): void;
  errorCodes(): string[];
  buildInfo(): NativeBuildInfo;
  cudaStatus(): NativeCudaStatus;
  /** Tuning constants in force (name -> value); empty without CUDA. */
  tuning(): Record<string, number>;
  cpuTopk(call: NativeHostCall): void;
  cpuTopkAsync(call: NativeHostCall): Promise<void>;
  /** Present only when compiled with CUDA. */
  DeviceBuffer?: typeof NativeDeviceBuffer;
  Stream?: typeof NativeStream;
  TopKOp?: typeof NativeTopKOp;
  Graph?: typeof NativeGraph;
  Event?: typeof NativeEvent;
  /**
   * topkSync on a CUDA backend: device memory, upload, run and download, on the calling thread.
   * The call's config is its own maxima (maxRows = rows, maxLen = stride).
   */
  cudaTopk?(call: NativeHostCall, backend: NativeBackend, device: number): void;
  /** The same on a libuv worker: nothing of it runs on the calling thread. */
  cudaTopkAsync?(call: NativeHostCall, backend: NativeBackend, device: number): Promise<void>;
  /** Enqueues a plain read of the first `bytes` of `buffer` (the bandwidth reference for bench). */
  readProbe?(buffer: NativeDeviceBuffer, bytes: number, stream: NativeStream): void;
  /** Enqueues a GPU-side wait of `microseconds` on `stream` (bench: hides the host's enqueue time). */
  hold?(stream: NativeStream, microseconds: number): void;
  /**
   * What the path choice knows of device `ordinal`, queried once per device (the first query of a
   * device with clusters creates its context): choosePath's device argument, clustersAtOnce included.
   */
  deviceCaps?(ordinal: number): Required<NativeDeviceCaps>;
  /**
   * The kernel and CTA shape the radix backend's path choice (choose_path) picks for a shape on a
   * device described by `device`; no device is used (tests of the choice for every GPU class).
   */
  choosePath?(device: NativeDeviceCaps, shape: { rows: number; maxLen: number; k: number; sorted?: boolean }, path: NativeRadixPath): NativePathChoice;
  /**
   * The path a call of `rows` rows at `stride` takes on a radix op of `op` (its shape rows:
   * maxRows when graph-safe; its span: the shorter of maxLen and the stride); no device is used.
   */
  callPath?(device: NativeDeviceCaps, op: NativeOpShape, path: NativeRadixPath, rows: number, stride: number): NativePathChoice;
  /** What a radix op's workspace holds for the calls it may take; no device is used. */
  opRegions?(device: NativeDeviceCaps, op: NativeOpShape, path: NativeRadixPath): NativeOpRegions;
}

/** An op's shape as the path choice takes it. */
export interface NativeOpShape {
  maxRows: number;
  maxLen: number;
  k: number;
  sorted?: boolean;
  graphSafe?: boolean;
}

/** The regions of an op's workspace: every call's path must fit them. */
export interface NativeOpRegions {
  /** The most rows of a call on the spread path (0: none takes it). */
  spreadRows: number;
  /** The most chunks (rows x chunks per row) of a call on the chunked path (0: none takes it). */
  chunkSlots: number;
  /** Whether a call may split its rows by length (the op then holds a branch stream). */
  branches: boolean;
}

/** What the path choice reads of a device. */
export type NativeDeviceCaps = Pick<NativeDeviceInfo, 'computeCapability' | 'multiProcessors' | 'maxSharedMemoryPerBlockOptin' | 'clusterLaunch'> & {
  /**
   * The most clusters of 1, 2, 4, 8 and 16 CTAs, a CTA an SM, resident at once (a cluster runs
   * within one GPC); -1 or absent: not known, taken as the SMs over the size; 0: none fits.
   */
  clustersAtOnce?: number[];
};

export interface NativePathChoice {
  /** None: no kernel of this build fits the device. */
  kernel: NativePathKernel;
  /** Radix and Register: CTAs per row (a thread-block cluster when above 1); 1 otherwise. */
  ctasPerRow: number;
  /** Threads per CTA (the batch and register kernels have a policy per row count or k). */
  threads: number;
  /** Radix: the shared-memory shape of RadixParams (chunkCap 0: the CTAs stream their chunks). */
  regionWords: number;
  chunkCap: number;
  candCap: number;
  /** Shared memory per CTA, static and dynamic. */
  smemBytes: number;
  /**
   * Spread: rows of at most this many scores on the device take the radix kernel an op of this
   * maxLen would, beside the spread kernels, in calls that give lengths or row starts (the length
   * split); 0 when the spread kernels take every row.
   */
  splitLength: number;
  /** Chunked: chunks per row, each a row of the batch kernel (threads: its policy); 0 otherwise. */
  chunks: number;
}
