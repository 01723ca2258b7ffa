// Kernels around a CUB segmented radix sort: the `sort` backend, and sorted output of `radix`.
//
// A composite is one 64-bit sort key per element: the ordered key in the high 32 bits and the
// position in the low 32 bits, complemented unless tieBreak is `large`, so that one descending
// sort orders by key descending, then position ascending (`large`: descending). 0 is padding:
// no element has key 0 (the lowest real key, -inf, is above it), so padding sorts last.
#pragma once
#include <cstdint>

#include "../../common/key_traits.h"
#include "output.cuh"
#include "pdl.cuh"

namespace nsa::cuda {

// What a sorted 64-bit word holds: a composite, or a plain position (padding: all low bits set).
enum class SortedWord : int32_t { Composite = 0, Position = 1 };
constexpr uint64_t kPositionPadding = 0xffffffffull;

__device__ __forceinline__ uint64_t make_composite(uint32_t key, int32_t j, TieBreak tie) {
  return (uint64_t(key) << 32) | (tie == TieBreak::Large ? uint32_t(j) : ~uint32_t(j));
}

__device__ __forceinline__ int32_t composite_position(uint64_t c, TieBreak tie) {
  if (c == 0) return -1;
  const uint32_t low = uint32_t(c);
  return int32_t(tie == TieBreak::Large ? low : ~low);
}

// out[r, i] for i < seg: the composite of position positions[r, i] (or of i itself when
// positions is null, covering the whole window; past the window: padding).
template <class Traits>
__global__ void make_composites_kernel(const TopKArgs a, const int32_t* positions, int64_t seg,
                                       TieBreak tie, uint64_t* out) {
  pdl_wait();  // the sort backend's first kernel (pdl.cuh)
  pdl_launch_dependents();
  const int64_t n = a.rows * seg;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < n; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = idx / seg, i = idx - r * seg;
    const Window w = clamp_window(a.stride, a.row_starts, a.lengths, r);
    const int32_t j = positions ? positions[idx] : (i < w.length ? int32_t(i) : -1);
    out[idx] = j < 0 ? 0 : make_composite(Traits::key(row_window<Traits>(a, r, w)[j]), j, tie);
  }
}

// The first k composites of each sorted row, as plain positions to sort ascending (ordered
// unsorted output of the `sort` backend).
__global__ void composites_to_positions_kernel(const uint64_t* sorted, int64_t rows, int64_t seg, int32_t k,
                                               TieBreak tie, uint64_t* out) {
  const int64_t n = rows * k;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < n; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = idx / k, i = idx - r * k;
    const int32_t j = i < seg ? composite_position(sorted[r * seg + i], tie) : -1;
    out[idx] = j < 0 ? kPositionPadding : uint64_t(j);
  }
}

// Final outputs from the first k words of each sorted row.
template <class Traits>
__global__ void finish_sorted_kernel(const TopKArgs a, const OutputSpec o, const uint64_t* sorted, int64_t seg,
                                     SortedWord word) {
  // Never launched with PDL (its wait is a no-op), but a sorted call's last kernel: its trigger
  // lets the next call's first kernel start.
  pdl_wait();
  pdl_launch_dependents();
  const int64_t n = a.rows * o.k;
  for (int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; idx < n; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = idx / o.k, i = idx - r * o.k;
    int32_t j = -1;
    if (i < seg) {
      const uint64_t c = sorted[r * seg + i];
      j = word == SortedWord::Composite ? composite_position(c, o.tie_break)
                                        : (c == kPositionPadding ? -1 : int32_t(c));
    }
    const Window w = clamp_window(a.stride, a.row_starts, a.lengths, r);
    emit<Traits>(o, a, r, i, j, row_window<Traits>(a, r, w));
  }
}

// Segment r of a sort chunk spans [offsets[r], offsets[r + 1]); a chunk holds < 2^31 words.
__global__ void segment_offsets_kernel(int32_t* offsets, int32_t rows, int32_t seg) {
  for (int32_t r = int32_t(blockIdx.x * blockDim.x + threadIdx.x); r <= rows; r += int32_t(gridDim.x * blockDim.x))
    offsets[r] = r * seg;
}

}  // namespace nsa::cuda
