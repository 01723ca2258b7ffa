// What the radix kernel's CTAs of one row (a cluster of C > 1) exchange, without cluster
// barriers after the start: every transfer is an asynchronous store into another CTA's shared
// memory (st.async) whose bytes complete a transaction count on that CTA's mbarrier, and each
// CTA waits on its own mbarriers only. A cluster barrier's release is a GPU-scope fence on Hopper
// (MEMBAR.ALL.GPU: an L2 round trip; kernel-notes, "Without a GPU (session 40)"); an mbarrier
// wait is not.
//
// A pass's bin is picked in three small rounds, in the shared memory of one histogram beside the
// CTA's own: (1) each CTA sends slice s of its histogram (nbins / C bins) to CTA s, which sums
// the C copies of its slice; (2) each CTA sends its slice's sum to every CTA, so that all find
// the slice holding the remain-th count from the top; (3) that slice's CTA picks the bin in it
// and sends (bin, count above it, count in it) to every CTA. Every byte count is known before it
// is sent (slices are sent whole, zeros too), so each receiver expects exact counts.
//
// Buffers and mbarriers alternate by pass. A CTA's sends of pass n + 2 into a buffer come after it
// has the pick of pass n + 1, which needs every CTA's sends of pass n + 1, each made after its
// sender's last read of that buffer in pass n (at pass n's end).
#pragma once
#include <cstdint>

#include "cluster_ops.cuh"

namespace nsa::cuda {

// The exchange's shared memory, the same for every cluster size (RadixClusterStatic counts it).
template <int kThreads, int kMaxCtas>
struct ClusterExchangeStorage {
  uint64_t bars[2][3];  // [pass % 2]: slices in, slice sums in, pick in
  uint64_t counts_bar;  // the earlier CTAs' output counts in
  uint32_t sums[2][kMaxCtas];        // [pass % 2][s]: slice s's sum
  alignas(16) uint32_t pick[2][4];   // [pass % 2]: bin, above, count, unused
  uint32_t warp_sums[kThreads / 32];
};

template <int C, int kThreads, int kMaxCtas>
struct ClusterExchange {
  static_assert(C >= 1 && C <= kMaxCtas, "a cluster within the storage's CTAs");
  using Storage = ClusterExchangeStorage<kThreads, kMaxCtas>;

  // The pick of a pass, the same in every CTA.
  struct Pick {
    uint32_t bin, above, count;
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

  // Pass `pass`'s pick from every CTA's `hist` (nbins bins, nbins / C a multiple of 4), the
  // remain-th count from the top. `area` (kMaxBins words, 16-byte aligned, one per pass % 2) takes
  // the slices sent to this CTA. select(counts, n, remain, bin, above): the remain-th from the top
  // of n counts, the block's BucketSelect (every thread calls; it ends with a barrier). Every
  // thread calls; the caller has a barrier between its last writes of hist and this call, and
  // between this call's return and its next writes of hist.
  template <class Select>
  __device__ Pick pick(const uint32_t* hist, int nbins, uint32_t remain, int pass, uint32_t* area, Select&& select) {
    const int b = pass & 1;
    const uint32_t parity = uint32_t(pass >> 1) & 1u;
    const int slice = nbins / C;
    if (threadIdx.x == 0) {
      expect(&s.bars[b][0], uint32_t(nbins) * 4u);  // C copies of our slice
      expect(&s.bars[b][1], C * 4u);                // every slice's sum
      expect(&s.bars[b][2], 16u);                   // the pick
    }
    // (1) Slice t of our counts to CTA t, at its area's [me]-th slice, 16 bytes a store.
    const int pieces = slice / 4;
    for (int i = threadIdx.x; i < C * pieces; i += kThreads) {
      const int to = i / pieces, piece = i % pieces;
      send(reinterpret_cast<const uint4*>(hist + to * slice)[piece], area + me * slice + piece * 4, &s.bars[b][0],
           uint32_t(to));
    }
    wait(&s.bars[b][0], parity);
    // Our slice summed in place (into the area's first slice; each word is one thread's), and its sum.
    uint32_t mine = 0;
    for (int i = threadIdx.x; i < slice; i += kThreads) {
      uint32_t x = area[i];
#pragma unroll
      for (int c = 1; c < C; ++c) x += area[c * slice + i];
      area[i] = x;
      mine += x;
    }
    mine = __reduce_add_sync(0xffffffffu, mine);
    if ((threadIdx.x & 31u) == 0) s.warp_sums[threadIdx.x / 32] = mine;
    __syncthreads();
    if (threadIdx.x < 32) {
      uint32_t sum = threadIdx.x < kThreads / 32 ? s.warp_sums[threadIdx.x] : 0u;
      sum = __reduce_add_sync(0xffffffffu, sum);
      // (2) Our slice's sum to every CTA.
      if (threadIdx.x < unsigned(C)) send(sum, &s.sums[b][me], &s.bars[b][1], threadIdx.x);
    }
    wait(&s.bars[b][1], parity);
    // The slice of the remain-th count from the top, and the counts above it: the same in every CTA.
    uint32_t above = 0;
    int owner = C - 1;
    while (owner > 0 && above + s.sums[b][owner] < remain) above += s.sums[b][owner--];
    if (owner == int(me)) {  // the whole CTA: owner is the same for every thread
      uint32_t bin, in_above;
      select(area, slice, remain - above, bin, in_above);
      // (3) The pick to every CTA.
      if (threadIdx.x < unsigned(C))
        send(make_uint4(uint32_t(owner * slice) + bin, above + in_above, area[bin], 0u), s.pick[b], &s.bars[b][2],
             threadIdx.x);
    }
    wait(&s.bars[b][2], parity);
    return {s.pick[b][0], s.pick[b][1], s.pick[b][2]};
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
