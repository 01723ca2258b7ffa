// Types of scripts/binaries.js, for lib/loader.ts and the tests.

export type BinarySource = 'NSA_TOPK_BINARY' | 'local build' | 'prebuild';

export interface Candidate {
  source: BinarySource;
  path: string;
}

/** What a probe needs to report: the binary's buildInfo(), of which the choice reads `cuda`. */
export interface ProbedBuild {
  cuda: boolean;
}

export interface Choice<B extends ProbedBuild> {
  chosen?: Candidate & { build: B };
  /** The candidates before the chosen one (all of them when none is chosen), each with why not. */
  tried: (Candidate & { why: string })[];
  cpuOnlyOnGpuHost: boolean;
}

export const CPU_ONLY_ON_GPU_HOST: string;
export const PREBUILD_CUDA_ARCHS: string;
export function localBuildFile(root?: string): string;
export function prebuildFile(root?: string): string;
export function candidates(env?: NodeJS.ProcessEnv, root?: string): Candidate[];
export function hasNvidiaDriver(): boolean;
export function choose<B extends ProbedBuild>(list: readonly Candidate[], probe: (file: string) => B, gpuHost?: boolean): Choice<B>;
export function probeInChild(file: string): ProbedBuild & Record<string, unknown>;
