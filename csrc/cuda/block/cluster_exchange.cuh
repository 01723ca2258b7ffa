// What the radix kernel's CTAs of one row (a cluster of C > 1) exchange.
//
// A pass's bin is pulled, not pushed: each CTA leaves its counts in its own shared memory (the
// pass's histogram, and its sums of the bins in groups of 32), one cluster barrier publishes
// them, and every warp of every CTA then loads what it needs from the others
// (ld.shared::cluster): the C copies of the group sums, from which it finds the group holding the
// remain-th count from the top, then the C copies of that group's 32 bins, from which it finds
// the bin; the same in every warp of every CTA, kept in registers. One barrier and two dependent
// rounds of remote loads a pass: probe 1 times a round trip of asynchronous stores on mbarriers
// (v6 steps 30-33's pushes, two a pass) at ~0.7 us whatever its bytes, a cluster barrier at 0.26
// (kernel-notes, v6 step 42).
//
// Histograms, group sums and spans alternate by pass (pass n's histogram is the kernel's when n is
// even, `hist` here when odd), so nothing a CTA still reads is overwritten: a CTA writes pass n +
// 2's after pass n + 1's barrier, which no CTA passes before every CTA has finished its loads of
// pass n.
//
// The output counts go by push: each CTA's counts above and tied, by asynchronous stores into the
// CTAs holding later positions, counted on their mbarriers.
#pragma once
#include <cstdint>

#include "cluster_ops.cuh"

namespace nsa::cuda {

// The exchange's shared memory, the same for every cluster size (RadixClusterStatic counts it).
template <int kMaxBins, int kMaxCtas>
struct ClusterExchangeStorage {
  static constexpr int kGroups = kMaxBins / 32;  // a pass's bins in groups of a warp's width
  alignas(16) uint32_t hist[kMaxBins];        // odd passes' histogram (hist_of)
  alignas(16) uint32_t groups[2][kGroups];    // [pass % 2]: this CTA's group sums
  uint2 spans[2];       // [pass % 2]: the AND and OR of this CTA's counted keys, when asked
  uint64_t counts_bar;  // the earlier CTAs' output counts in
};

template <int C, int kThreads, int kMaxBins, int kMaxCtas>
struct ClusterExchange {
  static_assert(C >= 1 && C <= kMaxCtas, "a cluster within the storage's CTAs");
  static_assert(kThreads * 4 == kMaxBins, "a pass's group sums take one 16-byte read of bins a thread");
  using Storage = ClusterExchangeStorage<kMaxBins, kMaxCtas>;
  static constexpr int kGroups = Storage::kGroups;
  static_assert(kGroups == 64, "a warp's lanes hold two group sums each");

  // The pick of a pass: the row's bin, its counts above the bin and in it (the same in every CTA),
  // this CTA's counts above the bin and in it, and, when the CTAs sent their spans, the row's AND
  // (span.x) and OR (span.y) of the keys counted.
  struct Pick {
    uint32_t bin, above, count, my_above, my_count;
    uint2 span;
  };

  Storage& s;
  const uint32_t me;

  __device__ explicit ClusterExchange(Storage& storage) : s(storage), me(ClusterOps<C>::rank()) {}

  // Pass `pass`'s histogram: the kernel's own (`first`) for even passes, the exchange's for odd.
  __device__ uint32_t* hist_of(int pass, uint32_t* first) const { return pass & 1 ? s.hist : first; }

#if NSA_TOPK_HAS_CLUSTERS
  __device__ static uint32_t local(const void* p) { return uint32_t(__cvta_generic_to_shared(p)); }
  __device__ static uint32_t remote(uint32_t addr, uint32_t rank) {
    uint32_t out;
    asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(out) : "r"(addr), "r"(rank));
    return out;
  }
  __device__ static void expect(uint64_t* bar, uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(local(bar)), "r"(bytes) : "memory");
  }
  // Waits for the phase of `bar` with this parity, acquiring at cluster scope what the senders'
  // completions released.
  __device__ static void wait(uint64_t* bar, uint32_t parity) {
    uint32_t done = 0;
    do {
      asm volatile(
          "{\n .reg .pred p;\n"
          " mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64 p, [%1], %2;\n"
          " selp.u32 %0, 1, 0, p;\n}"
          : "=r"(done)
          : "r"(local(bar)), "r"(parity)
          : "memory");
    } while (!done);
  }
  // Sends to CTA `rank`'s copy of `dst`, counted on its copy of `bar`.
  __device__ static void send(uint32_t x, uint32_t y, const void* dst, uint64_t* bar, uint32_t rank) {
    asm volatile("st.async.shared::cluster.mbarrier::complete_tx::bytes.v2.b32 [%0], {%1, %2}, [%3];" ::"r"(
                     remote(local(dst), rank)),
                 "r"(x), "r"(y), "r"(remote(local(bar), rank))
                 : "memory");
  }
  // CTA `rank`'s copy of *p (p in this CTA's shared memory).
  __device__ static uint32_t load_word(const uint32_t* p, uint32_t rank) {
    uint32_t v;
    asm volatile("ld.shared::cluster.u32 %0, [%1];" : "=r"(v) : "r"(remote(local(p), rank)) : "memory");
    return v;
  }
  __device__ static uint2 load_pair(const uint2* p, uint32_t rank) {
    uint2 v;
    asm volatile("ld.shared::cluster.v2.u32 {%0, %1}, [%2];" : "=r"(v.x), "=r"(v.y) : "r"(remote(local(p), rank)) : "memory");
    return v;
  }
  // Thread 0 makes the output counts' mbarrier (one arrival: the owner's expect) and expects the
  // earlier CTAs' counts. The first pick's cluster barrier publishes it before any CTA sends.
  __device__ void init() {
    if (threadIdx.x == 0) {
      asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(local(&s.counts_bar)) : "memory");
      asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
      expect(&s.counts_bar, 8 * me);
    }
  }
  // The exit's cluster barrier in two halves: begin() (relaxed) once the CTA has every byte sent
  // to it, ready() last, so that no CTA leaves while others may still read or send into it.
  __device__ static void begin() { asm volatile("barrier.cluster.arrive.relaxed.aligned;" ::: "memory"); }
  __device__ static void ready() { asm volatile("barrier.cluster.wait.aligned;" ::: "memory"); }

  // For lane l of a warp holding count x of the l-th item from the bottom (items ascending by
  // lane): the counts of the items above it (higher lanes) and whether the want-th count from the
  // top falls in its item; every lane gets the lane where it does (1 <= want <= the warp's sum).
  __device__ static uint32_t above_lane(uint32_t x, uint32_t want, int& hit) {
    const uint32_t lane = threadIdx.x & 31u;
    uint32_t from = x;  // the counts of this lane's item and the items above it
#pragma unroll
    for (int off = 1; off < 32; off <<= 1) {
      const uint32_t up = __shfl_down_sync(0xffffffffu, from, off);
      if (lane + off < 32u) from += up;
    }
    hit = __ffs(__ballot_sync(0xffffffffu, from - x < want && want <= from)) - 1;
    return from - x;
  }

  // Warp w's sums of the groups of its 128 bins (one 16-byte read a thread, zeros past nbins):
  // lanes 8j to 8j + 7 hold group 4w + j's.
  __device__ static uint32_t group_sum(const uint32_t* hist, int nbins) {
    const uint4 v = int(threadIdx.x) * 4 < nbins ? reinterpret_cast<const uint4*>(hist)[threadIdx.x]
                                                 : make_uint4(0u, 0u, 0u, 0u);
    uint32_t sum = v.x + v.y + v.z + v.w;
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    sum += __shfl_xor_sync(0xffffffffu, sum, 2);
    sum += __shfl_xor_sync(0xffffffffu, sum, 4);
    return sum;
  }

  // The group of 32 bins holding the remain-th count from the top, from lane l's row-wide sums
  // of groups 2l and 2l + 1 (`row`) and this CTA's (`own`): the group, the row's counts above it,
  // and this lane's share of this CTA's counts above it.
  struct GroupPick {
    uint32_t group, above, my_above;
  };
  __device__ static GroupPick find_group(uint2 row, uint2 own, uint32_t remain) {
    const uint32_t lane = threadIdx.x & 31u;
    int hit;
    const uint32_t pair_above = above_lane(row.x + row.y, remain, hit);
    // In the hit lane: the upper group if the remain-th count lies in it, else the lower.
    const bool upper = remain <= pair_above + row.y;
    const uint32_t group = 2u * uint32_t(hit) + uint32_t(__shfl_sync(0xffffffffu, upper, hit));
    const uint32_t above = __shfl_sync(0xffffffffu, upper ? pair_above : pair_above + row.y, hit);
    return {group, above, (2 * lane > group ? own.x : 0u) + (2 * lane + 1 > group ? own.y : 0u)};
  }

  // The pick inside the group, from lane l's row-wide count of the group's bin l (`count`) and
  // this CTA's (`mine`).
  __device__ static Pick find_bin(const GroupPick& g, uint32_t count, uint32_t mine, uint32_t remain, uint2 span) {
    const uint32_t lane = threadIdx.x & 31u;
    int hit;
    const uint32_t bin_above = above_lane(count, remain - g.above, hit);
    const uint32_t my_above = g.my_above + (lane > uint32_t(hit) ? mine : 0u);
    return {g.group * 32 + uint32_t(hit), g.above + __shfl_sync(0xffffffffu, bin_above, hit),
            __shfl_sync(0xffffffffu, count, hit), __reduce_add_sync(0xffffffffu, my_above),
            __shfl_sync(0xffffffffu, mine, hit), span};
  }

  // Pass `pass`'s pick from every CTA's histogram of the pass (hist_of(pass, ...), nbins bins, a
  // power of two >= 4; the bins from nbins on are not read), the remain-th count from the top.
  // `spans`, when not null (the same in every CTA), holds each warp's AND and OR of the keys it
  // counted: folded over the row, the pick holds them. Every thread calls; each warp returns the
  // pick. The caller has a block barrier between its last writes of hist and spans and this call.
  __device__ Pick pick(const uint32_t* hist, int nbins, uint32_t remain, int pass, const uint2* spans) {
    const int b = pass & 1;
    const uint32_t lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
    // (1) This CTA's group sums (and span) into its own memory, then the barrier that publishes
    // them and the histogram to the cluster.
    const uint32_t sum = group_sum(hist, nbins);
    if ((lane & 7u) == 0) s.groups[b][threadIdx.x / 8] = sum;
    if (spans && warp == 0) {
      const bool mine = lane < unsigned(kThreads / 32);
      const uint32_t all = __reduce_and_sync(0xffffffffu, mine ? spans[lane].x : ~0u);
      const uint32_t any = __reduce_or_sync(0xffffffffu, mine ? spans[lane].y : 0u);
      if (lane == 0) s.spans[b] = make_uint2(all, any);
    }
    asm volatile("barrier.cluster.arrive.release.aligned;" ::: "memory");
    asm volatile("barrier.cluster.wait.acquire.aligned;" ::: "memory");
    // (2) The group, in every warp: lane l adds up groups 2l and 2l + 1 over the CTAs.
    uint2 row = make_uint2(0u, 0u), own = row;
    uint2 span = spans ? make_uint2(~0u, 0u) : make_uint2(0u, ~0u);
#pragma unroll
    for (int c = 0; c < C; ++c) {
      const uint2 g = load_pair(reinterpret_cast<const uint2*>(s.groups[b]) + lane, uint32_t(c));
      row.x += g.x, row.y += g.y;
      if (uint32_t(c) == me) own = g;
      if (spans) {
        const uint2 v = load_pair(&s.spans[b], uint32_t(c));
        span = make_uint2(span.x & v.x, span.y | v.y);
      }
    }
    const GroupPick g = find_group(row, own, remain);
    // (3) The bin, in every warp: lane l adds up bin 32 group + l over the CTAs.
    const uint32_t bin = g.group * 32 + lane;
    uint32_t count = 0, mine = 0;
#pragma unroll
    for (int c = 0; c < C; ++c) {
      const uint32_t x = int(bin) < nbins ? load_word(hist + bin, uint32_t(c)) : 0u;  // a pass of fewer than 32 bins
      count += x;
      if (uint32_t(c) == me) mine = x;
    }
    return find_bin(g, count, mine, remain, span);
  }

  // Output counts: this CTA's (above, tied) into published[2 me, 2 me + 1] of every later CTA;
  // then each CTA's sum over the earlier CTAs' (received). Every thread calls both.
  __device__ void send_counts(uint32_t above, uint32_t tied, uint32_t* published) {
    if (threadIdx.x > me && threadIdx.x < unsigned(C)) send(above, tied, published + 2 * me, &s.counts_bar, threadIdx.x);
  }
  __device__ void wait_counts() { wait(&s.counts_bar, 0u); }
#endif
};

}  // namespace nsa::cuda
