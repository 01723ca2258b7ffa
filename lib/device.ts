// DeviceBuffer and Stream: thin wrappers over the native classes that check arguments first and
// keep host arrays alive while an asynchronous copy may still read or write them, and the owners
// of wrapped memory and streams alive while the wrappers are in use.
import type { NativeDeviceBuffer, NativeStream } from './native';
import { checkDevice, requireCuda } from './cuda';
import { ErrorCodes, NsaTopkError, invalidArgument } from './errors';
import { DType, DTYPES, dtypeBytes } from './options';
import { checkInt, checkKeys, checkObject, checkOneOf, optionalInt } from './validate';

/** Where a new buffer or stream lives: default device 0. */
export interface DeviceOptions { device?: number }

/**
 * What wrap() adopts: `device`, when given, must be where the memory or stream is (default: where
 * it is); `owner` (a tensor, a framework's allocation handle) is kept alive by the wrapper until
 * the wrapper is disposed or collected.
 */
export interface WrapOptions extends DeviceOptions { owner?: object }

/** The checked device of `opts`: `fallback` when none is given. */
function deviceOf(opts: unknown, name: string, keys: readonly string[] = ['device'], fallback = 0): number {
  if (opts === undefined) return fallback;
  const o = checkObject(name, opts);
  checkKeys(name, o, keys);
  return o.device === undefined ? fallback : checkDevice(`${name}.device`, checkInt(`${name}.device`, o.device, 0));
}

/** wrap()'s options: the device (-1: wherever the memory or stream is) and the owner, if any. */
function wrapOptions(opts: unknown): { device: number; owner?: object } {
  const device = deviceOf(opts, 'opts', ['device', 'owner'], -1);
  const owner = (opts as WrapOptions | undefined)?.owner;
  if (owner !== undefined && (typeof owner !== 'object' || owner === null) && typeof owner !== 'function') {
    throw invalidArgument('opts.owner', 'an object to keep alive', owner);
  }
  return { device, owner };
}

/** The owners of wrapped memory and streams, held for as long as their wrappers are live. */
const owners = new WeakMap<object, object>();

function checkHost(name: string, host: unknown): ArrayBufferView {
  if (!ArrayBuffer.isView(host)) throw invalidArgument(name, 'a typed array or DataView', host);
  return host;
}

function disposedError(what: string): NsaTopkError {
  return new NsaTopkError(`${what} was disposed`, ErrorCodes.Disposed);
}

const streams = new WeakMap<Stream, NativeStream>();
const buffers = new WeakMap<DeviceBuffer, NativeDeviceBuffer>();

/** The native stream behind `value`, refusing anything else and disposed streams, naming `name`. */
export function nativeStream(name: string, value: unknown): NativeStream {
  const native = value instanceof Stream ? streams.get(value) : undefined;
  if (!native) throw invalidArgument(name, 'a Stream', value);
  if (native.disposed) throw disposedError(`The Stream given as ${name}`);
  return native;
}

/** The native buffer behind `value`, refusing anything else and disposed buffers, naming `name`. */
export function nativeBuffer(name: string, value: unknown): NativeDeviceBuffer {
  const native = value instanceof DeviceBuffer ? buffers.get(value) : undefined;
  if (!native) throw invalidArgument(name, 'a DeviceBuffer', value);
  if (native.disposed) throw disposedError(`The DeviceBuffer given as ${name}`);
  return native;
}

export class Stream {
  /** A new non-blocking stream on opts.device (default 0). */
  constructor(opts?: DeviceOptions) {
    const Native = requireCuda('Stream', 'Stream');
    streams.set(this, new Native(deviceOf(opts, 'opts')));
  }

  /**
   * Wraps a live external cudaStream_t (0n: the legacy default stream); never destroyed by us.
   * The stream's device is asked of CUDA: opts.device, when given, must be it.
   */
  static wrap(handle: bigint, opts?: WrapOptions): Stream {
    if (typeof handle !== 'bigint') throw invalidArgument('handle', 'a bigint', handle);
    const Native = requireCuda('Stream', 'Stream.wrap');
    const { device, owner } = wrapOptions(opts);
    const stream = Object.create(Stream.prototype) as Stream;
    streams.set(stream, Native.wrap(handle, device));
    if (owner !== undefined) owners.set(stream, owner);
    return stream;
  }

  private get native(): NativeStream {
    return nativeStream('this', this);
  }

  get handle(): bigint { return this.native.handle; }
  get device(): number { return streams.get(this)!.device; }
  get disposed(): boolean { return streams.get(this)!.disposed; }

  synchronize(): void { this.native.synchronize(); }

  async synchronizeAsync(): Promise<void> {
    await this.native.synchronizeAsync();
  }

  /** True while this stream is being captured into a CUDA graph. */
  isCapturing(): boolean { return this.native.isCapturing(); }

  /** Idempotent; lets a wrapped stream's owner go. */
  dispose(): void {
    streams.get(this)!.dispose();
    owners.delete(this);
  }

  /** `using stream = new Stream()` disposes it at the end of the scope. */
  [Symbol.dispose](): void { this.dispose(); }
}

/** A buffer size: bytes, or a length of elements of a dtype. */
export type BufferSize = number | { dtype: DType | 'i32'; length: number };

function bytesOf(size: unknown): number {
  if (typeof size === 'number') return checkInt('size', size, 0);
  const o = checkObject('size', size);
  checkKeys('size', o, ['dtype', 'length']);
  const dtype = checkOneOf('size.dtype', o.dtype, [...DTYPES, 'i32'] as const);
  return dtypeBytes(dtype) * checkInt('size.length', o.length, 0);
}

export interface CopyOptions { byteOffset?: number }
export interface AsyncCopyOptions extends CopyOptions { stream: Stream }
export interface FillOptions { stream?: Stream }

export class DeviceBuffer {
  private constructor(native: NativeDeviceBuffer) {
    buffers.set(this, native);
  }

  static alloc(size: BufferSize, opts?: DeviceOptions): DeviceBuffer {
    const bytes = bytesOf(size);
    const Native = requireCuda('DeviceBuffer', 'DeviceBuffer.alloc');
    return new DeviceBuffer(new Native(bytes, deviceOf(opts, 'opts')));
  }

  /** Allocates and copies `host` in (synchronously). */
  static from(host: ArrayBufferView, opts?: DeviceOptions): DeviceBuffer {
    checkHost('host', host);
    const buffer = DeviceBuffer.alloc(host.byteLength, opts);
    try {
      buffer.copyFrom(host);
    } catch (err) {
      buffer.dispose();
      throw err;
    }
    return buffer;
  }

  /**
   * Wraps `bytes` of an external allocation at `ptr`; never freed by us. CUDA is asked where the
   * memory is: host memory, unknown addresses and a range whose last byte lies elsewhere are
   * refused, and opts.device, when given, must be the memory's device.
   */
  static wrap(ptr: bigint, bytes: number, opts?: WrapOptions): DeviceBuffer {
    if (typeof ptr !== 'bigint') throw invalidArgument('ptr', 'a bigint', ptr);
    checkInt('bytes', bytes, 0);
    const Native = requireCuda('DeviceBuffer', 'DeviceBuffer.wrap');
    const { device, owner } = wrapOptions(opts);
    const buffer = new DeviceBuffer(Native.wrap(ptr, bytes, device));
    if (owner !== undefined) owners.set(buffer, owner);
    return buffer;
  }

  private get native(): NativeDeviceBuffer {
    return nativeBuffer('this', this);
  }

  get ptr(): bigint { return this.native.ptr; }
  get bytes(): number { return buffers.get(this)!.bytes; }
  get device(): number { return buffers.get(this)!.device; }
  get disposed(): boolean { return buffers.get(this)!.disposed; }

  /** Checks a host range copy against this buffer; returns the native buffer and byte offset. */
  private range(host: unknown, opts: unknown, keys: readonly string[]): { native: NativeDeviceBuffer; host: ArrayBufferView; byteOffset: number; o: Record<string, unknown> } {
    checkHost('host', host);
    const o = opts === undefined ? {} : checkObject('opts', opts);
    checkKeys('opts', o, keys);
    const byteOffset = optionalInt('opts.byteOffset', o.byteOffset, 0, 0);
    const native = this.native;
    const view = host as ArrayBufferView;
    if (byteOffset + view.byteLength > native.bytes) {
      throw invalidArgument('host', `at most ${native.bytes - byteOffset} bytes (buffer of ${native.bytes} bytes, byteOffset ${byteOffset})`, host);
    }
    return { native, host: view, byteOffset, o };
  }

  copyFrom(host: ArrayBufferView, opts?: CopyOptions): void {
    const r = this.range(host, opts, ['byteOffset']);
    r.native.copyFromHost(r.host, r.byteOffset);
  }

  copyTo(host: ArrayBufferView, opts?: CopyOptions): void {
    const r = this.range(host, opts, ['byteOffset']);
    r.native.copyToHost(r.host, r.byteOffset);
  }

  /**
   * Enqueues host -> device on opts.stream; resolves once the stream has done it. Staged through
   * pinned memory, so the calling thread never waits for the stream (docs/api.md).
   */
  copyFromAsync(host: ArrayBufferView, opts: AsyncCopyOptions): Promise<void> {
    return this.enqueue(host, opts, (n, h, off, s) => n.copyFromHost(h, off, s));
  }

  /** Enqueues device -> host on opts.stream (staged, like copyFromAsync); resolves once `host` holds the data. */
  copyToAsync(host: ArrayBufferView, opts: AsyncCopyOptions): Promise<void> {
    return this.enqueue(host, opts, (n, h, off, s) => n.copyToHost(h, off, s));
  }

  private async enqueue(host: unknown, opts: unknown, copy: (n: NativeDeviceBuffer, h: ArrayBufferView, off: number, s: NativeStream) => void): Promise<void> {
    const r = this.range(host, opts ?? {}, ['byteOffset', 'stream']);
    const stream = nativeStream('opts.stream', r.o.stream);
    copy(r.native, r.host, r.byteOffset, stream);
    // `r.host` stays referenced by this frame until the copy is done, so GC cannot free it early.
    await stream.synchronizeAsync();
    void r.host;
  }

  fill(byte: number, opts?: FillOptions): void {
    checkInt('byte', byte, 0, 255);
    const o = opts === undefined ? {} : checkObject('opts', opts);
    checkKeys('opts', o, ['stream']);
    const stream = o.stream === undefined ? undefined : nativeStream('opts.stream', o.stream);
    this.native.fill(byte, stream);
  }

  /** Idempotent; a finalizer frees a forgotten buffer. Lets a wrapped buffer's owner go. */
  dispose(): void {
    buffers.get(this)!.dispose();
    owners.delete(this);
  }

  /** `using buffer = DeviceBuffer.alloc(...)` disposes it at the end of the scope. */
  [Symbol.dispose](): void { this.dispose(); }
}
