// Ordered ranking over an array in shared memory: the cheap counterpart of TileRank for the
// radix kernel's cached chunk and candidate list.
//
// Each round gives thread t one contiguous run of at most kRun entries, so the ranks need one
// block scan per round instead of per-item ballots and a scan per tile: a thread marks its run's
// flags in two bit masks, the block scans the per-thread counts, and every flagged entry learns
// how many entries of each kind precede it in index order from its scan offset and a popcount.
// Threads read their runs rotated by the lane so that a warp's reads spread over the banks, and
// emit only the flagged entries of their run.
#pragma once
#include <cstdint>

#include "block_exclusive_sum.cuh"

namespace nsa::cuda {

template <int kThreads>
struct RunRank {
  static constexpr int kRun = 32;  // entries per thread per round: one mask bit each
  static_assert(kThreads * kRun < (1 << 16), "two 16-bit counts are packed into one word");
  using Sum = BlockExclusiveSum<kThreads>;

  struct Storage {
    typename Sum::Storage sum;
  };

  // Visits entries [0, n). flags(i, a, b) sets entry i's two flags (at most one of them);
  // emit(i, a, a_before, b_before) is then called for each flagged entry, `a` saying which flag
  // it has, with the counts of a- and b-flagged entries at smaller indices. Returns the totals
  // {a, b}. Every thread of the block must call it; it begins and ends with a barrier.
  template <class Flags, class Emit>
  __device__ static uint2 sweep(Storage& s, int32_t n, Flags&& flags, Emit&& emit) {
    uint32_t total_a = 0, total_b = 0;
    __syncthreads();  // the entries were written before the sweep reads them
    for (int32_t base = 0; base < n; base += kThreads * kRun) {
      const int32_t m = min(n - base, kThreads * kRun);
      const int32_t len = (m + kThreads - 1) / kThreads;
      const int32_t first = base + int32_t(threadIdx.x) * len;
      const int32_t mine = max(0, min(len, base + m - first));
      const int32_t rot = int32_t(threadIdx.x & 31u) % len;
      uint32_t ma = 0, mb = 0;
      for (int32_t step = 0; step < len; ++step) {
        const int32_t j = step + rot < len ? step + rot : step + rot - len;
        if (j < mine) {
          bool a, b;
          flags(first + j, a, b);
          ma |= uint32_t(a) << j;
          mb |= uint32_t(b) << j;
        }
      }
      uint32_t all;
      const uint32_t before = Sum::run(s.sum, (uint32_t(__popc(ma)) << 16) | uint32_t(__popc(mb)), &all);
      // Only the flagged entries, lowest index first (the order does not matter for the ranks).
      for (uint32_t left = ma | mb; left; left &= left - 1u) {
        const int32_t j = __ffs(left) - 1;
        const uint32_t low = (1u << j) - 1u;
        emit(first + j, bool((ma >> j) & 1u), total_a + (before >> 16) + uint32_t(__popc(ma & low)),
             total_b + (before & 0xffffu) + uint32_t(__popc(mb & low)));
      }
      total_a += all >> 16;
      total_b += all & 0xffffu;
      __syncthreads();  // the scan storage is reused by the next round or the next sweep
    }
    return make_uint2(total_a, total_b);
  }
};

}  // namespace nsa::cuda
