// Exact selection of the k greatest of n entries held in shared memory as (key, code) pairs, by
// most-significant-digit radix select, and the partition that moves them to the front.
//
// An entry's code is a 32-bit number that is greater for the position the tie-break prefers, and
// codes are distinct, so (key, code) orders entries totally: the k greatest are unique, and ties
// between equal keys are resolved by a second select over the codes of the tied entries only, run
// only when the keys alone leave ties. Bits that every entry shares are skipped first (one AND and
// one OR reduction), so a row whose keys are all equal goes straight to the codes, and normal rows
// start at the first bits that tell entries apart. A member adds 1 to its bin: sm_90 compiles an
// atomicAdd of 1 to ATOMS.POPC.INC, which merges a warp's lanes on one address, so plateaus of
// equal keys cost no more than spread ones (a warp vote for the one-bin case cost 10 of a count's
// 21 instructions an entry: kernel-notes, v6 step 26).
// Key 0 marks an empty slot (no score has it: ordered_key maps every NaN to all ones): select()
// counts no such entry and partition() keeps none (callers with empty slots hold more than k
// filled entries, so the k-th key is a score's, above 0).
#pragma once
#include <cstdint>

#include "block_clear.cuh"
#include "bucket_select.cuh"
#include "row_exchange.cuh"
#include "warp_append.cuh"

namespace nsa::cuda {

template <int kThreads, int kDigitBits>
struct BlockKeySelect {
  static constexpr int kBins = 1 << kDigitBits;
  using Bucket = BucketSelect<kThreads, kBins>;

  struct Storage {
    typename Bucket::Storage bucket;
    uint32_t any, all, count;  // reductions over the members: OR, AND, how many
    uint32_t holes, moved;     // partition: holes found in [0, k), entries moved into them
  };

  // The k-th greatest (key, code): entry i is among the k greatest iff
  // key > t.key || (key == t.key && code >= t.code).
  struct Threshold {
    uint32_t key, code;
  };
  __device__ static bool kept(uint32_t key, uint32_t code, Threshold t) {
    return key > t.key || (key == t.key && code >= t.code);
  }

  // What a caller may know of the k-th key before the select: that it is `key`, with `above`
  // entries (fewer than k) lying above it. ~0u above: nothing known.
  struct Known {
    uint32_t key = 0u, above = ~0u;
  };

  // k-th greatest of entries [0, n) (1 <= k <= the number of non-empty ones). `hist` holds kBins
  // words, 16-byte aligned (every `hist` below too). With the k-th key `known` (exactly
  // known.above entries above known.key, at least k - known.above at it), only the codes of the
  // entries at it are selected. Every thread must call; begins and ends with a barrier.
  __device__ static Threshold select(Storage& s, const uint32_t* keys, const uint32_t* codes, uint32_t n, uint32_t k,
                                     uint32_t* hist, Known known = {}) {
    uint32_t tied = known.key, remain = k - known.above;
    if (known.above == ~0u) {
      const Word by_key = select_word(
          s, k, entries(n, [&](uint32_t i) { return keys[i]; }, [&](uint32_t i) { return keys[i] != 0u; }), hist);
      if (by_key.exact) return {by_key.value, 0u};
      tied = by_key.value;
      remain = by_key.remain;
    }
    const Word by_code = select_word(
        s, remain, entries(n, [&](uint32_t i) { return codes[i]; }, [&](uint32_t i) { return keys[i] == tied; }), hist);
    return {tied, by_code.value};
  }

  // A key v that at least k of the keys [0, n) reach (key >= v), as high as the radix digits tell
  // apart: the k-th greatest key, or a lower bound of it when the digits above it already count k
  // exactly (1 <= k <= n). Every thread must call; begins with a barrier.
  __device__ static uint32_t key_floor(Storage& s, const uint32_t* keys, uint32_t n, uint32_t k, uint32_t* hist) {
    return select_word(s, k, entries(n, [&](uint32_t i) { return keys[i]; }, [](uint32_t) { return true; }), hist).value;
  }

  // Zeroes the kBins words of `hist` (block_clear.cuh; a loop over a pass's 1 << bits bins, its
  // count known only at run time, cost ~45 instructions a pass: kernel-notes, v6 step 26).
  __device__ static void clear(uint32_t* hist) { block_clear<kThreads, kBins>(hist); }

  // One select over 32-bit words: among the members, the word value holding the remain-th
  // greatest. exact: the members with word >= value are exactly `remain` (value's low bits may be
  // zero); otherwise value is a whole word shared by more members than needed, `remain` of which
  // are still to be taken (those with greater words are kept).
  struct Word {
    uint32_t value;
    uint32_t remain;
    bool exact;
  };

  // The Word of the remain-th greatest among the members that `each` visits (1 <= remain <= their
  // number): each(f) calls f(member, word) for every entry the calling thread holds. Entries may
  // live anywhere: in shared memory (entries()), or in registers. `row`: the CTAs that hold the
  // row's members (row_exchange.cuh), whose statistics and histograms are summed before each
  // decision. Every thread must call; begins with a barrier.
  template <class Each, class Row = SoloRow>
  __device__ static Word select_word(Storage& s, uint32_t remain, Each&& each, uint32_t* hist, const Row& row = Row{}) {
    __syncthreads();
    if (threadIdx.x == 0) {
      s.any = s.count = 0;
      s.all = ~0u;
    }
    __syncthreads();
    uint32_t any = 0, all = ~0u, count = 0;
    each([&](bool in, uint32_t w) {
      if (in) {
        any |= w;
        all &= w;
        ++count;
      }
    });
    any = __reduce_or_sync(0xffffffffu, any);
    all = __reduce_and_sync(0xffffffffu, all);
    count = __reduce_add_sync(0xffffffffu, count);
    if ((threadIdx.x & 31u) == 0) {
      atomicOr(&s.any, any);
      atomicAnd(&s.all, all);
      atomicAdd(&s.count, count);
    }
    __syncthreads();
    any = s.any;  // the block's (the row's once merged)
    all = s.all;
    count = s.count;
    row.merge_stats(any, all, count);
    const uint32_t differ = any ^ all;
    if (!differ) return {all, remain, count == remain};
    int resolved = __clz(int(differ));  // bits every member shares
    uint32_t prefix = resolved ? all >> (32 - resolved) : 0u;
    for (;;) {
      const int bits = min(kDigitBits, 32 - resolved);
      const int shift = 32 - resolved - bits;
      const uint32_t high = resolved ? ~0u << (32 - resolved) : 0u;  // the bits already resolved
      const uint32_t want = resolved ? prefix << (32 - resolved) : 0u;
      const uint32_t mask = (1u << bits) - 1u;
      clear(hist);  // every bin: the bucket scan then takes kBins, a constant (bins past 1 << bits stay 0)
      __syncthreads();
      each([&](bool in, uint32_t w) {
        if (in && (w & high) == want) atomicAdd(&hist[(w >> shift) & mask], 1u);
      });
      __syncthreads();
      row.merge_hist(hist, 1 << bits);
      Bucket::run(s.bucket, hist, kBins, remain);
      const uint32_t b = s.bucket.bin;
      remain -= s.bucket.above;
      prefix = (prefix << bits) | b;
      resolved += bits;
      const uint32_t in_bin = hist[b];
      __syncthreads();  // hist and the bucket result are read before the next pass rewrites them
      if (in_bin == remain) return {resolved == 32 ? prefix : prefix << (32 - resolved), remain, true};
      if (resolved == 32) return {prefix, remain, false};
    }
  }

  // Moves the k kept entries of [0, n) to [0, k), in no particular order. `holes` holds k words.
  // Every thread must call; begins and ends with a barrier.
  __device__ static void partition(Storage& s, uint32_t* keys, uint32_t* codes, uint32_t n, uint32_t k, Threshold t,
                                   uint32_t* holes) {
    __syncthreads();
    if (threadIdx.x == 0) s.holes = s.moved = 0;
    __syncthreads();
    // Entries of [0, k) that go free a hole each; there are as many kept entries beyond k.
    for (uint32_t base = 0; base < k; base += kThreads) {
      const uint32_t i = base + threadIdx.x;
      const bool hole = i < k && !kept(keys[i], codes[i], t);
      const uint32_t at = warp_append_one(hole, &s.holes);
      if (hole) holes[at] = i;
    }
    __syncthreads();
    for (uint32_t base = k; base < n; base += kThreads) {
      const uint32_t i = base + threadIdx.x;
      const uint32_t key = i < n ? keys[i] : 0u, code = i < n ? codes[i] : 0u;
      const bool keep = i < n && kept(key, code, t);
      const uint32_t at = warp_append_one(keep, &s.moved);
      if (keep) {
        keys[holes[at]] = key;
        codes[holes[at]] = code;
      }
    }
    __syncthreads();
  }

  // Entries [0, n) held in shared memory, as select_word visits them: kThreads at a time, so that
  // the lanes of a warp call f together.
  template <class WordOf, class Member>
  __device__ static auto entries(uint32_t n, WordOf word, Member member) {
    return [=](auto&& f) {
      for (uint32_t base = 0; base < n; base += kThreads) {
        const uint32_t i = base + threadIdx.x;
        const bool in = i < n && member(i);
        f(in, in ? word(i) : 0u);
      }
    };
  }
};

}  // namespace nsa::cuda
