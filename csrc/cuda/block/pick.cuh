// word[w] of a register array for a w that differs between lanes, by a tree of selects on w's
// bits: indexing the array with a run-time index would move it to local memory.
#pragma once
#include <cstdint>

namespace nsa::cuda {

template <int kW>
__device__ __forceinline__ uint32_t pick(const uint32_t (&word)[kW], uint32_t w) {
  static_assert((kW & (kW - 1)) == 0, "a power of two");
  if constexpr (kW == 1) {
    return word[0];
  } else {
    uint32_t half[kW / 2];
#pragma unroll
    for (int j = 0; j < kW / 2; ++j) half[j] = w & 1u ? word[2 * j + 1] : word[2 * j];
    return pick(half, w >> 1);
  }
}

}  // namespace nsa::cuda
