// What the radix kernel's CTAs of one row (a cluster of C > 1) exchange, without cluster
// barriers after the start: every transfer is an asynchronous store into another CTA's shared
// memory (st.async) whose bytes complete a transaction count on that CTA's mbarrier, and each
// CTA waits on its own mbarriers only. A cluster barrier's release is a GPU-scope fence on Hopper
// (MEMBAR.ALL.GPU: an L2 round trip; kernel-notes, "Without a GPU (session 40)"); an mbarrier
// wait is not.
//
// A pass's bin is picked in two small all-gathers, with the pass's bins taken in groups of 32:
// (1) each warp sends the sums of the groups of its 128 bins to every CTA (and warp 0, in a pass
// that asks, the AND and OR of the keys the CTA counted); every warp of every CTA then adds the C
// copies and finds the group holding the remain-th count from the top, the same in every CTA;
// (2) warp 0 sends its CTA's 32 bins of that group to every CTA, and every warp finds the bin in
// the C copies the same way. No block barrier inside: each warp waits on the mbarriers and keeps
// the pick in registers. Every byte count is known before it is sent (whole groups and whole
// group sums, zeros too), so each receiver expects exact counts.
//
// Buffers and mbarriers alternate by pass. A CTA's sends of pass n + 2 into a buffer come after it
// has the pick of pass n + 1, which needs every CTA's bins of pass n + 1, each sent after its
// sender's last read of that buffer in pass n.
#pragma once
#include <cstdint>

#include "cluster_ops.cuh"

namespace nsa::cuda {

// The exchange's shared memory, the same for every cluster size (RadixClusterStatic counts it).
template <int kMaxBins, int kMaxCtas>
struct ClusterExchangeStorage {
  static constexpr int kGroups = kMaxBins / 32;  // a pass's bins in groups of a warp's width
  alignas(16) uint32_t groups[2][kMaxCtas][kGroups];  // [pass % 2][c]: CTA c's group sums
  alignas(16) uint32_t bins[2][kMaxCtas][32];         // [pass % 2][c]: CTA c's bins of the group
  uint2 spans[2][kMaxCtas];  // [pass % 2][c]: the AND and OR of CTA c's counted keys, when sent
  uint64_t bars[2][2];  // [pass % 2]: group sums (and spans) in, the group's bins in
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
  __device__ static void send(uint4 v, const void* dst, uint64_t* bar, uint32_t rank) {
    asm volatile("st.async.shared::cluster.mbarrier::complete_tx::bytes.v4.b32 [%0], {%1, %2, %3, %4}, [%5];" ::"r"(
                     remote(local(dst), rank)),
                 "r"(v.x), "r"(v.y), "r"(v.z), "r"(v.w), "r"(remote(local(bar), rank))
                 : "memory");
  }
  __device__ static void send(uint32_t x, uint32_t y, const void* dst, uint64_t* bar, uint32_t rank) {
    asm volatile("st.async.shared::cluster.mbarrier::complete_tx::bytes.v2.b32 [%0], {%1, %2}, [%3];" ::"r"(
                     remote(local(dst), rank)),
                 "r"(x), "r"(y), "r"(remote(local(bar), rank))
                 : "memory");
  }
  __device__ static void send(uint32_t x, const void* dst, uint64_t* bar, uint32_t rank) {
    asm volatile("st.async.shared::cluster.mbarrier::complete_tx::bytes.b32 [%0], %1, [%2];" ::"r"(
                     remote(local(dst), rank)),
                 "r"(x), "r"(remote(local(bar), rank))
                 : "memory");
  }

  // Thread 0 makes the mbarriers (one arrival each: the owner's expect) and expects the earlier
  // CTAs' output counts. A cluster barrier must follow before any CTA sends: begin() and ready().
  __device__ void init() {
    if (threadIdx.x == 0) {
      for (auto& set : s.bars)
        for (uint64_t& bar : set) asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(local(&bar)) : "memory");
      asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(local(&s.counts_bar)) : "memory");
      asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
      expect(&s.counts_bar, 8 * me);
    }
  }
  // The start's cluster barrier in two halves: begin() (relaxed: only the mbarriers' init, which
  // its fence published, needs to be seen) once the CTA is past its early returns; ready() before
  // the first send. Between them the CTA loads its chunk while the others arrive.
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

  // Pass `pass`'s pick from every CTA's `hist` (nbins bins, a power of two >= 4; the bins from
  // nbins on are not read), the remain-th count from the top. `spans`, when not null (the same in
  // every CTA), holds each warp's AND and OR of the keys it counted: folded over the CTA, they
  // go with the group sums, and the pick holds the row's. Every thread calls; each warp returns
  // the pick. The caller has a barrier between its last writes of hist and spans and this call,
  // and between this call's return and its next writes of hist.
  __device__ Pick pick(const uint32_t* hist, int nbins, uint32_t remain, int pass, const uint2* spans) {
    const int b = pass & 1;
    const uint32_t parity = uint32_t(pass >> 1) & 1u;
    const uint32_t lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
    if (threadIdx.x == 0) {
      expect(&s.bars[b][0], C * (kGroups * 4u + (spans ? 8u : 0u)));  // every CTA's group sums (and span)
      expect(&s.bars[b][1], C * 32u * 4u);                            // every CTA's bins of the group
    }
    if (spans && warp == 0) {  // (1') this CTA's span to every CTA
      const bool mine = lane < unsigned(kThreads / 32);
      const uint32_t all = __reduce_and_sync(0xffffffffu, mine ? spans[lane].x : ~0u);
      const uint32_t any = __reduce_or_sync(0xffffffffu, mine ? spans[lane].y : 0u);
      if (lane < unsigned(C)) send(all, any, &s.spans[b][me], &s.bars[b][0], lane);
    }
    // (1) Warp w's group sums (bins [128 w, 128 w + 128), four a lane: lanes 8j to 8j + 7 hold
    // group 4w + j) to every CTA, at its group sums from this CTA.
    {
      const uint4 v = int(threadIdx.x) * 4 < nbins ? reinterpret_cast<const uint4*>(hist)[threadIdx.x]
                                                   : make_uint4(0u, 0u, 0u, 0u);
      uint32_t sum = v.x + v.y + v.z + v.w;
      sum += __shfl_xor_sync(0xffffffffu, sum, 1);
      sum += __shfl_xor_sync(0xffffffffu, sum, 2);
      sum += __shfl_xor_sync(0xffffffffu, sum, 4);
      const uint4 four = make_uint4(__shfl_sync(0xffffffffu, sum, 0), __shfl_sync(0xffffffffu, sum, 8),
                                    __shfl_sync(0xffffffffu, sum, 16), __shfl_sync(0xffffffffu, sum, 24));
      if (lane < unsigned(C)) send(four, &s.groups[b][me][4 * warp], &s.bars[b][0], lane);
    }
    wait(&s.bars[b][0], parity);
    uint2 span = make_uint2(0u, ~0u);
    if (spans) {
      span = make_uint2(~0u, 0u);
#pragma unroll
      for (int c = 0; c < C; ++c) span = make_uint2(span.x & s.spans[b][c].x, span.y | s.spans[b][c].y);
    }
    // (2) The group, in every warp: lane l adds up groups 2l and 2l + 1 over the CTAs.
    uint2 row = make_uint2(0u, 0u);
#pragma unroll
    for (int c = 0; c < C; ++c) {
      const uint2 g = reinterpret_cast<const uint2*>(s.groups[b][c])[lane];
      row.x += g.x, row.y += g.y;
    }
    int hit;
    const uint32_t pair_above = above_lane(row.x + row.y, remain, hit);
    // In the hit lane: the upper group if the remain-th count lies in it, else the lower.
    const bool upper = remain <= pair_above + row.y;
    const uint32_t group = 2u * uint32_t(hit) + uint32_t(__shfl_sync(0xffffffffu, upper, hit));
    const uint32_t group_above = __shfl_sync(0xffffffffu, upper ? pair_above : pair_above + row.y, hit);
    const uint2 own = reinterpret_cast<const uint2*>(s.groups[b][me])[lane];
    uint32_t my_above = (2 * lane > group ? own.x : 0u) + (2 * lane + 1 > group ? own.y : 0u);
    // (3) This CTA's bins of the group to every CTA (warp 0), at its bins from this CTA.
    if (warp == 0) {
      for (int i = int(lane); i < C * 8; i += 32) {
        const int to = i / 8, piece = i % 8, first = int(group) * 32 + piece * 4;
        const uint4 v = first < nbins ? reinterpret_cast<const uint4*>(hist + group * 32)[piece]
                                      : make_uint4(0u, 0u, 0u, 0u);  // a pass of fewer than 32 bins
        send(v, &s.bins[b][me][piece * 4], &s.bars[b][1], uint32_t(to));
      }
    }
    wait(&s.bars[b][1], parity);
    // (4) The bin, in every warp: lane l adds up bin 32 group + l over the CTAs.
    uint32_t count = 0;
#pragma unroll
    for (int c = 0; c < C; ++c) count += s.bins[b][c][lane];
    const uint32_t mine = s.bins[b][me][lane];
    const uint32_t bin_above = above_lane(count, remain - group_above, hit);
    my_above += lane > uint32_t(hit) ? mine : 0u;
    return {group * 32 + uint32_t(hit), group_above + __shfl_sync(0xffffffffu, bin_above, hit),
            __shfl_sync(0xffffffffu, count, hit), __reduce_add_sync(0xffffffffu, my_above),
            __shfl_sync(0xffffffffu, mine, hit), span};
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
