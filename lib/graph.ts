// CUDA graphs: capture what a body enqueues on a stream once, replay it with new device contents.
// The op must be built with graphSafe: true for replays to track changed lengths and row starts.
import type { NativeGraph } from './native';
import { requireCuda } from './cuda';
import { Stream, nativeStream } from './device';
import { ErrorCodes, NsaTopkError, invalidArgument } from './errors';

export class Graph {
  private constructor(private readonly native: NativeGraph) {}

  /** @internal Used by captureGraph only. */
  static fromNative(native: NativeGraph): Graph {
    return new Graph(native);
  }

  get disposed(): boolean { return this.native.disposed; }

  /** Enqueues one replay on `stream`. The buffers used at capture must still be alive. */
  replay(stream: Stream): void {
    if (this.native.disposed) throw new NsaTopkError('This Graph was disposed', ErrorCodes.Disposed);
    this.native.replay(nativeStream('stream', stream));
  }

  /** Idempotent. */
  dispose(): void { this.native.dispose(); }
}

/**
 * Captures everything `body` enqueues on `stream` into a graph. `body` runs synchronously; a
 * throw inside it ends the capture and is rethrown.
 */
export function captureGraph(stream: Stream, body: () => void): Graph {
  const native = nativeStream('stream', stream);
  if (typeof body !== 'function') throw invalidArgument('body', 'a function', body);
  const Native = requireCuda('Graph', 'captureGraph');
  return Graph.fromNative(Native.capture(native, body));
}
