// The register top-k agent: one CTA selects the k greatest of a row short enough for its
// registers (the policy's kItems scores per thread), reading each score once and keeping nothing
// of the row in shared memory.
//
// Stages (one method each):
//  1. load(): every 16-byte load of the row issued at once; then each score's ordered key, one
//     per register (key 0, which no score has, marks a slot past the row).
//  2. select: the k-th greatest key by radix select over the registers (BlockKeySelect's
//     select_word, which skips the bits every key shares and adds a warp's keys at once when
//     they fall in one bin): the key that exactly k reach, or the key of a run of ties of which
//     `remain` are taken.
//  3. stage(): a selection's output slot is its rank by position. Each thread's vectors give
//     masks of the elements above the cut and tied with it; block scans of their counts (of the
//     ties only when the cut falls in a run of them) give each vector's rank base, the ties are
//     taken in the tie-break's order (the first `remain` by position for small and none, the
//     last for large), and each selected element is staged at its base plus the selected bits
//     below it. No sample, no candidate buffer, no cut, no bitmap: the set and its order follow
//     from keys and positions alone, so the bytes are the same on every run and in any batch.
//  4. BlockStageWrite: sorted by key when asked, written through the transform.
//
// Row layout: warp w's lane l holds the vectors x = (w kVectors + j) 32 + l (j < kVectors) of the
// 16-byte aligned span that starts `off` elements before the row, so that each load instruction
// reads 512 contiguous bytes and position order is warp, slot, lane. Element q of vector x is at
// X = x kV + q, position X - off. The first `off` slots of vector 0 (before the row) hold the
// positions from C - off on instead (C: the CTA's capacity), so that a row of C elements fits
// however it is aligned; those wrapped elements (thread 0's) come last in position order.
// Vectors partly outside the row (or a row misaligned for its type) are gathered element by
// element.
//
// Shared memory, dynamic part (words): [0, kMaxK) the stage's positions, [kMaxK, 2 kMaxK) its
// keys (sorted output), then the scratch: the radix histogram, later the block sort's storage.
#pragma once
#include <cstdint>

#include "../../common/key_traits.h"
#include "../block/block_key_select.cuh"
#include "../block/block_stage_write.cuh"
#include "../block/pick.cuh"
#include "agent_batch_topk.cuh"

namespace nsa::cuda {

template <class Policy, class Traits, bool kLarge>
struct AgentRegisterTopK {
  using Bits = typename Traits::Bits;
  static constexpr int kThreads = Policy::kThreads;
  static constexpr int kWarps = kThreads / 32;
  static constexpr int kV = 16 / int(sizeof(Bits));  // elements per 16-byte vector
  static constexpr int kPerWord = 4 / int(sizeof(Bits));
  static constexpr int kVectors = Policy::kItems / kV;
  static constexpr uint32_t kCapacity = uint32_t(kThreads * Policy::kItems);  // elements per CTA
  static constexpr uint32_t kMaxK = Policy::kMaxK;
  using Select = BlockKeySelect<kThreads, Policy::kDigitBits>;
  using Word = typename Select::Word;
  using Write = BlockStageWrite<kThreads, kMaxK, Traits>;
  static_assert(Policy::kItems % kV == 0 && kVectors % 2 == 0, "whole vectors, scanned two slots to a word");
  static constexpr uint32_t kScratchWords = uint32_t(
      sizeof(typename Write::SortStorage) / 4 > (1u << Policy::kDigitBits) ? sizeof(typename Write::SortStorage) / 4
                                                                           : (1u << Policy::kDigitBits));
  static constexpr size_t kDynamicSmemBytes = size_t(2 * kMaxK + kScratchWords) * sizeof(uint32_t);

  struct TempStorage {
    typename Select::Storage select;
    uint32_t warp_total[kWarps];  // scan(): each warp's count
    uint32_t wrapped_ties;        // thread 0's wrapped elements tied with the cut
  };

  TempStorage& ts;
  const BatchTopKParams& p;
  const int64_t r;
  const Window w;
  const Bits* const row;
  const uint32_t length, k;
  const bool aligned;  // the row is aligned for its type: whole vectors are loaded as such
  const uint32_t off;  // elements of the first aligned vector before the row
  uint32_t key[kVectors][kV];

  __device__ AgentRegisterTopK(TempStorage& ts_, const BatchTopKParams& p_, int64_t r_)
      : ts(ts_),
        p(p_),
        r(r_),
        w(clamp_window(p_.a.stride, p_.a.row_starts, p_.a.lengths, r_)),
        row(row_window<Traits>(p_.a, r_, w)),
        length(uint32_t(w.length)),
        k(uint32_t(p_.out.k)),
        aligned(reinterpret_cast<uintptr_t>(row) % sizeof(Bits) == 0),
        off(aligned ? uint32_t(reinterpret_cast<uintptr_t>(row) % 16 / sizeof(Bits)) : 0u) {}

  // Whether a row of `length` fits one CTA.
  __device__ static bool fits(int64_t length) { return length <= int64_t(kCapacity); }

  __device__ static uint32_t* stage_positions() { return batch_topk_smem; }
  __device__ static uint32_t* stage_keys() { return batch_topk_smem + kMaxK; }
  __device__ static uint32_t* scratch() { return batch_topk_smem + 2 * kMaxK; }

  __device__ void run() {
    load();
    const Word cut = length <= k ? Word{1u, 0u, true}  // every element of the row (keys >= 1)
                                 : Select::select_word(ts.select, k, [&](auto&& f) { each(f); }, scratch());
    const uint32_t m = min(length, k);
    stage(cut, m);
    Write::run(p.a, p.out, p.sorted, r, row, m,
               {stage_positions(), stage_keys(), reinterpret_cast<typename Write::SortStorage*>(scratch())});
  }

  // Slot j's first element in the aligned span.
  __device__ static uint32_t first_of(int j) {
    return ((threadIdx.x >> 5) * kVectors * 32u + uint32_t(j) * 32u + (threadIdx.x & 31u)) * kV;
  }
  __device__ uint32_t position(uint32_t x) const { return x >= off ? x - off : x + kCapacity - off; }
  // Whether slot j lies wholly in the row, unwrapped, and can be loaded as one vector.
  __device__ bool whole(int j) const {
    const uint32_t x0 = first_of(j);
    return aligned && x0 >= off && x0 + kV <= off + length;
  }

  // Stage 1: the loads, then the keys (0 past the row).
  __device__ void load() {
    const uint4* const vec = reinterpret_cast<const uint4*>(row - off);
    uint4 raw[kVectors];
#pragma unroll
    for (int j = 0; j < kVectors; ++j)
      if (whole(j)) raw[j] = __ldg(vec + first_of(j) / kV);
#pragma unroll
    for (int j = 0; j < kVectors; ++j) {
      if (whole(j)) {
        const uint32_t word[4] = {raw[j].x, raw[j].y, raw[j].z, raw[j].w};
#pragma unroll
        for (int q = 0; q < kV; ++q) key[j][q] = Traits::key(Bits(word[q / kPerWord] >> (q % kPerWord * 16)));
      } else {  // a vector partly in the row, or past it: element by element
#pragma unroll
        for (int q = 0; q < kV; ++q) {
          const uint32_t i = position(first_of(j) + q);
          key[j][q] = i < length ? Traits::key(row[i]) : 0u;
        }
      }
    }
  }

  // Calls f(member, key) for each of the thread's elements, the warp's lanes together (a warp
  // skips its slots past the row at once).
  template <class F>
  __device__ void each(F&& f) const {
#pragma unroll
    for (int j = 0; j < kVectors; ++j) {
      if (first_of(j) - (threadIdx.x & 31u) * kV >= off + length) break;  // the warp's slot j: past the row
#pragma unroll
      for (int q = 0; q < kV; ++q) f(key[j][q] != 0u, key[j][q]);
    }
  }

  // A thread's elements as one mask: element q of slot j is bit j kV + q.
  static_assert(kVectors * kV == 32, "one bit per element in a word");
  static constexpr uint32_t kSlotBits = (1u << kV) - 1u;
  __device__ static uint32_t slot_bits(uint32_t mask, int j) { return (mask >> (j * kV)) & kSlotBits; }

  // Block-wide exclusive prefix, in position order, of the per-slot counts of `mask`'s bits:
  // base[j] for each of the thread's slots; returns the CTA's total. Slots are scanned two to a
  // word over the warp's lanes (16-bit fields: a warp's slot holds at most 32 kV elements), then
  // over the warps. Every thread must call (it holds two barriers: the first orders a previous
  // scan's reads of the warp totals before this one's writes).
  __device__ uint32_t scan(uint32_t mask, uint32_t (&base)[kVectors]) {
    const uint32_t lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
    constexpr int kPairs = kVectors / 2;
    uint32_t pair[kPairs], incl[kPairs];
#pragma unroll
    for (int i = 0; i < kPairs; ++i)
      incl[i] = pair[i] = uint32_t(__popc(slot_bits(mask, 2 * i))) | uint32_t(__popc(slot_bits(mask, 2 * i + 1))) << 16;
#pragma unroll
    for (int d = 1; d < 32; d *= 2) {
#pragma unroll
      for (int i = 0; i < kPairs; ++i) {
        const uint32_t y = __shfl_up_sync(0xffffffffu, incl[i], d);
        if (lane >= uint32_t(d)) incl[i] += y;
      }
    }
    uint32_t in_warp = 0;  // the warp's elements in slots before j
#pragma unroll
    for (int i = 0; i < kPairs; ++i) {
      const uint32_t total = __shfl_sync(0xffffffffu, incl[i], 31), excl = incl[i] - pair[i];
      base[2 * i] = in_warp + (excl & 0xffffu);
      in_warp += total & 0xffffu;
      base[2 * i + 1] = in_warp + (excl >> 16);
      in_warp += total >> 16;
    }
    __syncthreads();  // a previous scan's totals are read
    if (lane == 0) ts.warp_total[warp] = in_warp;
    __syncthreads();
    uint32_t before = 0, all = 0;
#pragma unroll
    for (int u = 0; u < kWarps; ++u) {
      const uint32_t t = ts.warp_total[u];
      all += t;
      if (uint32_t(u) < warp) before += t;
    }
#pragma unroll
    for (int j = 0; j < kVectors; ++j) base[j] += before;
    return all;
  }

  // The lowest n set bits of `mask`.
  __device__ static uint32_t lowest(uint32_t mask, uint32_t n) {
    uint32_t low = 0;
    for (; n && mask; --n) {
      low |= mask & (0u - mask);
      mask &= mask - 1u;
    }
    return low;
  }

  // Stage 3: each selection's position (and key, for sorted output) at its rank by position
  // (descending position for sorted output with `large`, so that the stable sort leaves tied keys
  // in the contract's order). m selections.
  __device__ void stage(const Word cut, uint32_t m) {
    uint32_t above = 0, tied = 0;  // masks of the thread's elements
#pragma unroll
    for (int j = 0; j < kVectors; ++j) {
#pragma unroll
      for (int q = 0; q < kV; ++q) {
        const uint32_t x = key[j][q];
        above |= uint32_t(x > cut.value || (cut.exact && x == cut.value)) << (j * kV + q);
        tied |= uint32_t(!cut.exact && x == cut.value) << (j * kV + q);
      }
    }
    // Thread 0's wrapped elements (slot 0's first `off`) are ranked after every other.
    const uint32_t wrap_mask = threadIdx.x == 0 ? (1u << off) - 1u : 0u;
    const uint32_t above_wrapped = above & wrap_mask, tied_wrapped = tied & wrap_mask;
    above &= ~wrap_mask;
    tied &= ~wrap_mask;
    uint32_t base[kVectors];
    const uint32_t above_total = scan(above, base);
    uint32_t selected = above, selected_wrapped = above_wrapped, base_wrapped = above_total;
    if (!cut.exact) {  // the cut lies in a run of ties: `take` of them, by position
      if (threadIdx.x == 0) ts.wrapped_ties = uint32_t(__popc(tied_wrapped));  // scan's barriers order it
      uint32_t tied_base[kVectors];
      const uint32_t tied_total = scan(tied, tied_base);
      const uint32_t take = cut.remain, skip = kLarge ? tied_total + ts.wrapped_ties - take : 0u;
      // Ties before the e-th that are taken, and which ties of a mask (the e-th on) are.
      const auto taken_before = [&](uint32_t e) { return kLarge ? (e > skip ? e - skip : 0u) : min(e, take); };
      const auto taken = [&](uint32_t mask, uint32_t e) {
        return kLarge ? mask & ~lowest(mask, skip > e ? skip - e : 0u) : lowest(mask, take > e ? take - e : 0u);
      };
#pragma unroll
      for (int j = 0; j < kVectors; ++j) {
        selected |= taken(slot_bits(tied, j), tied_base[j]) << (j * kV);
        base[j] += taken_before(tied_base[j]);
      }
      selected_wrapped |= taken(tied_wrapped, tied_total);
      base_wrapped += taken_before(tied_total);
    }
    const bool sorted = p.sorted;
    const auto put = [&](uint32_t rank, uint32_t position, uint32_t x) {
      const uint32_t slot = sorted && kLarge ? m - 1 - rank : rank;
      stage_positions()[slot] = position;
      if (sorted) stage_keys()[slot] = x;
    };
#pragma unroll
    for (int j = 0; j < kVectors; ++j) {
      const uint32_t mine = slot_bits(selected, j);
      for (uint32_t bits = mine; bits; bits &= bits - 1u) {
        const uint32_t q = uint32_t(__ffs(int(bits)) - 1);
        put(base[j] + uint32_t(__popc(mine & ((1u << q) - 1u))), first_of(j) + q - off, pick(key[j], q));
      }
    }
    for (uint32_t bits = selected_wrapped; bits; bits &= bits - 1u) {
      const uint32_t q = uint32_t(__ffs(int(bits)) - 1);
      put(base_wrapped + uint32_t(__popc(selected_wrapped & ((1u << q) - 1u))), q + kCapacity - off, pick(key[0], q));
    }
  }
};

}  // namespace nsa::cuda
