// One radix pass's decision, from a histogram already summed over the row: which bin holds the
// kRemain-th greatest element, and how many elements lie in greater bins.
#pragma once
#include <cstdint>

#include "block_exclusive_sum.cuh"

namespace nsa::cuda {

template <int kThreads, int kMaxBins>
struct BucketSelect {
  using Sum = BlockExclusiveSum<kThreads>;
  static constexpr int kPer = kMaxBins / kThreads;  // bins a thread sums
  static_assert(kMaxBins % kThreads == 0, "whole runs of bins");

  struct Storage {
    typename Sum::Storage sum;
    uint32_t bin;    // the chosen bin b
    uint32_t above;  // elements (row-wide) in bins > b
  };

  // Bin b with above(b) < kRemain <= above(b) + hist[b], for 1 <= kRemain <= sum(hist[0, nbins)).
  // `hist` holds kMaxBins words (those from nbins on count as 0) and is 16-byte aligned. Thread t
  // owns kPer bins in descending bin order (thread 0 the highest), read as 16-byte vectors, so
  // that an exclusive sum over the threads counts the elements above each run; the thread whose
  // run holds the kRemain-th finds its bin in its registers. Every thread of the
  // block must call it; ends with a barrier. (Strided runs read twice, 4- to 8-way bank conflicts
  // each, and cub::BlockScan cost 256-thread batch CTAs 4-6%: kernel-notes, v6 step 15.)
  __device__ static void run(Storage& s, const uint32_t* hist, int nbins, uint32_t kRemain) {
    const int low = kMaxBins - int(threadIdx.x + 1) * kPer;  // the run's lowest bin
    uint32_t h[kPer];
    if constexpr (kPer % 4 == 0) {
#pragma unroll
      for (int j = 0; j < kPer / 4; ++j) {
        const uint4 v = reinterpret_cast<const uint4*>(hist + low)[j];
        h[4 * j] = v.x;
        h[4 * j + 1] = v.y;
        h[4 * j + 2] = v.z;
        h[4 * j + 3] = v.w;
      }
    } else {
#pragma unroll
      for (int i = 0; i < kPer; ++i) h[i] = hist[low + i];
    }
    uint32_t sum = 0;
#pragma unroll
    for (int i = 0; i < kPer; ++i) {
      if (low + i >= nbins) h[i] = 0;
      sum += h[i];
    }
    // A previous call's reads of the sum's storage came before its closing barrier.
    uint32_t above = Sum::run(s.sum, sum);
    if (above < kRemain && kRemain <= above + sum) {
#pragma unroll
      for (int i = kPer - 1; i >= 0; --i) {
        if (kRemain <= above + h[i]) {
          s.bin = uint32_t(low + i);
          s.above = above;
          break;
        }
        above += h[i];
      }
    }
    __syncthreads();
  }
};

}  // namespace nsa::cuda
