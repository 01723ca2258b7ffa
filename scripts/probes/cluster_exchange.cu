// What one round of a cluster's histogram exchange costs on the GPU, by the way it is made: the
// numbers behind the choice of the radix clusters' exchange (docs/kernel-notes.md, "Without a
// GPU (session 40)"). Standalone but for the groups way, which runs the radix kernel's own pick
// (csrc/cuda/block/cluster_exchange.cuh). scripts/probes/build.sh builds it into
// build/probes; on the GPU machine: build/probes/cluster_exchange [clusters...] (default: 1, 8
// and 16 clusters of each size), or scripts/gpu-suite.sh --only probes.
//
// Each cluster of C CTAs (512 threads, the radix kernel's) runs kRounds rounds of an all-reduce
// of a 2048-bin histogram (the radix kernel's first digit), every bin nonzero, and checks the
// sums. A round's cost is the time of 2 kRounds rounds less that of kRounds, over kRounds (CUDA
// events, medians of 7 launches): the launch, the start and the exit cancel. The data ways fill
// and check the histogram every round; the barrier ways do neither. Ways:
//   barrier     a cluster barrier alone (arrive.release + wait.acquire), no data
//   relaxed     a cluster barrier with arrive.relaxed: no release fence (what the fence costs)
//   scatter     v6 step 27's: barrier; each CTA sums its slice of the bins from every CTA's
//               histogram (remote loads) and stores the sums into every CTA; barrier
//   atomics     v6 step 29's: each CTA adds its bins into every CTA's total by remote atomics,
//               then one barrier (totals alternate between two buffers by round)
//   mbarrier    no cluster barrier after the start: each CTA sends slice r of its histogram to
//               CTA r by st.async (16 bytes a store), which counts the bytes on CTA r's
//               mbarrier; CTA r waits for them, sums the slice and sends the sums to every CTA
//               the same way; every CTA waits for the whole histogram. Buffers and mbarriers
//               alternate by round.
//   lean        the same reduce-scatter, then each CTA sends only its slice's sum to every CTA,
//               and the owner of the slice holding a target count sends (its first bin, the
//               count above the slice) to every CTA: three small dependent rounds, no totals
//               (what a radix pass needs to pick its bin, in the shared memory step 29 has; the
//               owner's pick inside its slice is left out)
//   groups      the radix kernel's pick since v6 step 33 (ClusterExchange::pick): each CTA's sums
//               of groups of 32 bins to every CTA, every warp finds the group of a target count,
//               then each CTA's bins of that group to every CTA, every warp finds the bin, for
//               passes of 2048, 1024 and 32 bins in turn and targets anywhere in the total; every
//               warp's pick is checked every round (its bin's counts, and in the first three
//               rounds the counts above it). The pick has no watchdog: run the probe under
//               `timeout`. Unlike lean, it includes the pick inside the owner's bins.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cuda/block/cluster_exchange.cuh"

namespace cg = cooperative_groups;

constexpr int kThreads = 512;
constexpr int kBins = 2048;
constexpr int kRounds = 256;

enum Way { kBarrier, kRelaxed, kScatter, kAtomics, kMbarrier, kLean, kGroups, kWays };
const char* const kWayNames[kWays] = {"barrier", "relaxed", "scatter", "atomics", "mbarrier", "lean", "groups"};

__device__ __forceinline__ uint32_t smem_addr(const void* p) { return uint32_t(__cvta_generic_to_shared(p)); }
__device__ __forceinline__ uint32_t map_rank(uint32_t addr, uint32_t rank) {
  uint32_t out;
  asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(out) : "r"(addr), "r"(rank));
  return out;
}
__device__ __forceinline__ void arrive_release() { asm volatile("barrier.cluster.arrive.release.aligned;" ::: "memory"); }
__device__ __forceinline__ void arrive_relaxed() { asm volatile("barrier.cluster.arrive.relaxed.aligned;" ::: "memory"); }
__device__ __forceinline__ void wait_acquire() { asm volatile("barrier.cluster.wait.acquire.aligned;" ::: "memory"); }

__device__ __forceinline__ void mbar_init(uint64_t* bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(smem_addr(bar)), "r"(count) : "memory");
}
__device__ __forceinline__ void mbar_expect(uint64_t* bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_addr(bar)), "r"(bytes) : "memory");
}
__device__ __forceinline__ uint64_t global_ns() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}
// Waits for the completion of the phase of `bar` with parity `parity`, acquiring at cluster scope
// what the senders' complete-tx released (PTX: st.async's complete-tx is .release.cluster). A
// watchdog: a phase not complete after a second traps, so that a protocol bug costs a second of
// GPU time, not the command's whole limit.
__device__ __forceinline__ void mbar_wait(uint64_t* bar, uint32_t parity) {
  uint32_t done = 0;
  uint64_t t0 = 0;
  for (;;) {
    asm volatile(
        "{\n .reg .pred p;\n"
        " mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64 p, [%1], %2;\n"
        " selp.u32 %0, 1, 0, p;\n}"
        : "=r"(done)
        : "r"(smem_addr(bar)), "r"(parity)
        : "memory");
    if (done) return;
    if (t0 == 0) t0 = global_ns();
    else if (global_ns() - t0 > 1000000000ull) {
      printf("mbarrier wait timed out: block %d thread %d parity %u\n", blockIdx.x, threadIdx.x, parity);
      __trap();
    }
  }
}
// 4 bytes into CTA `rank`'s copy of `dst`, counted on its copy of `bar`.
__device__ __forceinline__ void send4(uint32_t v, uint32_t dst, uint64_t* bar, uint32_t rank) {
  asm volatile("st.async.shared::cluster.mbarrier::complete_tx::bytes.b32 [%0], %1, [%2];" ::"r"(map_rank(dst, rank)),
               "r"(v), "r"(map_rank(smem_addr(bar), rank))
               : "memory");
}
// 16 bytes into CTA `rank`'s copy of `dst`, counted on its copy of `bar`.
__device__ __forceinline__ void send16(const uint4& v, uint32_t dst, uint64_t* bar, uint32_t rank) {
  asm volatile("st.async.shared::cluster.mbarrier::complete_tx::bytes.v4.b32 [%0], {%1, %2, %3, %4}, [%5];" ::"r"(
                   map_rank(dst, rank)),
               "r"(v.x), "r"(v.y), "r"(v.z), "r"(v.w), "r"(map_rank(smem_addr(bar), rank))
               : "memory");
}

// The histogram of CTA `rank` in round `round`, bin `b`: nonzero, different per CTA and round.
__device__ __host__ inline uint32_t count_of(uint32_t rank, uint32_t round, uint32_t b) {
  return (rank + 1) * 7 + (b * 13 + round) % 97;
}

// groups: a round's bins, and the sums over b < bins of (b * 13 + round) % 97 by round % 97 (a
// round's total over the cluster, made on the host: count_of's second term is every CTA's).
__host__ __device__ constexpr int groups_bins(uint32_t i) { return i == 0 ? 2048 : i == 1 ? 1024 : 32; }
__constant__ uint32_t c_bin_sums[3][97];
void make_bin_sums() {
  uint32_t sums[3][97] = {};
  for (int i = 0; i < 3; ++i)
    for (uint32_t r = 0; r < 97; ++r)
      for (uint32_t b = 0; b < uint32_t(groups_bins(i)); ++b) sums[i][r] += (b * 13 + r) % 97;
  cudaMemcpyToSymbol(c_bin_sums, sums, sizeof sums);
}

template <int C, Way W>
__global__ void __launch_bounds__(kThreads) exchange_kernel(uint32_t* errors, uint32_t rounds) {
  __shared__ __align__(16) uint32_t hist[kBins];
  __shared__ __align__(16) uint32_t total[2][kBins];
  __shared__ __align__(16) uint32_t slice[2][kBins];  // mbarrier, lean: the slices sent to this CTA
  __shared__ uint32_t sums[2][8];                     // lean: each CTA's slice sum
  __shared__ __align__(16) uint32_t pick[2][4];       // lean: the owner's (first bin, count above)
  __shared__ __align__(8) uint64_t bars[2][3];        // [buffer][slices in, sums in, pick in]
  using Groups = nsa::cuda::ClusterExchange<C, kThreads, kBins, 8>;
  __shared__ typename Groups::Storage groups_s;  // groups: the kernel's exchange
  __shared__ uint32_t checked_above[2];          // groups: the row's and this CTA's counts above the bin
  auto cluster = cg::this_cluster();
  const uint32_t me = cluster.block_rank();
  constexpr int kSlice = kBins / C;

  for (int i = threadIdx.x; i < kBins; i += kThreads) total[0][i] = total[1][i] = 0;
  if ((W == kMbarrier || W == kLean) && threadIdx.x == 0) {
    for (auto& set : bars)
      for (auto& bar : set) mbar_init(&bar, 1);
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  Groups groups(groups_s);
  if constexpr (W == kGroups) groups.init();
  __syncthreads();
  cluster.sync();  // every CTA started, its buffers zeroed and mbarriers made

  // mbarrier, lean: slice r of this CTA's histogram, in 16-byte pieces, to CTA r, at slot [me]
  // of its slice buffer, counted on its mbarrier of the buffer's slices.
  auto scatter_slices = [&](int buf) {
    constexpr int kPieces = kSlice / 4;
    for (int i = threadIdx.x; i < C * kPieces; i += kThreads) {
      const uint32_t to = i / kPieces, piece = i % kPieces;
      const uint4 v = reinterpret_cast<const uint4*>(hist + to * kSlice)[piece];
      send16(v, smem_addr(&slice[buf][me * kSlice + piece * 4]), &bars[buf][0], to);
    }
  };

  uint32_t bad = 0;
#pragma unroll 1  // one loop body for every way (nvcc unrolled the barrier ways' 256 rounds)
  for (uint32_t round = 0; round < rounds; ++round) {
    const int buf = round & 1;
    for (int i = threadIdx.x; i < kBins; i += kThreads) hist[i] = count_of(me, round, i);
    __syncthreads();
    if constexpr (W == kBarrier || W == kRelaxed) {
      if (W == kBarrier) arrive_release();
      else arrive_relaxed();
      wait_acquire();
      continue;
    } else if constexpr (W == kScatter) {
      cluster.sync();
      for (int i = me * kSlice + threadIdx.x; i < (me + 1) * kSlice; i += kThreads) {
        uint32_t s = 0;
        for (int c = 0; c < C; ++c) s += cluster.map_shared_rank(hist, c)[i];
        for (int c = 0; c < C; ++c) cluster.map_shared_rank(total[0], c)[i] = s;
      }
      cluster.sync();
      for (int i = threadIdx.x; i < kBins; i += kThreads) {
        uint32_t want = 0;
        for (int c = 0; c < C; ++c) want += count_of(c, round, i);
        bad += total[0][i] != want;
      }
      // Like step 27: peers read hist and write total only between a round's two barriers.
    } else if constexpr (W == kAtomics) {
      for (int step = 0; step < C; ++step) {
        const uint32_t to = (me + step) % C;
        uint32_t* dst = cluster.map_shared_rank(total[buf], to);
        for (int i = threadIdx.x; i < kBins; i += kThreads) atomicAdd(dst + i, hist[i]);
      }
      for (int i = threadIdx.x; i < kBins; i += kThreads) total[buf ^ 1][i] = 0;
      cluster.sync();
      for (int i = threadIdx.x; i < kBins; i += kThreads) {
        uint32_t want = 0;
        for (int c = 0; c < C; ++c) want += count_of(c, round, i);
        bad += total[buf][i] != want;
      }
      __syncthreads();
    } else if constexpr (W == kGroups) {
      // Passes of 2048, 1024 and 32 bins in turn (the bins past nbins hold stale counts, as in
      // the kernel), and a target anywhere in the row's total.
      const int nbins = groups_bins(round % 3);
      const uint32_t total = uint32_t(nbins) * 7u * C * (C + 1) / 2 + C * c_bin_sums[round % 3][round % 97];
      const uint32_t target = 1u + round * 2654435761u % total;
      const auto pick = groups.pick(hist, nbins, target, int(round), nullptr);
      uint32_t count = 0;
      for (int c = 0; c < C; ++c) count += count_of(c, round, pick.bin);
      const bool lead = (threadIdx.x & 31u) == 0;  // every warp's pick is checked
      bad += lead && (pick.bin >= uint32_t(nbins) || pick.count != count || pick.my_count != count_of(me, round, pick.bin));
      if (round < 3) {  // the counts above the bin, row-wide and this CTA's (C x nbins terms)
        if (threadIdx.x == 0) checked_above[0] = checked_above[1] = 0;
        __syncthreads();
        uint32_t above = 0, mine = 0;
        for (uint32_t b = pick.bin + 1 + threadIdx.x; b < uint32_t(nbins); b += kThreads) {
          mine += count_of(me, round, b);
          for (int c = 0; c < C; ++c) above += count_of(c, round, b);
        }
        atomicAdd(&checked_above[0], above);
        atomicAdd(&checked_above[1], mine);
        __syncthreads();
        bad += lead && (checked_above[0] != pick.above || checked_above[1] != pick.my_above ||
                        !(pick.above < target && target <= pick.above + pick.count));
      }
      __syncthreads();  // hist is rewritten next round
    } else if constexpr (W == kLean) {
      // This round's phase of bars[buf] is its (round / 2)-th.
      const uint32_t parity = (round >> 1) & 1;
      if (threadIdx.x == 0) {
        mbar_expect(&bars[buf][0], C * kSlice * 4);  // every CTA's copy of our slice
        mbar_expect(&bars[buf][1], C * 4);           // every CTA's slice sum
        mbar_expect(&bars[buf][2], 16);              // the owner's pick
      }
      scatter_slices(buf);
      mbar_wait(&bars[buf][0], parity);
      for (int i = threadIdx.x; i < kSlice; i += kThreads) {  // our slice's sums, kept here
        uint32_t s = 0, want = 0;
        for (int c = 0; c < C; ++c) s += slice[buf][c * kSlice + i], want += count_of(c, round, me * kSlice + i);
        total[buf][i] = s;
        bad += s != want;
      }
      __syncthreads();
      if (threadIdx.x < 32) {
        uint32_t s = 0;
        for (int i = threadIdx.x; i < kSlice; i += 32) s += total[buf][i];
        s = __reduce_add_sync(0xffffffffu, s);
        if (threadIdx.x < C) send4(s, smem_addr(&sums[buf][me]), &bars[buf][1], threadIdx.x);
      }
      mbar_wait(&bars[buf][1], parity);
      // The slice holding the target-th count from the top (a third of all), as every CTA finds it.
      uint32_t all = 0;
      for (int c = 0; c < C; ++c) all += sums[buf][c];
      uint32_t above = 0;
      int owner = C - 1;
      while (owner > 0 && above + sums[buf][owner] < all / 3) above += sums[buf][owner--];
      if (owner == int(me) && threadIdx.x < C)
        send16(make_uint4(uint32_t(owner * kSlice), above, 0, 0), smem_addr(pick[buf]), &bars[buf][2], threadIdx.x);
      mbar_wait(&bars[buf][2], parity);
      bad += pick[buf][0] != uint32_t(owner * kSlice) || pick[buf][1] != above;
      if (round < 2 && threadIdx.x < C) {  // the slice sums, checked in two rounds only (C x kSlice terms)
        uint32_t want = 0;
        for (int i = 0; i < kSlice; ++i)
          for (int c = 0; c < C; ++c) want += count_of(c, round, threadIdx.x * kSlice + i);
        bad += sums[buf][threadIdx.x] != want;
      }
      __syncthreads();  // hist is rewritten next round
    } else {
      // mbarrier: this round's phase of bars[buf] is its (round / 2)-th.
      const uint32_t parity = (round >> 1) & 1;
      if (threadIdx.x == 0) {
        mbar_expect(&bars[buf][0], C * kSlice * 4);  // every CTA's copy of our slice
        mbar_expect(&bars[buf][1], kBins * 4);       // every slice's sums
      }
      scatter_slices(buf);
      mbar_wait(&bars[buf][0], parity);
      constexpr int kPieces = kSlice / 4;
      for (int i = threadIdx.x; i < C * kPieces; i += kThreads) {
        const uint32_t to = i / kPieces, piece = i % kPieces;
        uint4 s = make_uint4(0, 0, 0, 0);
        for (int c = 0; c < C; ++c) {
          const uint4 v = reinterpret_cast<const uint4*>(&slice[buf][c * kSlice])[piece];
          s.x += v.x, s.y += v.y, s.z += v.z, s.w += v.w;
        }
        send16(s, smem_addr(&total[buf][me * kSlice + piece * 4]), &bars[buf][1], to);
      }
      mbar_wait(&bars[buf][1], parity);
      for (int i = threadIdx.x; i < kBins; i += kThreads) {
        uint32_t want = 0;
        for (int c = 0; c < C; ++c) want += count_of(c, round, i);
        bad += total[buf][i] != want;
      }
      __syncthreads();  // hist is rewritten next round
    }
  }
  if (bad) atomicAdd(errors, bad);
  if constexpr (W == kMbarrier || W == kLean || W == kGroups) cluster.sync();  // no CTA leaves while sends into it may be in flight
}

uint64_t g_wrong = 0;

void check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(err));
  exit(1);
}

// Median kernel time (ms) of 7 launches (after one untimed) of `rounds` rounds.
template <int C, Way W>
float time_rounds(const cudaLaunchConfig_t& cfg, uint32_t* errors, uint32_t rounds) {
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "event");
  check(cudaEventCreate(&stop), "event");
  std::vector<float> ms;
  for (int rep = 0; rep < 8; ++rep) {
    check(cudaEventRecord(start), "record");
    check(cudaLaunchKernelEx(&cfg, exchange_kernel<C, W>, errors, rounds), "launch");
    check(cudaEventRecord(stop), "record");
    check(cudaEventSynchronize(stop), "kernel");
    float t = 0;
    check(cudaEventElapsedTime(&t, start, stop), "elapsed");
    if (rep) ms.push_back(t);  // the first launch loads the module
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// us per round: the difference of 2 x kRounds and kRounds rounds over kRounds, which takes out
// the launch, the start and the exit. Wrong sums are counted per way.
template <int C, Way W>
float time_way(int clusters, uint32_t* errors) {
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(clusters * C);
  cfg.blockDim = dim3(kThreads);
  cudaLaunchAttribute attr{};
  attr.id = cudaLaunchAttributeClusterDimension;
  attr.val.clusterDim.x = C, attr.val.clusterDim.y = 1, attr.val.clusterDim.z = 1;
  cfg.attrs = &attr;
  cfg.numAttrs = 1;
  check(cudaMemset(errors, 0, sizeof(uint32_t)), "clear errors");
  const float once = time_rounds<C, W>(cfg, errors, kRounds), twice = time_rounds<C, W>(cfg, errors, 2 * kRounds);
  uint32_t wrong = 0;
  check(cudaMemcpy(&wrong, errors, sizeof(uint32_t), cudaMemcpyDeviceToHost), "read errors");
  if (wrong) printf(" [%s: %u wrong sums]", kWayNames[W], wrong);
  g_wrong += wrong;
  return (twice - once) * 1e3f / kRounds;
}

template <int C>
void run_size(const std::vector<int>& clusters, uint32_t* errors) {
  for (int n : clusters) {
    printf("C = %d, %3d clusters:", C, n);
    float t[kWays] = {time_way<C, kBarrier>(n, errors), time_way<C, kRelaxed>(n, errors),
                      time_way<C, kScatter>(n, errors), time_way<C, kAtomics>(n, errors),
                      time_way<C, kMbarrier>(n, errors), time_way<C, kLean>(n, errors),
                      time_way<C, kGroups>(n, errors)};
    for (int w = 0; w < kWays; ++w) printf("  %s %.3f", kWayNames[w], t[w]);
    printf("   us/round\n");
  }
}

int main(int argc, char** argv) {
  std::vector<int> clusters;
  for (int i = 1; i < argc; ++i) clusters.push_back(atoi(argv[i]));
  if (clusters.empty()) clusters = {1, 8, 16};
  uint32_t* errors = nullptr;
  check(cudaMalloc(&errors, sizeof(uint32_t)), "malloc");
  make_bin_sums();
  run_size<2>(clusters, errors);
  run_size<4>(clusters, errors);
  run_size<8>(clusters, errors);
  printf("wrong sums: %llu\n", (unsigned long long)g_wrong);
  return g_wrong != 0;
}
