// Streams a CTA's chunk of a row through shared memory, a tile of kThreads x kItems elements at a
// time, each tile brought by one bulk copy (cp.async.bulk: the copy engine's linear form, no
// registers held while it flies) into a ring of stages, each completing on an mbarrier. The whole
// ring stays in flight while the block works on a tile: a thread's registers hold a few 16-byte
// loads (32 KB a CTA), a ring of 8 stages 128 KB, which a CTA streaming its chunk from HBM alone on
// an SM needs to draw its share of the bandwidth (kernel-notes, v6 step 40).
//
// A chunk kept in shared memory (the radix kernel's cached chunk) lands the same way, every tile
// at once in its own place (kHold), none refilled.
//
// A bulk copy moves whole 16-byte units between 16-byte-aligned addresses, so the elements before
// the chunk's first boundary and past its last are read by their threads from global memory (all
// of them where the row is not even element-aligned, or the ring has no stage: always before
// sm_90, which has no bulk copies).
#pragma once
#include <cstdint>

#include "mbarrier.cuh"

namespace nsa::cuda {

template <int kMaxStages>
struct BulkRingStorage {
  uint64_t full[kMaxStages];  // stage s's copy landed (one phase a tile)
};

template <class Traits, int kThreads, int kItems, int kMaxStages>
class BulkRing {
 public:
  using Bits = typename Traits::Bits;
  using Storage = BulkRingStorage<kMaxStages>;
  static constexpr int kTile = kThreads * kItems;
  static constexpr int kStageWords = kTile * int(sizeof(Bits)) / 4;
  static_assert(kTile * sizeof(Bits) % 16 == 0, "tiles start on 16-byte boundaries");

  // The stages in `words` (16-byte aligned), as many whole ones as fit, at most kMaxStages.
  __device__ BulkRing(Storage& s, uint32_t* words, int32_t nwords)
      : s_(s),
        stages_(reinterpret_cast<Bits*>(words)),
        nstages_(NSA_TOPK_HAS_MBARRIER_TX ? min(kMaxStages, max(nwords, 0) / kStageWords) : 0) {}

  // Thread 0 makes the mbarriers (one arrival a phase: the copy's issuer); a block barrier must
  // follow before the first tile.
  __device__ static void init(Storage& s) {
    if (threadIdx.x == 0) {
      for (uint64_t& bar : s.full) mbarrier::init(&bar);
      mbarrier::fence_init();
    }
  }

  // Calls fn(key, pos, valid) for each tile of [begin, end) of the row, in position order, element
  // u of a thread at tile offset u x kThreads + threadIdx.x. Every thread of the block must call
  // it with the same arguments; fn may hold barriers. Every copy issued lands before it returns.
  // kHold: tile t lands at `words` + t x kStageWords, all issued at once (at most kMaxStages
  // tiles), so that position `begin` + j of the chunk is element p + j there, p the chunk's start's
  // 16-byte phase in elements (0 where it is not element-aligned; the words before it and past the
  // chunk's end untouched); a CTA holds or streams, never both.
  template <bool kHold = false, class Fn>
  __device__ void for_each_tile(const Bits* row, int64_t begin, int64_t end, Fn&& fn) {
    const uintptr_t addr = reinterpret_cast<uintptr_t>(row + begin);
    const bool bulk = NSA_TOPK_HAS_MBARRIER_TX && (kHold || nstages_ > 0) && addr % sizeof(Bits) == 0;
    // Tiles start at `base`, the 16-byte boundary at or before begin (begin itself without bulk
    // copies); offsets below are from base: the chunk is [lo, hi), [a0, a1) of it copied.
    const int32_t lo = bulk ? int32_t(addr % 16 / sizeof(Bits)) : 0, hi = lo + int32_t(end - begin);
    const Bits* const from = row + (begin - lo);
    int32_t a0 = 0, a1 = 0;
    if (bulk) {
      constexpr int32_t kUnit = 16 / sizeof(Bits);
      a0 = (lo + kUnit - 1) / kUnit * kUnit;
      a1 = max(a0, hi / kUnit * kUnit);
    }
    const int32_t ntiles = (hi + kTile - 1) / kTile;
    // Tile t into stage st (thread 0): its part of [a0, a1), or a bare arrival. The block's reads
    // of the stage (generic proxy) come before the copy's writes (async proxy): a proxy fence
    // after the barrier that ended them.
    auto issue = [&](int32_t st, int32_t t) {
#if NSA_TOPK_HAS_MBARRIER_TX
      const int32_t first = t * kTile, c0 = max(first, a0), c1 = min(first + kTile, a1);
      uint64_t* const bar = &s_.full[st];
      asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
      if (c1 > c0) {
        const uint32_t bytes = uint32_t(c1 - c0) * uint32_t(sizeof(Bits));
        mbarrier::expect_tx(bar, bytes);
        asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(
                         mbarrier::smem(stages_ + st * kTile + (c0 - first))),
                     "l"(__cvta_generic_to_global(from + c0)), "r"(bytes), "r"(mbarrier::smem(bar))
                     : "memory");
      } else {
        asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(mbarrier::smem(bar)) : "memory");
      }
#endif
    };
    if (bulk && threadIdx.x == 0) {
      if constexpr (kHold) {
        for (int32_t t = 0; t < ntiles; ++t) issue(t, t);
      } else {
        int32_t st = stage_;
        for (int32_t t = 0; t < min(nstages_, ntiles); ++t) {
          issue(st, t);
          st = st + 1 == nstages_ ? 0 : st + 1;
        }
      }
    }
    const int32_t pos0 = int32_t(begin) - lo;  // the row position of offset 0
    for (int32_t t = 0; t < ntiles; ++t) {
      const int32_t first = t * kTile;
      const int32_t st = kHold ? t : stage_;
      const Bits* const stage = stages_ + st * kTile;
      if (bulk) mbarrier::wait<false>(&s_.full[st], kHold ? 0u : phase_);
      uint32_t key[kItems];
      int32_t pos[kItems];
      bool valid[kItems];
#pragma unroll
      for (int u = 0; u < kItems; ++u) {
        const int32_t e = u * kThreads + int32_t(threadIdx.x), i = first + e;
        valid[u] = i >= lo && i < hi;
        key[u] = valid[u] ? Traits::key(i >= a0 && i < a1 ? stage[e] : from[i]) : 0u;
        pos[u] = pos0 + i;
      }
      if (bulk && !kHold) {
        __syncthreads();  // every thread's reads of the stage are done: refill it
        if (threadIdx.x == 0 && t + nstages_ < ntiles) issue(stage_, t + nstages_);
        if (++stage_ == nstages_) stage_ = 0, phase_ ^= 1u;
      }
      fn(key, pos, valid);
    }
  }

 private:
  Storage& s_;
  Bits* const stages_;
  const int32_t nstages_;
  int32_t stage_ = 0;   // the next tile's stage
  uint32_t phase_ = 0;  // and the parity of its mbarrier's phase
};

}  // namespace nsa::cuda
