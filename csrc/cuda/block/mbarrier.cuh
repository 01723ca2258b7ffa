// The mbarrier operations (sm_90) that the radix kernel's cluster exchange (st.async between CTAs)
// and its bulk-copy ring (cp.async.bulk into the CTA) share. Called only from code built for sm_90
// or later; the bodies are empty in an earlier device pass, which never runs them.
#pragma once
#include <cstdint>

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define NSA_TOPK_HAS_MBARRIER_TX 0
#else
#define NSA_TOPK_HAS_MBARRIER_TX 1
#endif

namespace nsa::cuda::mbarrier {

// A shared-memory object's address in the CTA's window (also a valid shared::cluster address of
// the CTA's own memory).
__device__ __forceinline__ uint32_t smem(const void* p) { return uint32_t(__cvta_generic_to_shared(p)); }

// One arrival a phase (its owner's); a fence publishes the init to the cluster and the async proxy.
__device__ __forceinline__ void init(uint64_t* bar) {
#if NSA_TOPK_HAS_MBARRIER_TX
  asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem(bar)) : "memory");
#endif
}
__device__ __forceinline__ void fence_init() {
#if NSA_TOPK_HAS_MBARRIER_TX
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
#endif
}

// The owner's arrival, expecting `bytes` of transactions before the phase completes.
__device__ __forceinline__ void expect_tx(uint64_t* bar, uint32_t bytes) {
#if NSA_TOPK_HAS_MBARRIER_TX
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem(bar)), "r"(bytes) : "memory");
#endif
}

// Waits for the phase of `bar` with this parity; kCluster: acquiring at cluster scope what other
// CTAs' completions released (else at CTA scope: the CTA's own bulk copies).
template <bool kCluster>
__device__ __forceinline__ void wait(uint64_t* bar, uint32_t parity) {
#if NSA_TOPK_HAS_MBARRIER_TX
#define NSA_TOPK_TRY_WAIT(SEM)                                                                          \
  asm volatile("{\n .reg .pred p;\n mbarrier.try_wait.parity" SEM ".shared::cta.b64 p, [%1], %2;\n" \
               " selp.u32 %0, 1, 0, p;\n}"                                                            \
               : "=r"(done)                                                                           \
               : "r"(smem(bar)), "r"(parity)                                                          \
               : "memory")
  uint32_t done = 0;
  do {
    if constexpr (kCluster) NSA_TOPK_TRY_WAIT(".acquire.cluster");
    else NSA_TOPK_TRY_WAIT("");
  } while (!done);
#undef NSA_TOPK_TRY_WAIT
#endif
}

}  // namespace nsa::cuda::mbarrier
