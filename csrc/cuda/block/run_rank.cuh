// Ordered ranking over an array in shared memory: the cheap counterpart of TileRank for the
// radix kernel's cached chunk and candidate list.
//
// Each round gives thread t one contiguous run of at most kRun entries, so the ranks need one
// block scan per round instead of per-item ballots and a scan per tile: the block scans the
// per-thread counts of each kind, and every flagged entry learns how many entries of each kind
// precede it in index order from its scan offset and a popcount of its run's mask. The masks are
// made by the warp together: at step s lane l flags the warp's entry 32 s + l (consecutive words,
// no bank conflicts, no branch, independent loads), a ballot gives the step's 32 flags, lane s
// keeps it, and each thread cuts its run's bits out of the one or two ballots that hold them.
// Only the flagged entries are emitted.
#pragma once
#include <cstdint>

#include "block_exclusive_sum.cuh"

namespace nsa::cuda {

// The lowest n set bits of m (n <= popc(m)); a loop only where a run straddles a range's end.
__device__ __forceinline__ uint32_t lowest_set(uint32_t m, uint32_t n) {
  if (n == uint32_t(__popc(m))) return m;
  uint32_t rest = m;
  for (uint32_t i = 0; i < n; ++i) rest &= rest - 1u;
  return m ^ rest;
}

template <int kThreads>
struct RunRank {
  static constexpr int kRun = 32;  // entries per thread per round: one mask bit each
  static_assert(kThreads * kRun < (1 << 16), "two 16-bit counts are packed into one word");
  static_assert(kThreads % 32 == 0, "whole warps: each takes its entries' flags by ballots");
  using Sum = BlockExclusiveSum<kThreads>;

  struct Storage {
    typename Sum::Storage sum;
  };

  // Which b-flagged entries of a run are emitted: take(first_b, mb), with the count of
  // b-flagged entries before the run and the run's mask of them, gives the mask of those to emit
  // (a take that skips a plateau's ties spares them a call each: kernel-notes, v6 step 31).
  struct TakeAll {
    __device__ uint32_t operator()(uint32_t, uint32_t mb) const { return mb; }
  };

  // Visits entries [0, n). flags(i, a, b) sets entry i's two flags (at most one of them); it is
  // called once an entry, by any lane of the warp whose runs hold it, so it may not depend on
  // the calling thread. emit(i, a, a_before, b_before) is then called for each a-flagged entry
  // and for each b-flagged one that `take` picks, `a` saying which flag it has, with the counts
  // of a- and b-flagged entries at smaller indices. Returns the totals {a, b}. Every thread of
  // the block must call it; it begins and ends with a barrier. kFlagB false: flags never sets b,
  // and its ballots are not taken.
  template <bool kFlagB = true, class Flags, class Emit, class Take = TakeAll>
  __device__ static uint2 sweep(Storage& s, int32_t n, Flags&& flags, Emit&& emit, Take&& take = {}) {
    uint32_t total_a = 0, total_b = 0;
    __syncthreads();  // the entries were written before the sweep reads them
    for (int32_t base = 0; base < n; base += kThreads * kRun) {
      const int32_t m = min(n - base, kThreads * kRun);
      const int32_t len = (m + kThreads - 1) / kThreads;
      const int32_t lane = int32_t(threadIdx.x & 31u);
      const int32_t warp_first = base + int32_t(threadIdx.x - uint32_t(lane)) * len;
      const int32_t first = warp_first + lane * len;
      // The warp's entries [warp_first, warp_first + 32 len) that lie in the round: all of them,
      // some (the round's last warp holding any: each entry checked), or none.
      const int32_t present = base + m - warp_first;
      uint32_t held_a = 0, held_b = 0;  // lane s: the flags of the warp's entries 32 s .. 32 s + 31
      if (present >= 32 * len) ballots<false, kFlagB>(flags, warp_first, len, present, held_a, held_b);
      else if (present > 0) ballots<true, kFlagB>(flags, warp_first, len, present, held_a, held_b);
      const uint32_t ma = run_bits(held_a, lane, len), mb = kFlagB ? run_bits(held_b, lane, len) : 0u;
      uint32_t all;
      const uint32_t before = Sum::run(s.sum, (uint32_t(__popc(ma)) << 16) | uint32_t(__popc(mb)), &all);
      // Only the flagged entries, lowest index first (the order does not matter for the ranks),
      // and of the b-flagged ones those `take` picks.
      const uint32_t emit_b = kFlagB && mb ? take(total_b + (before & 0xffffu), mb) : 0u;
      for (uint32_t left = ma | emit_b; left; left &= left - 1u) {
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

 private:
  // Flags the warp's entries in ballots of 32 consecutive ones, lane s keeping step s's. Every
  // lane of the warp calls it with the same arguments. kChecked: entries at or past `present`
  // (relative to warp_first) are not read and not flagged.
  template <bool kChecked, bool kFlagB, class Flags>
  __device__ static void ballots(Flags& flags, int32_t warp_first, int32_t len, int32_t present, uint32_t& held_a,
                                 uint32_t& held_b) {
    const int32_t lane = int32_t(threadIdx.x & 31u);
#pragma unroll 4
    for (int32_t step = 0; step < len; ++step) {
      bool a = false, b = false;
      if (!kChecked || 32 * step + lane < present) flags(warp_first + 32 * step + lane, a, b);
      const uint32_t va = __ballot_sync(0xffffffffu, a), vb = kFlagB ? __ballot_sync(0xffffffffu, b) : 0u;
      if (lane == step) held_a = va, held_b = vb;
    }
  }

  // Lane t's run, bits [t len, t len + len) of the warp's ballots laid end to end: bit j is entry
  // first + j. They lie in the ballot held by lane q = t len / 32 and, past its end, in lane q + 1's.
  __device__ static uint32_t run_bits(uint32_t held, int32_t lane, int32_t len) {
    const int32_t bit = lane * len;
    const uint32_t lo = __shfl_sync(0xffffffffu, held, bit >> 5);
    // Lane q + 1 is 32 (read as lane 0) only for lane 31 of runs of 32, whose shift of 0 takes lo alone.
    const uint32_t hi = __shfl_sync(0xffffffffu, held, (bit >> 5) + 1);
    const uint32_t bits = __funnelshift_r(lo, hi, uint32_t(bit & 31));
    return len == 32 ? bits : bits & ((1u << len) - 1u);
  }
};

}  // namespace nsa::cuda
