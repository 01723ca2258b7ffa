// The last stage of the one-CTA-per-row kernels: a row's selections, staged in shared memory by
// ascending position, written out (through the fused index transform, with values when asked),
// sorted by key first when the output is sorted. Output modes are template parameters.
#pragma once
#include <cstdint>

#include <cub/block/block_radix_sort.cuh>

#include "../../common/key_traits.h"
#include "../kernels/output.cuh"
#include "block_clear.cuh"
#include "block_exclusive_sum.cuh"

namespace nsa::cuda {

template <int kThreads, int kMaxK, class Traits>
struct BlockStageWrite {
  using Bits = typename Traits::Bits;
  template <int kItems>
  using Sort = cub::BlockRadixSort<uint32_t, kThreads, kItems, int32_t>;
  // The bin sort: kMaxK bins over the selections' key range, a bin of at most kBinRank entries
  // ranked by its order words (the key's bits below the bin, then the reversed stage index).
  static constexpr int kIndexBits = __builtin_ctz(unsigned(kMaxK));
  static constexpr uint32_t kLastBin = kMaxK - 1;
  // A bin's rank costs its size squared: larger bins send the row to the radix sort.
  static constexpr uint32_t kBinRank = 32;
  static constexpr int kBinsPerThread = kMaxK / kThreads;
  static_assert((kMaxK & (kMaxK - 1)) == 0 && kMaxK % kThreads == 0 && kMaxK < 65536,
                "whole bins a thread; 16-bit halves: the scan's counts, a bin's start and cursor");
  using Sum = BlockExclusiveSum<kThreads>;
  struct BinStorage {
    // Counts; after their scan a bin's first slot (high 16 bits) and its cursor (low 16 bits),
    // the cursor its end once the scatter has placed the bin's words.
    uint32_t bins[kMaxK];
    uint16_t bin_of[kMaxK];  // each slot's bin, from the scatter: its rank reads its bounds there
    typename Sum::Storage sum;
    uint32_t lo[kThreads / 32], hi[kThreads / 32];  // the warps' least and greatest keys
  };
  // The radix sort's storage (k up to kMaxK) or the bin sort's.
  using RadixStorage = typename Sort<kMaxK / kThreads>::TempStorage;
  union SortStorage {
    RadixStorage radix;
    BinStorage bin;
  };
  static_assert(sizeof(typename Sort<kMaxK / kThreads / 2>::TempStorage) <= sizeof(RadixStorage),
                "the sort of k <= kMaxK / 2 fits the storage too");

  // The stage in shared memory: positions[k]; with sorted output keys[k] (the selections' keys)
  // and the sort's storage.
  struct Stage {
    uint32_t* positions;
    uint32_t* keys;
    SortStorage* sort;
  };

  // Row r's k output slots: the stage's first m positions, then padding (-1). Sorted output is
  // ordered by key, descending, stably (callers stage tied keys in the contract's order). Every
  // thread must call; begins with a barrier.
  __device__ static void run(const TopKArgs& a, const OutputSpec& out, bool sorted, int64_t r, const Bits* row,
                             uint32_t m, const Stage& st) {
    const uint32_t k = uint32_t(out.k);
    if (sorted) sort_stage(k, m, st);
    __syncthreads();
    const bool values = out.write_values;
    switch (out.transform) {
      case Transform::Ragged:
        return values ? write<true, Transform::Ragged>(a, out, r, row, m, st)
                      : write<false, Transform::Ragged>(a, out, r, row, m, st);
      case Transform::PageTable:
        return values ? write<true, Transform::PageTable>(a, out, r, row, m, st)
                      : write<false, Transform::PageTable>(a, out, r, row, m, st);
      default:
        return values ? write<true, Transform::None>(a, out, r, row, m, st)
                      : write<false, Transform::None>(a, out, r, row, m, st);
    }
  }

 private:
  // Orders the stage's first m entries by key, descending; stable, so ties keep stage order.
  // Entries are counted into bins of the range [lo, hi] of their keys (the greatest in bin 0),
  // the bins scanned, each entry's order word placed in its bin, and each slot's word ranked
  // within its bin: ~7 barriers where cub's radix sort takes 8 passes of 4 bits (kernel notes,
  // v6 steps 74-75). A bin of more than kBinRank entries sends the row to the radix sort, unless
  // it is the least key's bin holding only that key (the cut's plateau: ReLU rows, equal
  // scores), whose entries take the last slots in stage order. Deterministic: the atomics only
  // place words within a bin; ranks follow from the words. One instance for every k, so that
  // the radix sort's two (half the items where k allows) stay the only copies.
  __device__ static void sort_stage(uint32_t k, uint32_t m, const Stage& st) {
    constexpr int kItems = kMaxK / kThreads;
    auto& bs = st.sort->bin;
    const uint32_t lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
    __syncthreads();
    if (m < 2) return;
    // The thread's entries: `per` of them from `first`, in stage order, spread over every thread.
    const uint32_t per = (m + kThreads - 1) / kThreads, first = threadIdx.x * per;
    const auto held = [&](int j) { return uint32_t(j) < per && first + j < m; };
    uint32_t key[kItems];
    // 16-byte loads: one word at a time, a thread's words met 8-way bank conflicts.
    if (kItems % 4 == 0 && per % 4 == 0) {
#pragma unroll
      for (int v = 0; v < kItems / 4; ++v) {
        if (uint32_t(4 * v) >= per) break;  // within the stage: first + per <= kMaxK
        const uint4 x = reinterpret_cast<const uint4*>(st.keys + first)[v];
        key[4 * v] = x.x, key[4 * v + 1] = x.y, key[4 * v + 2] = x.z, key[4 * v + 3] = x.w;
      }
    } else {
#pragma unroll
      for (int j = 0; j < kItems; ++j)
        if (held(j)) key[j] = st.keys[first + j];
    }
    uint32_t lo = ~0u, hi = 0u;
#pragma unroll
    for (int j = 0; j < kItems; ++j) {
      key[j] = held(j) ? key[j] : 0u;
      if (held(j)) lo = min(lo, key[j]), hi = max(hi, key[j]);
    }
    block_clear<kThreads, kMaxK>(bs.bins);
    lo = __reduce_min_sync(0xffffffffu, lo);
    hi = __reduce_max_sync(0xffffffffu, hi);
    if (lane == 0) bs.lo[warp] = lo, bs.hi[warp] = hi;
    __syncthreads();
    lo = __reduce_min_sync(0xffffffffu, lane < kThreads / 32 ? bs.lo[lane] : ~0u);
    hi = __reduce_max_sync(0xffffffffu, lane < kThreads / 32 ? bs.hi[lane] : 0u);
    // The least shift that puts hi - lo in kMaxK bins; with the index it fills 32 bits at most.
    const int shift = max(0, 32 - __clz(hi - lo) - kIndexBits);
    const auto bin = [&](uint32_t x) { return kLastBin - ((x - lo) >> shift); };
#pragma unroll
    for (int j = 0; j < kItems; ++j)
      if (held(j)) atomicAdd(&bs.bins[bin(key[j])], 1u);  // no return: merged
    __syncthreads();
    // Each thread's bins scanned at once; bins of more than kBinRank counted above bit 16.
    uint32_t count[kBinsPerThread], word = 0;
#pragma unroll
    for (int q = 0; q < kBinsPerThread; ++q) {
      count[q] = bs.bins[threadIdx.x * kBinsPerThread + q];
      word += count[q] + (count[q] > kBinRank ? 1u << 16 : 0u);
    }
    uint32_t all;
    uint32_t at = Sum::run(bs.sum, word, &all) & 0xffffu;
#pragma unroll
    for (int q = 0; q < kBinsPerThread; ++q) {
      bs.bins[threadIdx.x * kBinsPerThread + q] = at << 16 | at;
      at += count[q];
    }
    __syncthreads();
    const uint32_t large = all >> 16, last_begin = bs.bins[kLastBin] >> 16;
    bool plateau = false;
    uint32_t tie_at = 0;  // the thread's first entry of key lo among the plateau's, in stage order
    if (large == 1 && m - last_begin > kBinRank) {
      uint32_t ties = 0, all_ties;
#pragma unroll
      for (int j = 0; j < kItems; ++j) ties += held(j) && key[j] == lo;
      tie_at = Sum::run(bs.sum, ties, &all_ties);
      plateau = all_ties == m - last_begin;
    }
    if (large != 0 && !plateau) {
      if (k <= uint32_t(kThreads * (kItems / 2))) return radix_sort<kItems / 2>(m, st);
      return radix_sort<kItems>(m, st);
    }
    // The stage's keys, read above, now hold the order words, each bin's in its slots, and each
    // slot's bin is noted; the plateau's slots hold its positions, in stage order.
#pragma unroll
    for (int j = 0; j < kItems; ++j) {
      if (!held(j)) continue;
      const uint32_t b = bin(key[j]), i = first + j;
      if (plateau && b == kLastBin) {
        st.keys[last_begin + tie_at++] = st.positions[i];
      } else {
        const uint32_t order = ((key[j] - lo) & ((1u << shift) - 1u)) << kIndexBits | (kMaxK - 1u - i);
        // The cursor never carries into the start: m < 2^16.
        const uint32_t slot = atomicAdd(&bs.bins[b], 1u) & 0xffffu;
        st.keys[slot] = order;
        bs.bin_of[slot] = uint16_t(b);
      }
    }
    __syncthreads();
    // A slot a thread at a time, so that a warp's lanes read one bin's words together.
    uint32_t dest[kItems], pos[kItems];
#pragma unroll
    for (int j = 0; j < kItems; ++j) {
      const uint32_t i = threadIdx.x + j * kThreads;
      if (i >= m) continue;
      if (plateau && i >= last_begin) {
        dest[j] = i, pos[j] = st.keys[i];
        continue;
      }
      const uint32_t w = st.keys[i];
      // The bin's bounds from its word (a bitmap's bit scans for them cost ~50 instructions a
      // slot: kernel notes, v6 step 81).
      const uint32_t span = bs.bins[bs.bin_of[i]], begin = span >> 16, end = span & 0xffffu;
      // Two words a step, not unrolled: a bin averages ~3 words (kernel notes, v6 step 78), where
      // the compiler's unrolled loop spent ~120 instructions a slot on its set-up.
      uint32_t rank = 0;
#pragma unroll 1
      for (uint32_t q = begin; q < end; q += 2)
        rank += uint32_t(st.keys[q] > w) + uint32_t(q + 1 < end && st.keys[q + 1] > w);
      dest[j] = begin + rank;
      pos[j] = st.positions[kMaxK - 1u - (w & (kMaxK - 1u))];
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < kItems; ++j)
      if (threadIdx.x + j * kThreads < m) st.positions[dest[j]] = pos[j];
  }

  // The radix sort of the stage (a bin sort's fallback).
  template <int kItems>
  __device__ static void radix_sort(uint32_t m, const Stage& st) {
    auto& storage = *reinterpret_cast<typename Sort<kItems>::TempStorage*>(st.sort);
    uint32_t key[kItems];
    int32_t pos[kItems];
    __syncthreads();
#pragma unroll
    for (int j = 0; j < kItems; ++j) {
      const uint32_t i = threadIdx.x * kItems + j;
      key[j] = i < m ? st.keys[i] : 0u;  // 0 is below every key: padding sorts last
      pos[j] = i < m ? int32_t(st.positions[i]) : -1;
    }
    Sort<kItems>(storage).SortDescending(key, pos, 0, Traits::kKeyBits);
#pragma unroll
    for (int j = 0; j < kItems; ++j) {
      const uint32_t i = threadIdx.x * kItems + j;
      if (i < m) st.positions[i] = uint32_t(pos[j]);
    }
  }

  template <bool kValues, Transform kTransform>
  __device__ static void write(const TopKArgs& a, const OutputSpec& out, int64_t r, const Bits* row, uint32_t m,
                               const Stage& st) {
    const uint32_t k = uint32_t(out.k);
    const int64_t at = r * k;
    if constexpr (kTransform == Transform::None && !kValues) {
      // Plain indices, four slots a thread at once where the row's indices and the stage are
      // 16-byte aligned: one shared load and one global store serve four slots, whose addressing
      // took ~10 instructions each (k = 2048: 256 threads write 8 slots). Only here: with every
      // mode's four inlined transforms and value loads, the 256-thread register kernel spilled
      // twice the bytes and ran 1.08x slower (kernel notes, v6 step 23).
      if (k % 4 == 0 && reinterpret_cast<uintptr_t>(a.out_indices + at) % 16 == 0 &&
          reinterpret_cast<uintptr_t>(st.positions) % 16 == 0) {
        for (uint32_t v = threadIdx.x; v < k / 4; v += kThreads) {
          const uint4 s = reinterpret_cast<const uint4*>(st.positions)[v];
          const uint32_t i = 4 * v;
          reinterpret_cast<int4*>(a.out_indices + at)[v] =
              make_int4(i < m ? int32_t(s.x) : -1, i + 1 < m ? int32_t(s.y) : -1, i + 2 < m ? int32_t(s.z) : -1,
                        i + 3 < m ? int32_t(s.w) : -1);
        }
        return;
      }
    }
    for (uint32_t i = threadIdx.x; i < k; i += kThreads) {
      const int32_t j = i < m ? int32_t(st.positions[i]) : -1;
      a.out_indices[at + i] = j < 0 ? -1 : transform_index(kTransform, a, out.page_size, r, j);
      if constexpr (kValues) static_cast<Bits*>(a.out_values)[at + i] = j < 0 ? Traits::kNegInf : row[j];
    }
  }
};

}  // namespace nsa::cuda
