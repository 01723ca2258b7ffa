// Comparing two top-k outputs where the contract leaves each row's order free.
import { Output, bitsOf } from '../../lib/reference';

/** The rows where two outputs select different (position, value bits) pairs, each row's order aside. */
export function rowsThatDiffer(a: Output, b: Output, rows: number, k: number): number[] {
  const row = (o: Output, r: number) => {
    const bits = o.values && bitsOf(o.values);
    return Array.from({ length: k }, (_, j) => `${o.indices[r * k + j]}:${bits ? bits[r * k + j] : ''}`).sort().join(' ');
  };
  return Array.from({ length: rows }, (_, r) => r).filter((r) => row(a, r) !== row(b, r));
}
