// One radix pass's decision, from a histogram already summed over the row: which bin holds the
// kRemain-th greatest element, and how many elements lie in greater bins.
#pragma once
#include <cstdint>

#include <cub/block/block_scan.cuh>

namespace nsa::cuda {

template <int kThreads, int kMaxBins>
struct BucketSelect {
  using Scan = cub::BlockScan<uint32_t, kThreads>;
  static constexpr int kMaxPer = (kMaxBins + kThreads - 1) / kThreads;

  struct Storage {
    typename Scan::TempStorage scan;
    uint32_t bin;    // the chosen bin b
    uint32_t above;  // elements (row-wide) in bins > b
  };

  // Bin b with above(b) < kRemain <= above(b) + hist[b], for 1 <= kRemain <= sum(hist).
  // Thread t owns a run of bins in descending bin order, so an exclusive scan over threads counts
  // the elements above each run. Every thread of the block must call it; ends with a barrier.
  __device__ static void run(Storage& s, const uint32_t* hist, int nbins, uint32_t kRemain) {
    const int per = (nbins + kThreads - 1) / kThreads;
    const int first = nbins - 1 - int(threadIdx.x) * per;  // highest bin of this thread's run
    uint32_t sum = 0;
    for (int i = 0; i < per; ++i) {
      const int b = first - i;
      if (b >= 0) sum += hist[b];
    }
    uint32_t above;
    Scan(s.scan).ExclusiveSum(sum, above);
    if (above < kRemain && kRemain <= above + sum) {
      for (int i = 0; i < per; ++i) {
        const int b = first - i;
        const uint32_t h = hist[b];
        if (kRemain <= above + h) {
          s.bin = uint32_t(b);
          s.above = above;
          break;
        }
        above += h;
      }
    }
    __syncthreads();
  }
};

}  // namespace nsa::cuda
