// Ranks of a set of distinct positions in ascending order, without sorting: each window of
// positions becomes a bitmap in shared memory, a block scan of the words' popcounts gives each
// word's first rank, and a position's rank is that plus the popcount of the lower bits of its
// word. The work is the window length / 32 words plus a constant per entry, so ordering the k
// selections of a row costs far less than sorting them, and the result does not depend on the
// order the entries were found in (the bytes are the same on every run). The words' first ranks
// take 16 bits each, so that a window is 2/3 of the scratch rather than half of it (a row of
// 131072 in two windows instead of three: each window passes over every entry twice). list()
// ranks the members of a subset in one window, straight from where the entries lie.
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
  // length < 2^31, m <= 32 kThreads, calls visit(i, rank) once per entry with its rank in
  // ascending position order. `words` is scratch of scratch_words 32-bit words (a window's
  // bitmap, then its words' first ranks within the window, 16 bits each). Positions are taken in
  // 32 bits: one unsigned compare tells whether a position lies in the window. Every thread must
  // call; begins and ends with a barrier.
  template <class Pos, class Visit>
  __device__ static void rank(Storage& s, uint32_t m, uint32_t length, uint32_t* words, uint32_t scratch_words,
                              Pos&& pos, Visit&& visit) {
    const uint32_t window_words = scratch_words / 3 * 2;
    uint16_t* const first = reinterpret_cast<uint16_t*>(words + window_words);
    auto take = [&](uint32_t i, uint32_t& p) {
      p = pos(i);
      return true;
    };
    uint32_t ranked = 0;
    for (uint32_t lo = 0; lo < length; lo += window_words * 32u)
      ranked += window(s, m, lo, min(window_words, (length - lo + 31u) / 32u), words, first, ranked, take, pos, visit);
    __syncthreads();
  }

  // rank() for the entries that take(i, p) admits, setting p = pos(i), in one window: `bitmap`
  // holds ceil(length / 32) words and `first` as many 16-bit entries (the words' first ranks),
  // given apart, and take() is asked once an entry, before any visit, so that the visits may
  // overwrite what take() read (the batch agent lists its kept candidates into their own keys'
  // storage). m <= 32 kThreads, fewer than 65536 admitted. Every thread must call; begins and
  // ends with a barrier.
  template <class Take, class Pos, class Visit>
  __device__ static void list(Storage& s, uint32_t m, uint32_t length, uint32_t* bitmap, uint16_t* first, Take&& take,
                              Pos&& pos, Visit&& visit) {
    window(s, m, 0u, (length + 31u) / 32u, bitmap, first, 0u, take, pos, visit);
    __syncthreads();
  }

 private:
  // Positions [lo, lo + 32 nwords): the admitted entries there ranked and visited from `ranked`
  // on; returns how many. A thread remembers which of its entries (threadIdx.x + j kThreads, bit
  // j) it admitted, so take() is asked once. Begins with a barrier.
  template <class Take, class Pos, class Visit>
  __device__ static uint32_t window(Storage& s, uint32_t m, uint32_t lo, uint32_t nwords, uint32_t* bitmap,
                                    uint16_t* first, uint32_t ranked, Take& take, Pos& pos, Visit& visit) {
    const uint32_t window = nwords * 32u;
    __syncthreads();  // the previous window's readers are done
    for (uint32_t w = threadIdx.x; w < nwords; w += kThreads) bitmap[w] = 0;
    __syncthreads();
    uint32_t admitted = 0;
    for (uint32_t i = threadIdx.x, j = 0; i < m; i += kThreads, ++j) {
      uint32_t p;
      if (take(i, p) && p - lo < window) {
        atomicOr(&bitmap[(p - lo) >> 5], 1u << ((p - lo) & 31u));
        admitted |= 1u << j;
      }
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
    for (uint32_t bits = admitted; bits; bits &= bits - 1u) {
      const uint32_t i = threadIdx.x + uint32_t(__ffs(int(bits)) - 1) * kThreads;
      const uint32_t p = pos(i) - lo;
      visit(i, ranked + first[p >> 5] + uint32_t(__popc(bitmap[p >> 5] & ((1u << (p & 31u)) - 1u))));
    }
    return total;
  }
};

}  // namespace nsa::cuda
