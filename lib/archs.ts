// Which GPUs a binary's CUDA code runs on, from the architecture list it was built with (CMake's
// CUDA_ARCHITECTURES syntax, as buildInfo().cudaArchs reports it: "90", "90-real;120", "90,100"):
// `NN` is machine code (SASS) for sm_NN plus PTX for compute_NN, `NN-real` SASS only, `NN-virtual`
// PTX only. SASS runs on the same major version at the same or a higher minor; PTX is compiled by
// the driver for any GPU at or above its version.

export interface CudaArch {
  /** major * 10 + minor, e.g. 90 */
  arch: number;
  sass: boolean;
  ptx: boolean;
}

export interface Coverage {
  /** How the device runs the kernels: its own machine code, PTX compiled at load, or not at all. */
  how: 'sass' | 'ptx' | 'none';
  /** The architecture entry that covers it (sm_90, compute_120), when covered. */
  by?: string;
}

export function parseCudaArchs(list: string): CudaArch[] {
  const archs: CudaArch[] = [];
  for (const item of list.split(/[;,\s]+/).filter(Boolean)) {
    const m = /^(\d+)[a-z]?(?:-(real|virtual))?$/.exec(item);
    if (!m) continue;
    archs.push({ arch: Number(m[1]), sass: m[2] !== 'virtual', ptx: m[2] !== 'real' });
  }
  return archs;
}

/** How a device of compute capability `cc` ("9.0") runs code built for `archs`. */
export function coverage(archs: readonly CudaArch[], cc: string): Coverage {
  const [major, minor] = cc.split('.').map(Number);
  const device = major * 10 + minor;
  const sass = archs.filter((a) => a.sass && Math.floor(a.arch / 10) === major && a.arch <= device);
  if (sass.length) return { how: 'sass', by: `sm_${Math.max(...sass.map((a) => a.arch))}` };
  const ptx = archs.filter((a) => a.ptx && a.arch <= device);
  if (ptx.length) return { how: 'ptx', by: `compute_${Math.max(...ptx.map((a) => a.arch))}` };
  return { how: 'none' };
}

/** The list in words: "sm_90 (SASS + PTX), sm_120 (SASS)". */
export function describeArchs(archs: readonly CudaArch[]): string {
  return archs.map((a) => `sm_${a.arch} (${a.sass && a.ptx ? 'SASS + PTX' : a.sass ? 'SASS' : 'PTX'})`).join(', ');
}
