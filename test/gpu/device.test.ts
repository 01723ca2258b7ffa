// DeviceBuffer and Stream: allocation, copies both ways (sync and async), wrapping, fill, and
// disposal (idempotent; any use afterwards throws ERR_NSA_TOPK_DISPOSED); deviceCaps, the path
// choice's view of a device.
import { DeviceBuffer, NsaTopkError, Stream, TopK } from '../../lib';
import { cudaStatus } from '../../lib/cuda';
import { loadNative } from '../../lib/loader';
import { describeGpu } from '../helpers/gpu';

function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try { fn(); } catch (err) { caught = err; }
  expect(caught).toBeInstanceOf(NsaTopkError);
  expect((caught as NsaTopkError).code).toBe(code);
}

describeGpu('DeviceBuffer', () => {
  test('alloc by bytes and by dtype/length', () => {
    const bufs = [
      [DeviceBuffer.alloc(1000), 1000],
      [DeviceBuffer.alloc({ dtype: 'f32', length: 10 }), 40],
      [DeviceBuffer.alloc({ dtype: 'f16', length: 10 }), 20],
      [DeviceBuffer.alloc({ dtype: 'bf16', length: 10 }), 20],
      [DeviceBuffer.alloc({ dtype: 'i32', length: 10 }), 40],
    ] as const;
    for (const [buf, bytes] of bufs) {
      expect(buf.bytes).toBe(bytes);
      expect(typeof buf.ptr).toBe('bigint');
      expect(buf.ptr).not.toBe(0n);
      expect(buf.device).toBe(0);
      expect(buf.disposed).toBe(false);
      buf.dispose();
    }
  });

  test('from + copyTo round-trips, with byte offsets', () => {
    const host = Float32Array.from({ length: 256 }, (_, i) => i * 0.5 - 7);
    const buf = DeviceBuffer.from(host);
    expect(buf.bytes).toBe(1024);
    const back = new Float32Array(256);
    buf.copyTo(back);
    expect(back).toEqual(host);
    buf.copyFrom(Int32Array.from([1, 2, 3]), { byteOffset: 8 });
    const part = new Int32Array(4);
    buf.copyTo(part, { byteOffset: 4 });
    expect(Array.from(part.subarray(1))).toEqual([1, 2, 3]);
    buf.dispose();
  });

  test('async copies on a stream, and fill', async () => {
    const stream = new Stream();
    const buf = DeviceBuffer.alloc({ dtype: 'i32', length: 1 << 20 });
    buf.fill(0xff, { stream });
    const host = Int32Array.from({ length: 1 << 20 }, (_, i) => i);
    await buf.copyFromAsync(host, { stream });
    const back = new Int32Array(1 << 20);
    await buf.copyToAsync(back, { stream });
    expect(back).toEqual(host);
    buf.fill(0xff, { stream });
    stream.synchronize();
    buf.copyTo(back);
    expect(back.every((x) => x === -1)).toBe(true);
    buf.dispose();
    stream.dispose();
  });

  test('a synchronous copyFrom is complete before work on another stream reads it', async () => {
    // Pageable host -> device cudaMemcpy may return before its DMA lands, and the legacy stream
    // does not order against non-blocking streams; a kernel enqueued right after must still see
    // the new bytes. A large copy on a third stream keeps the copy engine busy to widen the gap.
    const rows = 64;
    const stride = 4096;
    const k = 16;
    const scores = Float32Array.from({ length: rows * stride }, (_, i) => i % stride);
    const stream = new Stream();
    const busy = new Stream();
    const op = new TopK({ k, maxRows: rows, maxLen: stride, tieBreak: 'small', sorted: true });
    const dScores = DeviceBuffer.from(scores);
    const out = DeviceBuffer.alloc({ dtype: 'i32', length: rows * k });
    const big = new Uint8Array(64 << 20);
    const dBig = DeviceBuffer.alloc(big.byteLength);
    const got = new Int32Array(rows * k);
    const wrong: number[] = [];
    for (let round = 0; round < 100; round++) {
      const pending = dBig.copyFromAsync(big, { stream: busy });
      const length = 100 + (round % 50);
      const dLengths = DeviceBuffer.from(new Int32Array(rows).fill(length));
      op.run({ scores: dScores, rows, stride, lengths: dLengths, out, stream });
      stream.synchronize();
      out.copyTo(got);
      if (got[0] !== length - 1 || got[(rows - 1) * k] !== length - 1) wrong.push(round);
      dLengths.dispose();
      await pending;
    }
    expect(wrong).toEqual([]);
    for (const x of [op, dScores, out, dBig, stream, busy]) x.dispose();
  });

  test('wrap does not own: disposing the wrapper leaves the memory usable', () => {
    const owner = DeviceBuffer.from(Uint16Array.from([1, 2, 3, 4]));
    const view = DeviceBuffer.wrap(owner.ptr, owner.bytes);
    expect(view.ptr).toBe(owner.ptr);
    view.copyFrom(Uint16Array.from([9]), { byteOffset: 2 });
    view.dispose();
    const back = new Uint16Array(4);
    owner.copyTo(back);
    expect(Array.from(back)).toEqual([1, 9, 3, 4]);
    owner.dispose();
  });

  test('copies past the end are refused', () => {
    const buf = DeviceBuffer.alloc(16);
    expectCode(() => buf.copyFrom(new Uint8Array(17)), 'ERR_NSA_TOPK_INVALID_ARGUMENT');
    expectCode(() => buf.copyTo(new Uint8Array(8), { byteOffset: 12 }), 'ERR_NSA_TOPK_INVALID_ARGUMENT');
    buf.dispose();
  });

  test('dispose twice is fine; any use after dispose throws ERR_NSA_TOPK_DISPOSED', async () => {
    const stream = new Stream();
    const buf = DeviceBuffer.alloc(64);
    buf.dispose();
    buf.dispose();
    expect(buf.disposed).toBe(true);
    expectCode(() => buf.copyFrom(new Uint8Array(4)), 'ERR_NSA_TOPK_DISPOSED');
    expectCode(() => buf.copyTo(new Uint8Array(4)), 'ERR_NSA_TOPK_DISPOSED');
    expectCode(() => buf.fill(0), 'ERR_NSA_TOPK_DISPOSED');
    await expect((async () => buf.copyToAsync(new Uint8Array(4), { stream }))()).rejects.toMatchObject({ code: 'ERR_NSA_TOPK_DISPOSED' });
    stream.dispose();
  });
});

describeGpu('Stream', () => {
  test('create, synchronize, synchronizeAsync, dispose', async () => {
    const stream = new Stream();
    expect(typeof stream.handle).toBe('bigint');
    expect(stream.device).toBe(0);
    stream.synchronize();
    await stream.synchronizeAsync();
    stream.dispose();
    stream.dispose();
    expectCode(() => stream.synchronize(), 'ERR_NSA_TOPK_DISPOSED');
  });

  test('wrap the legacy default stream (0n) and use it for copies', () => {
    const stream = Stream.wrap(0n);
    expect(stream.handle).toBe(0n);
    const buf = DeviceBuffer.alloc(8);
    buf.fill(0x11, { stream });
    stream.synchronize();
    const back = new Uint8Array(8);
    buf.copyTo(back);
    expect(Array.from(back)).toEqual(new Array(8).fill(0x11));
    buf.dispose();
    stream.dispose();
  });
});

describeGpu('deviceCaps', () => {
  test("the path choice's view of a device: cudaStatus's fields and the clusters it runs at once", () => {
    const native = loadNative();
    const d = cudaStatus().devices[0];
    const caps = native.deviceCaps!(0);
    expect(caps).toMatchObject({
      computeCapability: d.computeCapability, multiProcessors: d.multiProcessors,
      maxSharedMemoryPerBlockOptin: d.maxSharedMemoryPerBlockOptin, clusterLaunch: d.clusterLaunch,
    });
    expect(caps.clustersAtOnce).toHaveLength(5);
    caps.clustersAtOnce.forEach((n, i) => expect([i, n * (1 << i) <= d.multiProcessors]).toEqual([i, true]));
    if (d.clusterLaunch) {
      expect(caps.clustersAtOnce[0]).toBe(d.multiProcessors);  // a CTA an SM
      expect(caps.clustersAtOnce[3]).toBeGreaterThan(0);       // the portable cluster size, 8
    }
    // The same device queried again is the same (once per device), and a choice on it runs.
    expect(native.deviceCaps!(0)).toEqual(caps);
    expect(native.choosePath!(caps, { rows: 16, maxLen: 131072, k: 2048 }, 0).kernel).toBeGreaterThan(0);
    expect(() => native.deviceCaps!(cudaStatus().devices.length)).toThrow(/ordinal/);
  });
});
