// Every disposable public class has [Symbol.dispose], so `using` disposes it at the end of a
// scope. Graph and DeviceBuffer are checked end to end over stand-in native objects (no GPU).
import { DeviceBuffer, Graph, Stream, TopK } from '../lib';
import type { NativeDeviceBuffer, NativeGraph } from '../lib/native';

// Compile-time: each class is a Disposable (ts-jest fails this suite otherwise).
type AllDisposable = [DeviceBuffer, Stream, TopK, Graph] extends Disposable[] ? true : never;
const allDisposable: AllDisposable = true;

class FakeNative {
  disposals = 0;
  dispose(): void { this.disposals++; }
}

test.each([['DeviceBuffer', DeviceBuffer], ['Stream', Stream], ['TopK', TopK], ['Graph', Graph]] as const)(
  '%s.prototype[Symbol.dispose] is a method',
  (_name, cls) => {
    expect(allDisposable).toBe(true);
    expect(typeof cls.prototype[Symbol.dispose]).toBe('function');
  },
);

test('`using` disposes a Graph at the end of its scope, once', () => {
  const native = new FakeNative();
  {
    using graph = Graph.fromNative(native as unknown as NativeGraph);
    expect(graph).toBeInstanceOf(Graph);
    expect(native.disposals).toBe(0);
  }
  expect(native.disposals).toBe(1);
});

test('`using` disposes a DeviceBuffer when its scope ends by a throw', () => {
  const native = new FakeNative();
  // The private constructor adopts a native buffer (alloc, from and wrap make the real ones).
  const Adopt = DeviceBuffer as unknown as new (n: NativeDeviceBuffer) => DeviceBuffer;
  expect(() => {
    using buffer = new Adopt(native as unknown as NativeDeviceBuffer);
    void buffer;
    throw new Error('scope left early');
  }).toThrow('scope left early');
  expect(native.disposals).toBe(1);
});
