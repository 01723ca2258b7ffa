// Zeroing a block's shared-memory words in 16-byte stores, a fixed number a thread: a loop from
// threadIdx.x with a stride compiles to a run-time loop with a remainder, ~45 instructions where
// a few stores do (kernel-notes, v6 steps 26 and 79). Published by the caller's next barrier.
#pragma once
#include <cstdint>

namespace nsa::cuda {

// The kWords words from `words` (16-byte aligned, kWords a multiple of 4).
template <int kThreads, int kWords>
__device__ __forceinline__ void block_clear(uint32_t* words) {
  static_assert(kWords % 4 == 0, "whole 16-byte vectors");
  constexpr int kVectors = kWords / 4;
#pragma unroll
  for (int j = 0; j < (kVectors + kThreads - 1) / kThreads; ++j) {
    const int v = int(threadIdx.x) + j * kThreads;
    if (kVectors % kThreads == 0 || v < kVectors) reinterpret_cast<uint4*>(words)[v] = make_uint4(0u, 0u, 0u, 0u);
  }
}

}  // namespace nsa::cuda
