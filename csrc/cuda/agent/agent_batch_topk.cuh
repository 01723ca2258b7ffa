// The batch top-k agent: one CTA selects the k greatest of one row, reading each score from
// device memory once.
//
// Stages (one method each):
//  1. stream(): reads the row once, 16-byte loads several steps ahead. An element enters the
//     candidate buffer when it beats the threshold (at first, every element does): one float
//     compare per element, the key is computed only for elements that enter. When the next step
//     might not fit, the buffer is cut to its k greatest (cut()) and the threshold becomes the
//     k-th's key: later elements that do not beat it can never be selected.
//  2. cut(): the k greatest candidates, exactly (BlockKeySelect), moved to the buffer's front.
//  3. order(): ranks of the selections by ascending position (BlockPositionRank), staged in
//     shared memory; with sorted output, a block radix sort by key then orders the stage.
//  4. write(): one converged pass over the stage writes indices (through the fused transform) and
//     values, the output modes being template parameters.
//
// A candidate is its ordered key and a 32-bit code of its position that is greater for the
// position the tie-break prefers (the complement of the position for `small` and `none`, the
// position for `large`). The row is streamed in the order the tie-break prefers (descending
// positions for `large`), so an element whose key equals the threshold's always loses to the tied
// candidates already held: the strict test is exact, and plateaus of equal scores cost one buffer
// fill. The selected set is unique and the output order comes from positions alone, so the bytes
// are the same on every run and in any batch, with or without `deterministic`.
//
// Shared memory, dynamic part (one place; offsets in 32-bit words):
//   [0, kCapacity)              keys of the candidates; after the last cut keys[0, k) are the
//                               selections' and [kMaxK, 2 kMaxK) holds the stage keys (sorted
//                               output)
//   [kCapacity, 2 kCapacity)    codes of the candidates; after the last cut [kCapacity + kMaxK,
//                               2 kCapacity) is BlockPositionRank's scratch, then the block sort's
//   [2 kCapacity, + kScratchWords)  scratch: radix histogram, partition holes, then the stage
//                               positions (k words)
#pragma once
#include <cstdint>

#include <cub/block/block_radix_sort.cuh>

#include "../../common/key_traits.h"
#include "../block/block_key_select.cuh"
#include "../block/block_position_rank.cuh"
#include "../block/warp_append.cuh"
#include "../kernels/output.cuh"

namespace nsa::cuda {

struct BatchTopKParams {
  TopKArgs a;
  OutputSpec out;
  bool sorted;
};

template <class Policy, class Traits, bool kLarge>
struct AgentBatchTopK {
  using Bits = typename Traits::Bits;
  static constexpr int kThreads = Policy::kThreads;
  static constexpr int kV = 16 / int(sizeof(Bits));  // elements per 16-byte load
  static constexpr int kU = Policy::kVectorsInFlight;
  static constexpr uint32_t kStep = uint32_t(kThreads * kV);  // elements per step of the stream
  static constexpr uint32_t kCapacity = Policy::kCapacity;
  static constexpr uint32_t kMaxK = Policy::kMaxK;
  static_assert(kCapacity >= kMaxK + kStep, "after a cut the buffer must take a whole step");
  static_assert(kCapacity >= 2 * kMaxK, "the stage keys live past the selections' keys");
  using Select = BlockKeySelect<kThreads, Policy::kDigitBits>;
  using Threshold = typename Select::Threshold;
  using Rank = BlockPositionRank<kThreads>;
  template <int kItems>
  using Sort = cub::BlockRadixSort<uint32_t, kThreads, kItems, int32_t>;
  static constexpr uint32_t kRankWords = kCapacity - kMaxK;  // BlockPositionRank's scratch
  static_assert(sizeof(typename Sort<kMaxK / kThreads>::TempStorage) <= kRankWords * 4,
                "the block sort's storage must fit the rank scratch");
  static constexpr uint32_t kKeyMax = Traits::kKeyBits == 32 ? ~0u : (1u << Traits::kKeyBits) - 1u;  // NaN

  struct TempStorage {
    typename Select::Storage select;
    typename Rank::Storage rank;
    uint32_t count;  // candidates in the buffer
  };
  static constexpr size_t kDynamicSmemBytes = size_t(2 * kCapacity + Policy::kScratchWords) * sizeof(uint32_t);

  TempStorage& ts;
  uint32_t* const keys;
  uint32_t* const codes;
  uint32_t* const scratch;
  const BatchTopKParams& p;
  const int64_t r;
  const Window w;
  const Bits* const row;
  const uint32_t k;

  __device__ AgentBatchTopK(TempStorage& ts_, uint32_t* smem, const BatchTopKParams& p_, int64_t r_)
      : ts(ts_),
        keys(smem),
        codes(smem + kCapacity),
        scratch(smem + 2 * kCapacity),
        p(p_),
        r(r_),
        w(clamp_window(p_.a.stride, p_.a.row_starts, p_.a.lengths, r_)),
        row(row_window<Traits>(p_.a, r_, w)),
        k(uint32_t(p_.out.k)) {}

  __device__ static uint32_t code_of(uint32_t pos) { return kLarge ? pos : ~pos; }
  __device__ static uint32_t pos_of(uint32_t code) { return kLarge ? code : ~code; }
  __device__ uint32_t* stage_keys() const { return keys + kMaxK; }

  __device__ void run() {
    if (w.length <= int64_t(k)) {  // the whole window is selected
      const uint32_t m = uint32_t(w.length);
      for (uint32_t i = threadIdx.x; i < m; i += kThreads) {
        const uint32_t slot = p.sorted && kLarge ? m - 1 - i : i;
        scratch[slot] = i;
        if (p.sorted) stage_keys()[slot] = Traits::key(row[i]);
      }
      finish(m);
      return;
    }
    cut(stream());
    order();
    finish(k);
  }

  // Stage 1. Returns the number of candidates in the buffer (>= k).
  __device__ uint32_t stream() {
    const uint32_t length = uint32_t(w.length);
    const uintptr_t addr = reinterpret_cast<uintptr_t>(row);
    const uint32_t head = addr % sizeof(Bits) ? length : min(length, uint32_t((16 - addr % 16) % 16 / sizeof(Bits)));
    const uint32_t nvec = (length - head) / kV;
    const uint32_t tail = head + nvec * kV;  // [tail, length): the scalar rest
    const uint4* const vec = reinterpret_cast<const uint4*>(row + head);
    const uint32_t nsteps = (nvec + kThreads - 1) / kThreads;

    // An element enters iff !(x <= t): at first t is NaN and every element enters; after a cut t
    // is the k-th's score, and NaN (the greatest key) still enters. A k-th that is NaN itself
    // closes the buffer: nothing can beat it.
    float t = __uint_as_float(0x7fffffffu);
    bool open = true;
    uint32_t known = 0, bound = 0;  // buffer count at the last barrier; most appended since
    if (threadIdx.x == 0) ts.count = 0;
    __syncthreads();
    // Room for `elems` more candidates, cutting the buffer first when they might not fit.
    auto reserve = [&](uint32_t elems) {
      if (known + bound + elems > kCapacity) {
        __syncthreads();
        known = ts.count;
        bound = 0;
        // Every thread has read the count before any appends again: all take the same branch
        // below, so barriers never diverge (compute-sanitizer synccheck found that race).
        __syncthreads();
        if (known + elems > kCapacity) {
          const uint32_t thr = cut(known).key;
          open = thr != kKeyMax;
          t = Traits::as_float(key_bits<Bits, Traits::kKeyBits>(thr));
          known = k;
        }
      }
      bound += elems;
    };
    auto enters = [&](Bits b) { return open && !(Traits::as_float(b) <= t); };
    // Appends the elements of `e` flagged in `mask`, element q at position pos0 + q * stride.
    auto append = [&](uint32_t mask, const Bits* e, uint32_t pos0, uint32_t stride) {
      const uint32_t count = uint32_t(__popc(mask));
      if (!__any_sync(0xffffffffu, count)) return;
      uint32_t at = warp_append_many(count, &ts.count);
#pragma unroll
      for (int q = 0; q < kV; ++q)
        if (mask >> q & 1u) {
          keys[at] = Traits::key(e[q]);
          codes[at++] = code_of(pos0 + q * stride);
        }
    };
    // One element per thread of [lo, hi) (hi - lo <= kThreads): the unaligned head and the tail.
    auto scalar = [&](uint32_t lo, uint32_t hi) {
      if (lo >= hi) return;
      reserve(kThreads);
      const uint32_t i = lo + threadIdx.x;
      Bits e[kV] = {};
      if (i < hi) e[0] = row[i];
      append(uint32_t(i < hi && enters(e[0])), e, i, 0);
    };
    // Head and tail hold fewer than 16 bytes' worth each, unless the row is misaligned for its
    // type: then `head` is the whole row, taken kThreads at a time (from its end for `large`).
    auto heads = [&] {
      for (uint32_t lo = 0; lo < head; lo += kThreads)
        kLarge ? scalar(head - lo > kThreads ? head - lo - kThreads : 0u, head - lo) : scalar(lo, min(head, lo + kThreads));
    };
    auto vec_of = [&](uint32_t i) { return (kLarge ? nsteps - 1 - i : i) * kThreads + threadIdx.x; };
    uint4 raw[kU];
    auto load = [&](uint32_t i, int u) {
      const uint32_t v = vec_of(i);
      if (i < nsteps && v < nvec) raw[u] = __ldg(vec + v);
    };

    if (kLarge) scalar(tail, length);
    else heads();
#pragma unroll
    for (int u = 0; u < kU; ++u) load(u, u);
    for (uint32_t i0 = 0; i0 < nsteps; i0 += kU) {
#pragma unroll
      for (int u = 0; u < kU; ++u) {
        const uint32_t i = i0 + u;
        if (i < nsteps) {
          reserve(kStep);
          const uint32_t v = vec_of(i);
          Bits e[kV];
          *reinterpret_cast<uint4*>(e) = raw[u];
          uint32_t mask = 0;
#pragma unroll
          for (int q = 0; q < kV; ++q) mask |= uint32_t(enters(e[q])) << q;
          if (v >= nvec) mask = 0;
          load(i + kU, u);
          append(mask, e, head + v * kV, 1);
        }
      }
    }
    if (kLarge) heads();
    else scalar(tail, length);
    __syncthreads();
    return ts.count;
  }

  // Cuts the buffer's n candidates to the k greatest, moved to its front; returns the k-th.
  __device__ Threshold cut(uint32_t n) {
    const Threshold t = Select::select(ts.select, keys, codes, n, k, scratch);
    Select::partition(ts.select, keys, codes, n, k, t, scratch);
    if (threadIdx.x == 0) ts.count = k;
    __syncthreads();
    return t;
  }

  // Stage 3: the selections staged by ascending position (descending for sorted output with
  // `large`, so that the stable sort leaves tied keys in the contract's order).
  __device__ void order() {
    uint32_t* const stage = scratch;
    const bool sorted = p.sorted;
    Rank::rank(
        ts.rank, k, w.length, codes + kMaxK, kRankWords / 2, [&](uint32_t i) { return pos_of(codes[i]); },
        [&](uint32_t i, uint32_t at) {
          const uint32_t slot = sorted && kLarge ? k - 1 - at : at;
          stage[slot] = pos_of(codes[i]);
          if (sorted) stage_keys()[slot] = keys[i];
        });
  }

  // Stage 4 (and the sort of sorted output): the first m slots of the stage, then padding.
  __device__ void finish(uint32_t m) {
    if (p.sorted) {
      if (k <= uint32_t(kThreads * (kMaxK / kThreads / 2))) sort_stage<kMaxK / kThreads / 2>(m);
      else sort_stage<kMaxK / kThreads>(m);
    }
    __syncthreads();
    const bool values = p.out.write_values;
    switch (p.out.transform) {
      case Transform::Ragged: return values ? write<true, Transform::Ragged>(m) : write<false, Transform::Ragged>(m);
      case Transform::PageTable:
        return values ? write<true, Transform::PageTable>(m) : write<false, Transform::PageTable>(m);
      default: return values ? write<true, Transform::None>(m) : write<false, Transform::None>(m);
    }
  }

  // Orders the stage's first m entries by key, descending; stable, so ties keep stage order.
  template <int kItems>
  __device__ void sort_stage(uint32_t m) {
    uint32_t* const stage = scratch;
    const uint32_t* const stage_key = stage_keys();
    auto& storage = *reinterpret_cast<typename Sort<kItems>::TempStorage*>(codes + kMaxK);
    uint32_t key[kItems];
    int32_t pos[kItems];
    __syncthreads();
#pragma unroll
    for (int j = 0; j < kItems; ++j) {
      const uint32_t i = threadIdx.x * kItems + j;
      key[j] = i < m ? stage_key[i] : 0u;  // 0 is below every key: padding sorts last
      pos[j] = i < m ? int32_t(stage[i]) : -1;
    }
    Sort<kItems>(storage).SortDescending(key, pos, 0, Traits::kKeyBits);
#pragma unroll
    for (int j = 0; j < kItems; ++j) {
      const uint32_t i = threadIdx.x * kItems + j;
      if (i < m) stage[i] = uint32_t(pos[j]);
    }
  }

  template <bool kValues, Transform kTransform>
  __device__ void write(uint32_t m) {
    const uint32_t* const stage = scratch;
    const int64_t at = r * k;
    for (uint32_t i = threadIdx.x; i < k; i += kThreads) {
      const int32_t j = i < m ? int32_t(stage[i]) : -1;
      p.a.out_indices[at + i] = j < 0 ? -1 : transform_index(kTransform, p.a, p.out.page_size, r, j);
      if constexpr (kValues) static_cast<Bits*>(p.a.out_values)[at + i] = j < 0 ? Traits::kNegInf : row[j];
    }
  }
};

}  // namespace nsa::cuda
