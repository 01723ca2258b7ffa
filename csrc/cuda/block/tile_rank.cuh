// Ordered ranking of two flag kinds across one tile, without atomics: the piece that makes the
// radix kernel's output order (ascending position) and its tie-break deterministic.
//
// A tile holds kThreads * kItems elements laid out striped: item u of thread t is the tile's
// (u * kThreads + t)-th element in position order, so loads stay coalesced. Counts per (item,
// warp) come from ballots; one warp scans them in position order.
#pragma once
#include <cstdint>

namespace nsa::cuda {

template <int kThreads, int kItems>
struct TileRank {
  static constexpr int kWarps = kThreads / 32;
  static constexpr int kSlots = kItems * kWarps;  // (item, warp) slots in position order
  static_assert(kThreads % 32 == 0 && kSlots % 32 == 0, "slots must split evenly over a warp");
  static_assert(kThreads * kItems < (1 << 16), "two 16-bit counts are packed into one word");

  // Shared state: reused by every tile; rank() begins with a barrier, so callers need none.
  struct Storage {
    uint32_t prefix[kSlots];  // packed exclusive prefix per slot: (count of a) << 16 | count of b
    uint32_t total;           // packed tile totals
  };

  // before[u]: packed counts of a-flags and b-flags strictly before item u in position order.
  // Returns the packed tile totals. Every thread of the block must call it.
  __device__ static uint32_t rank(Storage& s, const bool (&a)[kItems], const bool (&b)[kItems],
                                  uint32_t (&before)[kItems]) {
    const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
    const unsigned lower = (1u << lane) - 1u;
    __syncthreads();  // the previous tile's readers are done with s
#pragma unroll
    for (int u = 0; u < kItems; ++u) {
      const unsigned ba = __ballot_sync(0xffffffffu, a[u]);
      const unsigned bb = __ballot_sync(0xffffffffu, b[u]);
      before[u] = (uint32_t(__popc(ba & lower)) << 16) | uint32_t(__popc(bb & lower));
      if (lane == 0) s.prefix[u * kWarps + warp] = (uint32_t(__popc(ba)) << 16) | uint32_t(__popc(bb));
    }
    __syncthreads();
    if (warp == 0) {
      constexpr int kPer = kSlots / 32;
      uint32_t v[kPer], sum = 0;
#pragma unroll
      for (int i = 0; i < kPer; ++i) sum += (v[i] = s.prefix[lane * kPer + i]);
      uint32_t incl = sum;
#pragma unroll
      for (int off = 1; off < 32; off <<= 1) {
        const uint32_t n = __shfl_up_sync(0xffffffffu, incl, off);
        if (lane >= unsigned(off)) incl += n;
      }
      uint32_t run = incl - sum;
#pragma unroll
      for (int i = 0; i < kPer; ++i) {
        s.prefix[lane * kPer + i] = run;
        run += v[i];
      }
      if (lane == 31) s.total = incl;
    }
    __syncthreads();
#pragma unroll
    for (int u = 0; u < kItems; ++u) before[u] += s.prefix[u * kWarps + warp];
    return s.total;
  }
};

}  // namespace nsa::cuda
