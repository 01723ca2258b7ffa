// The LRU policy of the graph cache a graph-safe TopK keeps, on stand-in graphs (no GPU needed).
import { GraphCache } from '../lib/graph';

class FakeGraph {
  disposed = 0;
  constructor(readonly name: string, private readonly failDispose = false) {}
  dispose(): void {
    this.disposed++;
    if (this.failDispose) throw new Error(`dispose ${this.name} failed`);
  }
}

function fill(cache: GraphCache<FakeGraph>, names: string[]): Record<string, FakeGraph> {
  const graphs: Record<string, FakeGraph> = {};
  for (const name of names) {
    expect(cache.get(name)).toBeUndefined();
    graphs[name] = new FakeGraph(name);
    cache.set(name, graphs[name]);
  }
  return graphs;
}

describe('GraphCache', () => {
  test('a hit returns the graph inserted for the key and inserts nothing', () => {
    const cache = new GraphCache<FakeGraph>(4);
    const g = fill(cache, ['a', 'b']);
    expect(cache.get('a')).toBe(g.a);
    expect(cache.get('a')).toBe(g.a);
    expect(cache.get('b')).toBe(g.b);
    expect(cache.size).toBe(2);
    expect(cache.insertions).toBe(2);
    expect(g.a.disposed + g.b.disposed).toBe(0);
  });

  test('setting a key already held replaces its graph, disposing the old one, and counts an insertion', () => {
    const cache = new GraphCache<FakeGraph>(2);
    const g = fill(cache, ['a', 'b']);
    const a2 = new FakeGraph('a2');
    cache.set('a', a2);
    expect(g.a.disposed).toBe(1);
    expect(cache.get('a')).toBe(a2);
    expect(cache.size).toBe(2);
    expect(cache.insertions).toBe(3);
    // 'a' is now the newest: 'b' goes first.
    fill(cache, ['c']);
    expect(g.b.disposed).toBe(1);
    expect(a2.disposed).toBe(0);
  });

  test('beyond capacity the least recently used graph is evicted and disposed', () => {
    const cache = new GraphCache<FakeGraph>(2);
    const g = fill(cache, ['a', 'b']);
    expect(cache.get('a')).toBe(g.a); // b is now the oldest
    const c = fill(cache, ['c']).c;
    expect(g.b.disposed).toBe(1);
    expect(g.a.disposed).toBe(0);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(g.a);
    expect(cache.get('c')).toBe(c);
    expect(cache.size).toBe(2);
    expect(cache.insertions).toBe(3);
    // A repeated hit on the newest key keeps the order: a is still the oldest.
    expect(cache.get('c')).toBe(c);
    fill(cache, ['d']);
    expect(g.a.disposed).toBe(1);
    expect(c.disposed).toBe(0);
  });

  test('capacity 1 keeps only the last call', () => {
    const cache = new GraphCache<FakeGraph>(1);
    const g = fill(cache, ['a', 'b', 'a']);
    expect(cache.size).toBe(1);
    expect(cache.insertions).toBe(3);
    expect(g.b.disposed).toBe(1);
    expect(cache.get('a')).toBe(g.a);
  });

  test('clear disposes every graph once, even when one dispose throws', () => {
    const cache = new GraphCache<FakeGraph>(4);
    const a = new FakeGraph('a');
    const bad = new FakeGraph('bad', true);
    const c = new FakeGraph('c');
    cache.set('a', a);
    cache.set('bad', bad);
    cache.set('c', c);
    expect(() => cache.clear()).toThrow('dispose bad failed');
    expect([a.disposed, bad.disposed, c.disposed]).toEqual([1, 1, 1]);
    expect(cache.size).toBe(0);
    cache.clear();
    expect([a.disposed, bad.disposed, c.disposed]).toEqual([1, 1, 1]);
  });

  test('an eviction whose dispose throws still keeps the new graph', () => {
    const cache = new GraphCache<FakeGraph>(1);
    cache.set('bad', new FakeGraph('bad', true));
    const b = new FakeGraph('b');
    expect(() => cache.set('b', b)).toThrow('dispose bad failed');
    expect(cache.get('b')).toBe(b);
    expect(cache.size).toBe(1);
  });
});
