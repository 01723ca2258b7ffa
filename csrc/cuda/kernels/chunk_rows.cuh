// The chunked path (dispatch.cu, run_chunked): fewer rows than SMs, each cut into 2^shift chunks
// that the batch kernel takes as rows of their own (stage 1), so that the rows' CTAs fill the GPU
// and every score is read once. Each chunk's k best go to the workspace in ascending position
// order, with their scores; a top-k over those candidates (stage 2) picks slots, and
// chunk_gather_kernel maps each slot back to its position in the row (stage 3).
//
// The cut is made on the device from the row's clamped length (graph-safe: any lengths): equal
// chunks of `chunk_length`, the last ones shorter or empty. Every chunk before the last non-empty
// one is at least k long and so yields exactly k candidates, so a row's candidates lie in
// [0, chunk_candidates) of its chunks x k slots with no gap, chunk c's at [c k, c k + k), in
// ascending position order: a tie-break by slot is the contract's tie-break by position.
#pragma once
#include <cstdint>

#include "../../common/key_traits.h"
#include "output.cuh"
#include "pdl.cuh"

namespace nsa::cuda {

struct ChunkRows {
  int64_t shift;          // chunks per row: 2^shift (a 64-bit field: no padding in the parameters)
  int32_t* candidates;    // [rows]: candidates per row, stage 2's lengths; null: rows are not chunked
};

// The length of a row's chunks: an equal share, at least k, rounded up to 64 scores (so that a
// chunk of an aligned row is whole 16-byte vectors for every dtype).
NSA_HD int64_t chunk_length(int64_t length, int64_t shift, int32_t k) {
  const int64_t share = (length + (int64_t(1) << shift) - 1) >> shift;
  return ((share > k ? share : int64_t(k)) + 63) & ~int64_t(63);
}

// The candidates stage 1 leaves for a row of `length`: k for each full chunk, then the rest of
// the last one (at most k).
NSA_HD int64_t chunk_candidates(int64_t length, int64_t shift, int32_t k) {
  const int64_t s = chunk_length(length, shift, k);
  const int64_t full = length / s, rest = length - full * s;
  return full * k + (rest < k ? rest : int64_t(k));
}

// Chunk c of a row's window `w`, as a window of the row's scores.
NSA_HD Window chunk_window(Window w, int64_t c, int64_t shift, int32_t k) {
  const int64_t s = chunk_length(w.length, shift, k);
  const int64_t start = c * s < w.length ? c * s : w.length;
  const int64_t rest = w.length - start;
  return {w.start + start, rest < s ? rest : s};
}

// Stage 3, in place: out_indices holds stage 2's slots (-1: padding); each becomes its position
// in the row (the chunk's offset plus the candidate's position in the chunk), through the fused
// transform. One thread per output slot.
template <Transform kTransform>
__global__ void chunk_gather_kernel(const TopKArgs a, int32_t k, int32_t page_size, ChunkRows chunk,
                                    const int32_t* positions) {
  pdl_wait();  // stage 2's slots (launched with PDL behind it)
  pdl_launch_dependents();
  const int64_t n = a.rows * k;
  const int64_t per_row = int64_t(k) << chunk.shift;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int32_t slot = a.out_indices[i];
    if (slot < 0) continue;
    const int64_t r = i / k;
    const Window w = clamp_window(a.stride, a.row_starts, a.lengths, r);
    const int64_t start = chunk_window(w, slot / k, chunk.shift, k).start - w.start;
    const int32_t j = int32_t(start + positions[r * per_row + slot]);
    a.out_indices[i] = transform_index(kTransform, a, page_size, r, j);
  }
}

}  // namespace nsa::cuda
