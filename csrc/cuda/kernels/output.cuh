// Writing one output slot: the fused index transform and the optional values, shared by every
// kernel that produces final outputs, so the contract's output rules live in one place.
#pragma once
#include <cstdint>

#include "../../common/key_traits.h"

namespace nsa::cuda {

struct OutputSpec {
  int32_t k;
  TieBreak tie_break;
  Transform transform;
  int32_t page_size;
  bool write_values;
  // When set, selected raw positions go here ([rows, k]) for a later sort, not to the outputs.
  int32_t* raw_positions;
};

// Slot `slot` of row r gets position j (-1: padding). `row` is the row's window in the scores.
template <class Traits>
__device__ __forceinline__ void emit(const OutputSpec& o, const TopKArgs& a, int64_t r, int64_t slot,
                                     int32_t j, const typename Traits::Bits* row) {
  const int64_t at = r * o.k + slot;
  if (o.raw_positions) {
    o.raw_positions[at] = j;
    return;
  }
  a.out_indices[at] = j < 0 ? -1 : transform_index(o.transform, a, o.page_size, r, j);
  if (o.write_values)
    static_cast<typename Traits::Bits*>(a.out_values)[at] = j < 0 ? Traits::kNegInf : row[j];
}

template <class Traits>
__device__ __forceinline__ const typename Traits::Bits* row_window(const TopKArgs& a, int64_t r, Window w) {
  return static_cast<const typename Traits::Bits*>(a.scores) + r * a.stride + w.start;
}

}  // namespace nsa::cuda
