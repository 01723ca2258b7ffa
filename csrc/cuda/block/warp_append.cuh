// Warp-aggregated appends to a shared-memory list through one counter: one atomic per warp
// instead of one per element. The order of entries in the list depends on which warp gets there
// first, so callers use these only for lists whose order does not matter (the batch path ranks
// its output by position, never by list order).
#pragma once
#include <cstdint>

namespace nsa::cuda {

// Slot for this lane's entry when `flag` is set (undefined otherwise). All 32 lanes must call.
__device__ __forceinline__ uint32_t warp_append_one(bool flag, uint32_t* counter) {
  const unsigned lane = threadIdx.x & 31u;
  const unsigned mask = __ballot_sync(0xffffffffu, flag);
  uint32_t base = 0;
  if (mask && lane == unsigned(__ffs(mask) - 1)) base = atomicAdd(counter, uint32_t(__popc(mask)));
  base = __shfl_sync(0xffffffffu, base, mask ? __ffs(mask) - 1 : 0);
  return base + uint32_t(__popc(mask & ((1u << lane) - 1u)));
}

// First slot for this lane's `count` entries (may be 0 on any lane). All 32 lanes must call.
__device__ __forceinline__ uint32_t warp_append_many(uint32_t count, uint32_t* counter) {
  const unsigned lane = threadIdx.x & 31u;
  uint32_t incl = count;
#pragma unroll
  for (int off = 1; off < 32; off <<= 1) {
    const uint32_t n = __shfl_up_sync(0xffffffffu, incl, off);
    if (lane >= unsigned(off)) incl += n;
  }
  uint32_t base = 0;
  if (lane == 31 && incl) base = atomicAdd(counter, incl);
  return __shfl_sync(0xffffffffu, base, 31) + incl - count;
}

}  // namespace nsa::cuda
