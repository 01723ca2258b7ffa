// A block-wide exclusive sum of one 32-bit value a thread, in thread order: a shuffle scan over
// each warp, one barrier for the warps' totals, and one reduction of those before the warp (a lane
// per warp, __reduce_add_sync). One barrier and a five-step shuffle chain, for scans on the
// latency-bound path of few CTAs (cub::BlockScan's raking takes two barriers and one warp's serial
// sum; a loop over the warps' totals with a compare each cost every thread ~70 instructions:
// kernel-notes, v6 step 16). The storage may be used again after a barrier that follows every
// thread's return.
#pragma once
#include <cstdint>

namespace nsa::cuda {

template <int kThreads>
struct BlockExclusiveSum {
  static constexpr int kWarps = kThreads / 32;
  static_assert(kThreads % 32 == 0 && kThreads <= 1024, "whole warps, a lane for each warp's total");

  struct Storage {
    uint32_t warp_total[kWarps];
  };

  // The sum of the warps' totals before the calling thread's warp; *all, of every warp's, where
  // `all` is given (a null one, known at compile time, drops that reduction). Lane 31 of each warp
  // gives its warp's total (in_warp). Every thread must call; holds one barrier.
  __device__ static uint32_t warps_before(Storage& s, uint32_t in_warp, uint32_t* all = nullptr) {
    const uint32_t lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
    if (lane == 31) s.warp_total[warp] = in_warp;
    __syncthreads();
    const uint32_t t = lane < uint32_t(kWarps) ? s.warp_total[lane] : 0u;
    if (all) *all = __reduce_add_sync(0xffffffffu, t);
    return __reduce_add_sync(0xffffffffu, lane < warp ? t : 0u);
  }

  // x's inclusive prefix over the calling thread's warp (every lane must call).
  __device__ static uint32_t warp_inclusive(uint32_t x) {
    const uint32_t lane = threadIdx.x & 31u;
#pragma unroll
    for (int d = 1; d < 32; d *= 2) {
      const uint32_t y = __shfl_up_sync(0xffffffffu, x, d);
      if (lane >= uint32_t(d)) x += y;
    }
    return x;
  }

  // x's exclusive prefix over the block; *all, the block's sum, where `all` is given. Every thread
  // must call; holds one barrier.
  __device__ static uint32_t run(Storage& s, uint32_t x, uint32_t* all = nullptr) {
    const uint32_t incl = warp_inclusive(x);
    return warps_before(s, incl, all) + incl - x;
  }
};

}  // namespace nsa::cuda
