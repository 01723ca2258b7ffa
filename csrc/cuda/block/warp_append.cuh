// Warp-aggregated appends to a shared-memory list through one counter: one atomic per warp
// instead of one per element. The order of entries in the list depends on which warp gets there
// first, so callers use these only for lists whose order does not matter (the batch path ranks
// its output by position, never by list order).
#pragma once
#include <cstdint>

#include "block_exclusive_sum.cuh"

namespace nsa::cuda {

// The counter's value before the warp adds `total` (the same on every lane; 0 adds nothing and
// returns 0). All 32 lanes must call with the same total.
__device__ __forceinline__ uint32_t warp_add(uint32_t total, uint32_t* counter) {
  uint32_t base = 0;
  if (total && (threadIdx.x & 31u) == 0) base = atomicAdd(counter, total);
  return __shfl_sync(0xffffffffu, base, 0);
}

// The first of this lane's n slots in the warp's run from `counter`. The warp's total comes from
// one reduction, not the scan's last lane, so that the add's round trip overlaps the scan that
// places the lanes within the run (warp_add's broadcast would wait on the add before the scan's
// shuffles: the base is broadcast after them here). All 32 lanes must call.
__device__ __forceinline__ uint32_t warp_claim(uint32_t n, uint32_t* counter) {
  const uint32_t total = __reduce_add_sync(0xffffffffu, n);
  uint32_t base = 0;
  if (total && (threadIdx.x & 31u) == 0) base = atomicAdd(counter, total);
  const uint32_t incl = BlockExclusiveSum<32>::warp_inclusive(n);
  return __shfl_sync(0xffffffffu, base, 0) + incl - n;
}

// Slot for this lane's entry when `flag` is set (undefined otherwise). All 32 lanes must call.
__device__ __forceinline__ uint32_t warp_append_one(bool flag, uint32_t* counter) {
  const uint32_t takers = __ballot_sync(0xffffffffu, flag);
  const uint32_t base = warp_add(uint32_t(__popc(takers)), counter);
  return base + uint32_t(__popc(takers & ((1u << (threadIdx.x & 31u)) - 1u)));
}

}  // namespace nsa::cuda
