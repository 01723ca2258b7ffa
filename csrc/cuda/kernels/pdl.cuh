// Programmatic dependent launch (PDL). A kernel launched with programmatic stream serialization
// may start while the previous kernel on its stream is still running; pdl_wait() blocks until that
// kernel has completed and its writes are visible, so it must come before the first global-memory
// access (reads of the inputs, and writes the previous kernel could still be reading). The one
// exception: the spread split kernel reads the call's scores, which the count kernel before it
// does not write, before its wait (agent_spread_topk.cuh; kernel-notes, v6 step 51).
// pdl_launch_dependents() lets the next kernel start early; that kernel's own wait still waits for
// this whole grid. Without the launch attribute (or below sm_90) both are no-ops, so every kernel
// calls them unconditionally.
#pragma once

namespace nsa::cuda {

__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void pdl_launch_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

}  // namespace nsa::cuda
