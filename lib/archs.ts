// Which GPUs a binary's CUDA code runs on, from the architecture list it was built with (CMake's
// CUDA_ARCHITECTURES syntax, as buildInfo().cudaArchs reports it: "90", "90-real;120", "90,100"):
// `NN` is machine code (SASS) for sm_NN plus PTX for compute_NN, `NN-real` SASS only, `NN-virtual`
// PTX only. SASS runs on the same major version at the same or a higher minor; PTX is compiled by
// the driver for any GPU at or above its version. Architecture-specific entries (`90a`) run only
// on their own compute capability, family ones (`100f`) only within their major version.
// csrc/binding/cuda_status.cpp (built_for) applies the same rule.

/** The oldest architecture the kernels build for (warp reductions, __reduce_add_sync, are sm_80's). */
export const MIN_CUDA_ARCH = 80;

export interface CudaArch {
  /** major * 10 + minor, e.g. 90 */
  arch: number;
  sass: boolean;
  ptx: boolean;
  /** `a`: this compute capability only; `f`: its major version only. */
  suffix?: 'a' | 'f';
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
    const m = /^(\d+)([af])?(?:-(real|virtual))?$/.exec(item);
    if (!m) continue;
    archs.push({ arch: Number(m[1]), sass: m[3] !== 'virtual', ptx: m[3] !== 'real', ...(m[2] ? { suffix: m[2] as 'a' | 'f' } : {}) });
  }
  return archs;
}

/** How a device of compute capability `cc` ("9.0") runs code built for `archs`. */
export function coverage(archs: readonly CudaArch[], cc: string): Coverage {
  const [major, minor] = cc.split('.').map(Number);
  const device = major * 10 + minor;
  const best = (list: CudaArch[]) => list.reduce((b, a) => (a.arch > b.arch ? a : b));
  const sass = archs.filter((a) => a.sass && runsOn(a, 'sass', device));
  if (sass.length) return { how: 'sass', by: name('sm', best(sass)) };
  const ptx = archs.filter((a) => a.ptx && runsOn(a, 'ptx', device));
  if (ptx.length) return { how: 'ptx', by: name('compute', best(ptx)) };
  return { how: 'none' };
}

/** Whether entry `a`'s SASS or PTX runs on compute capability `device` (major * 10 + minor). */
function runsOn(a: CudaArch, as: 'sass' | 'ptx', device: number): boolean {
  if (a.arch > device) return false;
  if (a.suffix === 'a') return a.arch === device;
  // SASS, and family PTX, stay within their major version.
  return (as === 'ptx' && a.suffix !== 'f') || Math.floor(a.arch / 10) === Math.floor(device / 10);
}

function name(kind: 'sm' | 'compute', a: CudaArch): string {
  return `${kind}_${a.arch}${a.suffix ?? ''}`;
}

/** The list in words, machine code then PTX, each once: "sm_90, sm_120 (SASS); compute_120 (PTX)". */
export function describeArchs(archs: readonly CudaArch[]): string {
  const names = (kind: 'sm' | 'compute', has: (a: CudaArch) => boolean) =>
    [...new Set(archs.filter(has).map((a) => name(kind, a)))].join(', ');
  const sass = names('sm', (a) => a.sass), ptx = names('compute', (a) => a.ptx);
  return [sass && `${sass} (SASS)`, ptx && `${ptx} (PTX)`].filter(Boolean).join('; ');
}
