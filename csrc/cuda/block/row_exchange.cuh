// What the CTAs that share one row exchange: the register agent's row is held by one CTA
// (SoloRow: nothing to exchange, every method a no-op) or by a cluster of CTAs, a contiguous chunk
// each in rank order (ClusterRow). A cluster sums its histograms, its select's member statistics
// and its per-CTA counts through distributed shared memory by pushes only: each CTA stores into
// the others' shared memory, then a cluster barrier publishes the stores, and every read is of
// the CTA's own shared memory. So no CTA waits on a remote load, and once the last barrier is
// passed no CTA touches another's shared memory: each may leave.
#pragma once
#include <cooperative_groups.h>

#include <cstdint>

#include "cluster_ops.cuh"

namespace nsa::cuda {

// The counts of the CTAs before this one in the row (lower ranks: lower positions) and of all.
struct RowCounts {
  uint32_t above_before;  // elements above the cut
  uint32_t tied_before;   // elements tied with the cut
  uint32_t tied_all;
};

struct SoloRow {
  static constexpr bool kShared = false;
  static constexpr bool kZeroAlone = false;  // CoarseBins: 0.0 shares its bin with the tiniest positives
  __device__ static constexpr unsigned rank() { return 0; }
  __device__ static constexpr unsigned size() { return 1; }
  __device__ static void arrive() {}
  __device__ static void wait() {}
  __device__ static void sync() {}
  template <typename T>
  __device__ static T* at_first(T* p) { return p; }
  __device__ static void merge_hist(uint32_t*, int) {}
  __device__ static void merge_stats(uint32_t&, uint32_t&, uint32_t&) {}
  __device__ static RowCounts exchange(uint32_t, uint32_t tied) { return {0u, 0u, tied}; }
};

// One CTA's chunk of a row spread over the CTAs of a grid (the spread kernels): its rank is the
// chunk's index. Those CTAs exchange through global memory between kernels, never within one.
// 0.0 has a bin of its own (CoarseBins): a spread row whose k-th's bin overflows the candidates
// with several keys takes the batch agent, and ReLU rows' bin of zeros would otherwise hold the
// rare positive score below 2^-15 too.
struct ChunkRow : SoloRow {
  static constexpr bool kZeroAlone = true;
  unsigned index;
  __device__ unsigned rank() const { return index; }
};

// A ClusterRow's shared memory besides the histograms (static: the kernel's).
struct ClusterRowStorage {
  static constexpr int kMaxCtas = 16;  // Hopper's largest (non-portable) cluster
  uint32_t stats[kMaxCtas][3];         // each CTA's select statistics (OR, AND, count of its members)
  uint32_t counts[kMaxCtas][2];        // each CTA's elements above and tied with the cut
};

// Clusters exist from sm_90 on (cluster_ops.cuh): a device pass for an earlier GPU leaves this
// out, and its kernels never instantiate it.
#if NSA_TOPK_HAS_CLUSTERS
template <int kThreads>
struct ClusterRow {
  static constexpr bool kShared = true;
  static constexpr bool kZeroAlone = false;
  using Storage = ClusterRowStorage;
  using Ops = ClusterOps<ClusterRowStorage::kMaxCtas>;  // rank, barrier, remote address

  Storage& s;
  uint32_t* const recv;  // merge_hist's receiving area: bins + kMaxCtas words
  const unsigned rank_, size_;

  __device__ ClusterRow(Storage& s_, uint32_t* recv_)
      : s(s_),
        recv(recv_),
        rank_(Ops::rank()),
        size_(cooperative_groups::this_cluster().num_blocks()) {}

  __device__ unsigned rank() const { return rank_; }
  __device__ unsigned size() const { return size_; }

  // A CTA may store into another's shared memory only once that CTA runs: arrive() at the start,
  // wait() before the first store, with the loads in flight between them.
  __device__ static void arrive() { asm volatile("barrier.cluster.arrive.relaxed.aligned;\n" ::: "memory"); }
  __device__ static void wait() { asm volatile("barrier.cluster.wait.aligned;\n" ::: "memory"); }
  // The stores of every CTA before it, seen by every CTA after it.
  __device__ static void sync() { Ops::sync(); }

  template <typename T>
  __device__ static T* at(T* p, unsigned r) { return Ops::remote(p, r); }
  // The first CTA's copy of a shared-memory object (where the row's selections are staged).
  template <typename T>
  __device__ static T* at_first(T* p) { return at(p, 0); }

  // hist[0, bins): this CTA's counts in, the cluster's sums out, in every CTA. CTA c sums the
  // slice [c s, (c + 1) s) of the bins (s = bins / size), receiving each CTA's counts of it in
  // row `rank` of recv, and sends the sums back to all. A warp's lanes store to one CTA at
  // consecutive addresses, 16 bytes each where the slices allow (a store whose lanes go to
  // different CTAs is split among them). Every thread must call, after a barrier that completes
  // the counts; ends with a cluster barrier.
  __device__ void merge_hist(uint32_t* hist, int bins) const {
    const unsigned n = size_, slots = (unsigned(bins) + n - 1) / n;
    const bool vectors = slots % 4 == 0;  // then bins == n slots, powers of two
    if (vectors) {
      for (unsigned b = 4 * threadIdx.x; b < unsigned(bins); b += 4 * kThreads) {
        const unsigned owner = b / slots;
        *reinterpret_cast<uint4*>(at(recv, owner) + rank_ * slots + (b - owner * slots)) =
            *reinterpret_cast<const uint4*>(hist + b);
      }
    } else {
      for (unsigned b = threadIdx.x; b < unsigned(bins); b += kThreads) at(recv, b / slots)[rank_ * slots + b % slots] = hist[b];
    }
    sync();
    for (unsigned t = threadIdx.x; t < slots; t += kThreads) {
      uint32_t sum = 0;
      for (unsigned src = 0; src < n; ++src) sum += recv[src * slots + t];
      recv[t] = sum;  // only this thread reads slot t
    }
    __syncthreads();
    if (vectors) {
      for (unsigned i = 4 * threadIdx.x; i < n * slots; i += 4 * kThreads) {
        const unsigned dst = i / slots, t = i - dst * slots;
        *reinterpret_cast<uint4*>(at(hist, dst) + rank_ * slots + t) = *reinterpret_cast<const uint4*>(recv + t);
      }
    } else {
      for (unsigned i = threadIdx.x; i < n * slots; i += kThreads) {
        const unsigned dst = i / slots, t = i % slots, b = rank_ * slots + t;
        if (b < unsigned(bins)) at(hist, dst)[b] = recv[t];
      }
    }
    sync();
  }

  // The members' OR, AND and count over the cluster (every thread passes the CTA's, and gets the
  // cluster's). Ends with a cluster barrier.
  __device__ void merge_stats(uint32_t& any, uint32_t& all, uint32_t& count) const {
    if (threadIdx.x < size_) {
      uint32_t* const d = at(&s.stats[rank_][0], threadIdx.x);
      d[0] = any;
      d[1] = all;
      d[2] = count;
    }
    sync();
    any = count = 0;
    all = ~0u;
    for (unsigned src = 0; src < size_; ++src) {
      any |= s.stats[src][0];
      all &= s.stats[src][1];
      count += s.stats[src][2];
    }
  }

  // Every CTA's (above, tied) to every CTA; the sums before this one and of all. Ends with a
  // cluster barrier.
  __device__ RowCounts exchange(uint32_t above, uint32_t tied) const {
    if (threadIdx.x < size_) {
      uint32_t* const d = at(&s.counts[rank_][0], threadIdx.x);
      d[0] = above;
      d[1] = tied;
    }
    sync();
    RowCounts c{0u, 0u, 0u};
    for (unsigned src = 0; src < size_; ++src) {
      if (src < rank_) {
        c.above_before += s.counts[src][0];
        c.tied_before += s.counts[src][1];
      }
      c.tied_all += s.counts[src][1];
    }
    return c;
  }
};
#endif

}  // namespace nsa::cuda
