// DeviceBuffer.wrap and Stream.wrap as interop with another framework's memory and streams: CUDA is
// asked where a pointer or stream lives, host memory, unknown addresses, ranges past an allocation
// and other devices are refused with their codes, and an owner is kept alive by the wrapper.
import * as v8 from 'v8';
import * as vm from 'vm';
import { DeviceBuffer, ErrorCodes, NsaTopkError, Stream, TopK, cudaStatus } from '../../lib';
import { describeGpu } from '../helpers/gpu';

function expectCode(fn: () => unknown, code: string, names?: RegExp): void {
  let caught: unknown;
  try {
    (fn() as { dispose?(): void } | undefined)?.dispose?.();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(NsaTopkError);
  expect((caught as NsaTopkError).code).toBe(code);
  if (names) expect((caught as NsaTopkError).message).toMatch(names);
}

/** A garbage collection on demand (jest does not start node with --expose-gc). */
function gcFunction(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

describeGpu('DeviceBuffer.wrap', () => {
  test('takes the device of the memory, or checks the one given', () => {
    const owner = DeviceBuffer.from(Int32Array.from([1, 2, 3, 4]));
    for (const view of [DeviceBuffer.wrap(owner.ptr, owner.bytes), DeviceBuffer.wrap(owner.ptr, owner.bytes, { device: 0 })]) {
      expect(view.device).toBe(0);
      const back = new Int32Array(4);
      view.copyTo(back);
      expect(Array.from(back)).toEqual([1, 2, 3, 4]);
      view.dispose();
    }
    // A range inside the allocation: the way a caching allocator's blocks are wrapped.
    const inner = DeviceBuffer.wrap(owner.ptr + 4n, 8);
    inner.copyFrom(Int32Array.from([7, 8]));
    const back = new Int32Array(4);
    owner.copyTo(back);
    expect(Array.from(back)).toEqual([1, 7, 8, 4]);
    inner.dispose();
    owner.dispose();
  });

  test('refuses addresses CUDA knows no device memory at, and ranges past the allocation', () => {
    const owner = DeviceBuffer.alloc(1 << 20);
    for (const ptr of [4096n, 0xdead0000n, 1n << 47n]) {
      expectCode(() => DeviceBuffer.wrap(ptr, 16), ErrorCodes.NotDeviceMemory, /for ptr but received 0x/);
    }
    expectCode(() => DeviceBuffer.wrap(owner.ptr, 2 ** 40), ErrorCodes.InvalidArgument, /Expected bytes to stay within the memory at ptr but received/);
    // Freed memory is no device memory any more.
    const freed = DeviceBuffer.alloc(64 << 20);
    const ptr = freed.ptr;
    freed.dispose();
    expectCode(() => DeviceBuffer.wrap(ptr + BigInt(32 << 20), 16), ErrorCodes.NotDeviceMemory);
    // Empty ranges read nothing: a null pointer is taken (an empty tensor's).
    const empty = DeviceBuffer.wrap(0n, 0);
    expect(empty.bytes).toBe(0);
    empty.dispose();
    owner.dispose();
  });

  test('opts.owner must be an object', () => {
    const owner = DeviceBuffer.alloc(64);
    for (const bad of [5, 'tensor', true, null, 1n]) {
      expectCode(() => DeviceBuffer.wrap(owner.ptr, 64, { owner: bad as never }), ErrorCodes.InvalidArgument, /for opts\.owner but received/);
      expectCode(() => Stream.wrap(0n, { owner: bad as never }), ErrorCodes.InvalidArgument, /for opts\.owner but received/);
    }
    owner.dispose();
  });

  test('keeps its owner alive until disposed', async () => {
    const gc = gcFunction();
    const memory = DeviceBuffer.alloc(64);
    const collect = async () => {
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    // Made in a function of its own, so no local of this frame holds the owners.
    const make = () => {
      const bufferOwner = { tensor: 'a' };
      const streamOwner = { stream: 'b' };
      return {
        buffer: DeviceBuffer.wrap(memory.ptr, 64, { owner: bufferOwner }),
        stream: Stream.wrap(0n, { owner: streamOwner }),
        refs: [new WeakRef(bufferOwner), new WeakRef(streamOwner)],
      };
    };
    const { buffer, stream, refs } = make();
    await collect();
    expect(refs.map((r) => r.deref() !== undefined)).toEqual([true, true]);
    buffer.dispose();
    stream.dispose();
    await collect();
    expect(refs.map((r) => r.deref() === undefined)).toEqual([true, true]);
    memory.dispose();
  });
});

describeGpu('Stream.wrap', () => {
  test('takes the device of the stream, and runs an op on it', async () => {
    const own = new Stream();
    const wrapped = Stream.wrap(own.handle);
    expect(wrapped.device).toBe(0);
    const checked = Stream.wrap(own.handle, { device: 0 });
    expect(checked.device).toBe(0);
    checked.dispose();
    const op = new TopK({ k: 2, maxRows: 1, maxLen: 8, tieBreak: 'small', sorted: true });
    const scores = DeviceBuffer.from(Float32Array.from([0, 5, 1, 7, 2, 3, 4, 6]));
    const out = DeviceBuffer.alloc({ dtype: 'i32', length: 2 });
    await op.runAsync({ scores, rows: 1, stride: 8, out, stream: wrapped });
    const got = new Int32Array(2);
    out.copyTo(got);
    expect(Array.from(got)).toEqual([3, 7]);
    wrapped.dispose();
    expect(own.disposed).toBe(false);  // not owned: the stream itself lives on
    for (const x of [op, scores, out, own]) x.dispose();
  });
});

// Needs two devices: memory and streams of device 1 wrapped as device 0's.
const twoDevices = (() => {
  try {
    return cudaStatus().devices.length >= 2;
  } catch {
    return false;
  }
})();
describeGpu('wrap on two devices', () => {
  (twoDevices ? test : test.skip)('memory and streams of another device are refused as such', () => {
    const memory = DeviceBuffer.alloc(256, { device: 1 });
    const stream = new Stream({ device: 1 });
    expectCode(() => DeviceBuffer.wrap(memory.ptr, 256, { device: 0 }), ErrorCodes.DeviceMismatch, /device 0.*device 1/);
    expectCode(() => Stream.wrap(stream.handle, { device: 0 }), ErrorCodes.DeviceMismatch, /device 0.*device 1/);
    const view = DeviceBuffer.wrap(memory.ptr, 256);
    const wrapped = Stream.wrap(stream.handle);
    expect([view.device, wrapped.device]).toEqual([1, 1]);
    for (const x of [view, wrapped, memory, stream]) x.dispose();
  });
});
