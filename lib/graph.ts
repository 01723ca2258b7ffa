// CUDA graphs: capture what a body enqueues on a stream once, replay it with new device contents.
// The op must be built with graphSafe: true for replays to track changed lengths and row starts.
// GraphCache is the bounded LRU a graph-safe TopK keeps its own captures in; it knows nothing of
// CUDA, so its policy is tested on the CPU.
import type { NativeGraph } from './native';
import { requireCuda } from './cuda';
import { Stream, nativeStream } from './device';
import { ErrorCodes, NsaTopkError, invalidArgument } from './errors';

/**
 * A captured, instantiated CUDA graph. It records raw device addresses only: it does not keep the
 * buffers it was captured with alive. Replaying after one of them was disposed (or freed by its
 * owner) reads and writes freed memory; dispose the graph first.
 */
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

  /** Idempotent. A replay still running on the GPU completes; its resources are freed after. */
  dispose(): void { this.native.dispose(); }

  /** `using graph = captureGraph(...)` disposes it at the end of the scope. */
  [Symbol.dispose](): void { this.dispose(); }
}

/**
 * Captures everything `body` enqueues on `stream` into a graph, without running it; call
 * `replay(stream)` to run it, as often as needed. `body` runs synchronously; a throw inside it ends
 * the capture and is rethrown.
 *
 * Graph-safe `TopK` ops called inside `body` on `stream` see that the stream is capturing and only
 * enqueue into this capture (they do not capture graphs of their own). Ops built without
 * graphSafe are captured too, but their replays keep the grid chosen at capture time.
 *
 * The graph does not keep the buffers used inside `body` alive: keep them (and their addresses)
 * for as long as the graph is replayed, and dispose the graph when done.
 */
export function captureGraph(stream: Stream, body: () => void): Graph {
  const native = nativeStream('stream', stream);
  if (typeof body !== 'function') throw invalidArgument('body', 'a function', body);
  return Graph.fromNative(requireCuda('Graph', 'captureGraph').capture(native, body));
}

/**
 * A bounded least-recently-used map from call keys to disposable graphs. Inserting beyond
 * `capacity` disposes the least recently used entry; `clear()` disposes them all.
 */
export class GraphCache<G extends { dispose(): void }> {
  private readonly entries = new Map<string, G>();
  /** The most recently used key: a repeated call skips the LRU reordering. */
  private newest: string | undefined;
  private inserted = 0;

  constructor(readonly capacity: number) {}

  /** Graphs held now. */
  get size(): number { return this.entries.size; }

  /** Graphs ever inserted (each one a capture), evicted or not. */
  get insertions(): number { return this.inserted; }

  /** The graph for `key`, marked most recently used, or undefined. */
  get(key: string): G | undefined {
    const graph = this.entries.get(key);
    if (graph !== undefined && key !== this.newest) {
      // A Map iterates in insertion order: re-inserting moves the key to the young end.
      this.entries.delete(key);
      this.entries.set(key, graph);
      this.newest = key;
    }
    return graph;
  }

  /**
   * Inserts a graph for `key` as the most recently used, disposing the one it replaces (if any),
   * and evicting (and disposing) the oldest when full.
   */
  set(key: string, graph: G): void {
    const replaced = this.entries.get(key);
    // Held before evicting, so a failing dispose of the evicted one cannot leak the new one.
    this.entries.delete(key);
    this.entries.set(key, graph);
    this.newest = key;
    this.inserted++;
    try {
      replaced?.dispose();
    } finally {
      while (this.entries.size > this.capacity) {
        const [oldest, evicted] = this.entries.entries().next().value as [string, G];
        this.entries.delete(oldest);
        evicted.dispose();
      }
    }
  }

  /** Disposes every graph held; the first dispose error is rethrown after all were tried. */
  clear(): void {
    const graphs = [...this.entries.values()];
    this.entries.clear();
    this.newest = undefined;
    let first: unknown;
    for (const graph of graphs) {
      try {
        graph.dispose();
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  }
}
