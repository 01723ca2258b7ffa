// The last stage of the one-CTA-per-row kernels: a row's selections, staged in shared memory by
// ascending position, written out (through the fused index transform, with values when asked),
// sorted by key first when the output is sorted. Output modes are template parameters.
#pragma once
#include <cstdint>

#include <cub/block/block_radix_sort.cuh>

#include "../../common/key_traits.h"
#include "../kernels/output.cuh"

namespace nsa::cuda {

template <int kThreads, int kMaxK, class Traits>
struct BlockStageWrite {
  using Bits = typename Traits::Bits;
  template <int kItems>
  using Sort = cub::BlockRadixSort<uint32_t, kThreads, kItems, int32_t>;
  // The larger of the two sorts' storage (k up to kMaxK).
  using SortStorage = typename Sort<kMaxK / kThreads>::TempStorage;
  static_assert(sizeof(typename Sort<kMaxK / kThreads / 2>::TempStorage) <= sizeof(SortStorage),
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
    if (sorted) {
      if (k <= uint32_t(kThreads * (kMaxK / kThreads / 2))) sort_stage<kMaxK / kThreads / 2>(m, st);
      else sort_stage<kMaxK / kThreads>(m, st);
    }
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
  template <int kItems>
  __device__ static void sort_stage(uint32_t m, const Stage& st) {
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
