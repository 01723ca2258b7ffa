// GPU suites run only where a usable CUDA device exists. Where a GPU is required
// (REQUIRE_GPU=1, `npm run test:gpu`), its absence fails the run instead of skipping silently.
import { cudaStatus } from '../../lib';
import type { OpRun } from '../../lib/reference';

/** Why no GPU suite can run here, or undefined when one can. */
export function gpuUnavailableReason(): string | undefined {
  try {
    const status = cudaStatus();
    if (status.usable) return undefined;
    return status.reason ?? (status.compiled ? 'no usable CUDA device' : 'the addon was built without CUDA');
  } catch (err) {
    return `cudaStatus() threw: ${(err as Error).message}`;
  }
}

export function describeGpu(name: string, fn: () => void): void {
  const reason = gpuUnavailableReason();
  if (reason === undefined) {
    describe(name, fn);
  } else if (process.env.REQUIRE_GPU === '1') {
    describe(name, () => {
      test('requires a usable GPU (REQUIRE_GPU=1)', () => {
        throw new Error(`REQUIRE_GPU=1 but no usable GPU: ${reason}`);
      });
    });
  } else {
    describe.skip(`${name} (no GPU: ${reason})`, fn);
  }
}

/**
 * The CUDA kernels a suite runs each case through (with runOp): the radix backend as the
 * heuristic picks (few rows: the radix kernel), the batch, register and spread kernels and the
 * chunked path forced on the same rows (the register kernel's rows longer than its registers go to
 * its batch agent), and the sort backend.
 */
export const CUDA_RUNS: readonly [string, OpRun][] = [
  ['radix', { backend: 'radix' }],
  ['radix batch', { backend: 'radix', path: 'batch' }],
  ['radix register', { backend: 'radix', path: 'register' }],
  ['radix spread', { backend: 'radix', path: 'spread' }],
  ['radix chunked', { backend: 'radix', path: 'chunked' }],
  ['sort', { backend: 'sort' }],
];

/** Everything a test allocates, disposed in reverse order at the end. */
export class Owned {
  private readonly list: { dispose(): void }[] = [];
  keep<T extends { dispose(): void }>(x: T): T { this.list.push(x); return x; }
  dispose(): void { for (const x of this.list.reverse()) x.dispose(); }
}
