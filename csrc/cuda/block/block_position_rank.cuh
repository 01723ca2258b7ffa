// Ranks of a set of distinct positions in ascending order, without sorting: each window of
// positions becomes a bitmap in shared memory, a block scan of the words' popcounts gives each
// word's first rank, and a position's rank is that plus the popcount of the lower bits of its
// word. The work is the window length / 32 words plus a constant per entry, so ordering the k
// selections of a row costs far less than sorting them, and the result does not depend on the
// order the entries were found in (the bytes are the same on every run). The words' first ranks
// take 16 bits each, so that a window is 2/3 of the scratch rather than half of it (a row of
// 131072 in two windows instead of three: each window passes over every entry twice).
#pragma once
#include <cstdint>

#include "block_exclusive_sum.cuh"

namespace nsa::cuda {

template <int kThreads>
struct BlockPositionRank {
  using Sum = BlockExclusiveSum<kThreads>;
  struct Storage {
    typename Sum::Storage sum;
  };

  // For m < 65536 entries whose positions pos(i) (i < m) are distinct and lie in [0, length),
  // length < 2^31, calls visit(i, rank) once per entry with its rank in ascending position order.
  // `words` is scratch of scratch_words 32-bit words (a window's bitmap, then its words' first
  // ranks within the window, 16 bits each). Positions are taken in 32 bits: one unsigned compare
  // tells whether a position lies in the window. Every thread must call; begins and ends with a
  // barrier.
  template <class Pos, class Visit>
  __device__ static void rank(Storage& s, uint32_t m, uint32_t length, uint32_t* words, uint32_t scratch_words,
                              Pos&& pos, Visit&& visit) {
    const uint32_t window_words = scratch_words / 3 * 2;
    uint32_t* const bitmap = words;
    uint16_t* const first = reinterpret_cast<uint16_t*>(words + window_words);
    uint32_t ranked = 0;
    const uint32_t window = window_words * 32u;
    for (uint32_t lo = 0; lo < length; lo += window) {
      const uint32_t nwords = min(window_words, (length - lo + 31u) / 32u);
      __syncthreads();  // the previous window's readers are done
      for (uint32_t w = threadIdx.x; w < nwords; w += kThreads) bitmap[w] = 0;
      __syncthreads();
      for (uint32_t i = threadIdx.x; i < m; i += kThreads) {
        const uint32_t p = pos(i) - lo;
        if (p < window) atomicOr(&bitmap[p >> 5], 1u << (p & 31u));
      }
      __syncthreads();
      // Thread t owns a contiguous run of words, so an exclusive scan over threads orders them.
      const uint32_t per = (nwords + kThreads - 1) / kThreads;
      const uint32_t w0 = threadIdx.x * per, w1 = min(nwords, w0 + per);
      uint32_t sum = 0;
      for (uint32_t w = w0; w < w1; ++w) sum += __popc(bitmap[w]);
      uint32_t total;
      uint32_t before = Sum::run(s.sum, sum, &total);
      for (uint32_t w = w0; w < w1; ++w) {
        first[w] = uint16_t(before);
        before += __popc(bitmap[w]);
      }
      __syncthreads();
      for (uint32_t i = threadIdx.x; i < m; i += kThreads) {
        const uint32_t p = pos(i) - lo;
        if (p < window) visit(i, ranked + first[p >> 5] + uint32_t(__popc(bitmap[p >> 5] & ((1u << (p & 31u)) - 1u))));
      }
      ranked += total;
    }
    __syncthreads();
  }
};

}  // namespace nsa::cuda
