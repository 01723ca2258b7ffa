// The radix select kernel: exact top-k of each row by most-significant-digit radix select over
// order-preserving keys, one CTA per row (C == 1) or one thread-block cluster of C CTAs per row.
//
// Each CTA owns one contiguous chunk of its row. Per row:
//  1. Pass 1 reads the chunk from global memory once (16-byte loads), keeps its keys in shared
//     memory when the chunk fits the cache, and counts the first digit (11 bits); the bin of the
//     k-th greatest key is found from the histogram summed over the row.
//  2. The chunk's elements in that bin and above are compacted, in position order, into the
//     candidate list, when they fit (ranks from RunRank over the cached chunk, TileRank over row
//     tiles streamed from global memory). Whatever does not fit is not dropped: that CTA keeps
//     scanning its cached chunk, or re-reads it from global memory (chunks too long to cache).
//  3. Further histogram passes over the candidates resolve the next digits, until the remaining
//     ties all fit or the key is fully known (the k-th key T).
//  4. One ordered pass writes, in ascending position, every element above the threshold and the
//     ties the tie-break takes (smallest or largest positions; under the tie-break none without
//     `deterministic`, ties spread evenly over the row: SpreadTies), with output slots from
//     ordered ranks (RunRank or TileRank): no atomics decide anything, so the bytes are the same
//     on every run.
// In a cluster every exchange is a push: asynchronous stores into the other CTAs' shared memory,
// counted on their mbarriers (block/cluster_exchange.cuh): a pass's sums of groups of bins, then
// the picked group's bins, then each CTA's counts above and tied to the CTAs holding later
// positions; every read is of the CTA's own shared memory, and no cluster barrier follows the
// start's but the exit's. Each CTA's output slots start after the selections of the CTAs holding
// earlier positions.
#pragma once
#include <algorithm>
#include <cstdint>

#include "../../common/key_traits.h"
#include "../block/bucket_select.cuh"
#include "../block/cluster_exchange.cuh"
#include "../block/cluster_ops.cuh"
#include "../block/run_rank.cuh"
#include "../block/tile_rank.cuh"
#include "../tuning.h"
#include "output.cuh"
#include "pdl.cuh"
#include "../block/timeline.cuh"

namespace nsa::cuda {

struct RadixParams {
  TopKArgs a;
  OutputSpec out;
  // Shared-memory region of `region_words` 4-byte words per CTA. A chunk of up to `chunk_cap`
  // elements is cached there as keys (after up to 3 words of alignment pad), followed, 4 words
  // past chunk_cap, by a candidate list of `cand_cap` entries (key and position). An uncached chunk uses the whole region for candidates (region_words / 2 entries).
  int32_t region_words;
  int32_t chunk_cap;
  int32_t cand_cap;
  // Rows longer than this on the device are left to the spread kernels, launched beside this one
  // (dispatch.cu's length split); INT64_MAX when this kernel takes every row.
  int64_t longest;
  // The tie-break none on output that need not be repeatable: the ties taken are spread evenly
  // over the row's (radix_select_row's output), not its first ones.
  bool spread_ties;
};

// Dynamic shared memory of one CTA: its histogram and the region (what a cluster's CTAs receive
// from each other is static: ClusterExchangeStorage).
constexpr size_t radix_smem_bytes(int32_t region_words) {
  return (size_t(tuning::kMaxBins) + size_t(region_words)) * sizeof(uint32_t);
}

// The kernel's static shared memory: its __shared__ objects (radix_select_row), in the order
// declared there, each at its alignment, as ptxas lays them out, in whole 16-byte units; an
// instance holds those it uses (the bin's block scan for C == 1, the exchange for C > 1, the keys'
// span for 32-bit keys). nvcc 13.0, -Xptxas=-v: 784 bytes for one CTA, 7104 for a cluster's, as
// the structs hold (16-bit keys: 128 bytes fewer; the structs are an upper bound there).
// The opt-in limit covers it and the dynamic part together (radix_shape in dispatch.cu); a
// launch that still exceeded it would fail, not run.
struct RadixRowStatic {
  using Rank = TileRank<tuning::kThreads, tuning::kItems>;  // ordered ranks over row tiles
  using Run = RunRank<tuning::kThreads>;                     // ... over shared-memory arrays
  using Select = BucketSelect<tuning::kThreads, tuning::kMaxBins>;
  Rank::Storage rank;
  Run::Storage run;
};
struct RadixBlockStatic : RadixRowStatic {
  Select::Storage select;
  uint2 span[tuning::kThreads / 32];
};
using RadixExchangeStorage = ClusterExchangeStorage<tuning::kMaxBins, tuning::kMaxClusterSize>;
struct RadixClusterStatic : RadixRowStatic {
  uint2 span[tuning::kThreads / 32];
  alignas(8) uint32_t published[2 * tuning::kMaxClusterSize];
  RadixExchangeStorage exchange;
};
constexpr size_t radix_static_smem_bytes(int cluster) {
  return ((cluster == 1 ? sizeof(RadixBlockStatic) : sizeof(RadixClusterStatic)) + 15) / 16 * 16;
}

// Calls fn(key, pos, valid) for each tile of [begin, end) of a row, in position order, striped so
// that loads coalesce. The trip count is uniform over the block (fn may hold barriers).
template <class Traits, class Fn>
__device__ __forceinline__ void for_each_row_tile(const typename Traits::Bits* row, int64_t begin,
                                                  int64_t end, Fn&& fn) {
  using Bits = typename Traits::Bits;
  constexpr int kT = tuning::kThreads, kI = tuning::kItems;
  constexpr int64_t kTile = int64_t(kT) * kI;
  // The next tile's loads are issued before this tile is processed (fn holds barriers and waits).
  Bits next[kI];
  auto load = [&](int64_t base) {
#pragma unroll
    for (int u = 0; u < kI; ++u) {
      const int64_t i = base + u * kT + threadIdx.x;
      if (i < end) next[u] = row[i];
    }
  };
  if (begin < end) load(begin);
  for (int64_t base = begin; base < end; base += kTile) {
    uint32_t key[kI];
    int32_t pos[kI];
    bool valid[kI];
#pragma unroll
    for (int u = 0; u < kI; ++u) {
      const int64_t i = base + u * kT + threadIdx.x;
      valid[u] = i < end;
      key[u] = valid[u] ? Traits::key(next[u]) : 0u;
      pos[u] = int32_t(i);
    }
    if (base + kTile < end) load(base + kTile);
    fn(key, pos, valid);
  }
}

// The same over keys in shared memory, in position order: a candidate list (with positions), or
// the cached chunk (positions == nullptr: entry i is position first + i).
template <class Fn>
__device__ __forceinline__ void for_each_smem_tile(const uint32_t* keys, const int32_t* positions,
                                                   int32_t first, int32_t n, Fn&& fn) {
  constexpr int kT = tuning::kThreads, kI = tuning::kItems;
  for (int32_t base = 0; base < n; base += kT * kI) {
    uint32_t key[kI];
    int32_t pos[kI];
    bool valid[kI];
#pragma unroll
    for (int u = 0; u < kI; ++u) {
      const int32_t i = base + u * kT + int32_t(threadIdx.x);
      valid[u] = i < n;
      key[u] = valid[u] ? keys[i] : 0u;
      pos[u] = !valid[u] ? 0 : positions ? positions[i] : first + i;
    }
    fn(key, pos, valid);
  }
}

// Where a chunk's cached keys start in the region: shifted by up to 3 words so that the keys of
// each 16-byte load of scores land on a 16-byte boundary and are stored as whole vectors.
template <class Traits>
__device__ __forceinline__ int32_t cache_pad(const typename Traits::Bits* chunk) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(chunk);
  if (addr % sizeof(typename Traits::Bits)) return 0;
  const int32_t head = int32_t((16 - addr % 16) % 16 / sizeof(typename Traits::Bits));
  return (4 - head % 4) % 4;
}

// Pass 1: reads [begin, end) of the row once, 16 bytes per load with several loads in flight per
// thread, counts the first digit and, when kStore, keeps every key in shared memory (at cache +
// cache_pad).
template <class Traits, bool kStore>
__device__ __forceinline__ void first_pass(const typename Traits::Bits* row, int64_t begin, int64_t end,
                                            uint32_t* cache, uint32_t* hist, int shift) {
  using Bits = typename Traits::Bits;
  constexpr int kV = 16 / sizeof(Bits), kU = tuning::kVectorsInFlight, kT = tuning::kThreads;
  const Bits* p = row + begin;
  const int32_t n = int32_t(end - begin);
  auto count = [&](uint32_t key) { atomicAdd(&hist[key >> shift], 1u); };
  auto put = [&](int32_t i, Bits bits) {
    const uint32_t key = Traits::key(bits);
    if constexpr (kStore) cache[i] = key;
    count(key);
  };
  // Scalar head up to 16-byte alignment (all of it if the row is not even element-aligned).
  const uintptr_t addr = reinterpret_cast<uintptr_t>(p);
  const int32_t head = addr % sizeof(Bits) ? n : min(n, int32_t((16 - addr % 16) % 16 / sizeof(Bits)));
  const int32_t nvec = (n - head) / kV;
  const uint4* vec = reinterpret_cast<const uint4*>(p + head);
  uint4* const cache_vec = reinterpret_cast<uint4*>(cache + head);  // 16-byte aligned (cache_pad)
  for (int32_t i = threadIdx.x; i < head; i += kT) put(i, p[i]);
  for (int32_t v0 = 0; v0 < nvec; v0 += kT * kU) {
    uint4 raw[kU];
#pragma unroll
    for (int u = 0; u < kU; ++u) {
      const int32_t v = v0 + u * kT + int32_t(threadIdx.x);
      if (v < nvec) raw[u] = __ldg(vec + v);
    }
#pragma unroll
    for (int u = 0; u < kU; ++u) {
      const int32_t v = v0 + u * kT + int32_t(threadIdx.x);
      if (v < nvec) {
        const Bits* e = reinterpret_cast<const Bits*>(&raw[u]);
#pragma unroll
        for (int q = 0; q < kV / 4; ++q) {
          uint4 keys;
          keys.x = Traits::key(e[4 * q]);
          keys.y = Traits::key(e[4 * q + 1]);
          keys.z = Traits::key(e[4 * q + 2]);
          keys.w = Traits::key(e[4 * q + 3]);
          if constexpr (kStore) cache_vec[v * (kV / 4) + q] = keys;
          count(keys.x);
          count(keys.y);
          count(keys.z);
          count(keys.w);
        }
      }
    }
  }
  for (int32_t i = head + nvec * kV + int32_t(threadIdx.x); i < n; i += kT) put(i, p[i]);
}

// How the output pass takes a row's ties, by their rank e among the row's `tied` ties in position
// order: taken(e), the ties taken before the e-th (so tie e is taken where it steps), and
// pick(b, mb), the mask of a run's ties taken, b the ties before the run and mb its mask of them.
// OrderedTies: those ranked in [lo, hi), the first `remain` (tie-breaks none and small) or the
// last (large).
struct OrderedTies {
  uint32_t lo, hi;
  __device__ uint32_t taken(uint32_t e) const { return min(max(e, lo), hi) - lo; }
  __device__ uint32_t pick(uint32_t b, uint32_t mb) const {
    const uint32_t n = uint32_t(__popc(mb));
    const uint32_t skip = lo > b ? min(lo - b, n) : 0u;
    const uint32_t keep = hi > b ? min(hi - b, n) : 0u;
    return skip >= keep ? 0u : lowest_set(mb, keep) & ~lowest_set(mb, skip);
  }
};

// SpreadTies (the tie-break none on output that need not be repeatable): `remain` of `tied`
// evenly spaced, taken(e) = floor(e remain / tied), so the slots stay closed-form and no CTA needs
// counts it lacks. The row's j-th taken tie is its tie ceil((j + 1) tied / remain) - 1. Only where
// 32-bit arithmetic holds it (fits: every row up to 2^21 elements with k up to 2048): a 64-bit
// division is a software routine whose registers cost the rows that never spread (v6 step 84b).
struct SpreadTies {
  uint32_t tied, remain;
  __device__ static bool fits(uint32_t tied, uint32_t remain) {
    return (uint64_t(tied) + 1u) * remain < (uint64_t(1) << 32);
  }
  __device__ uint32_t taken(uint32_t e) const { return e * remain / tied; }
  __device__ uint32_t pick(uint32_t b, uint32_t mb) const {
    uint32_t mask = 0;
    for (uint32_t j = taken(b), last = taken(b + uint32_t(__popc(mb))); j < last; ++j) {
      const uint32_t e = ((j + 1u) * tied + remain - 1u) / remain - 1u;
      mask |= 1u << __fns(mb, 0u, int(e - b + 1u));
    }
    return mask;
  }
};

// One row (one CTA's share of it when C > 1): the body of radix_select_kernel.
template <class Traits, int C>
__device__ __forceinline__ void radix_select_row(const RadixParams& p) {
  using Bits = typename Traits::Bits;
  using Cluster = ClusterOps<C>;
  using Rank = RadixRowStatic::Rank;
  using Run = RadixRowStatic::Run;
  using Select = RadixRowStatic::Select;
  constexpr int kKeyBits = Traits::kKeyBits;
  constexpr int kI = tuning::kItems;
  using Keys = const uint32_t (&)[kI];
  using Positions = const int32_t (&)[kI];
  using Valid = const bool (&)[kI];
  static_assert(C <= tuning::kMaxClusterSize, "published[] holds the counts of kMaxClusterSize CTAs");
  using Exchange = ClusterExchange<C, tuning::kThreads, tuning::kMaxBins, tuning::kMaxClusterSize>;
  // Whether a later pass can spare the next (32-bit keys): the keys it counted agree in their AND
  // and OR below its digit, so the keys tied in its bin are one value (plateaus).
  constexpr bool kSpan = kKeyBits > tuning::kFirstDigitBits + tuning::kLaterDigitBits;

  extern __shared__ __align__(16) uint32_t smem[];
  uint32_t* const hist = smem;  // this CTA's counts
  uint32_t* const region = smem + tuning::kMaxBins;
  __shared__ typename Rank::Storage rank_s;
  __shared__ typename Run::Storage run_s;
  __shared__ typename Select::Storage select_s;
  // Each warp's AND (x) and OR (y) of the keys it counted in a spanned pass (choose_bin); {0, ~0},
  // which never agree, where its CTA listed its ties instead of counting them in the pass.
  __shared__ uint2 span_s[tuning::kThreads / 32];
  // C > 1: (above, tied) of CTA c at [2c, 2c + 1], sent by each CTA c < me (Exchange::send_counts).
  __shared__ alignas(8) uint32_t published[2 * tuning::kMaxClusterSize];  // 8-byte sends
  __shared__ RadixExchangeStorage exchange_s;

  auto clear_hist = [&](int bits) {
    for (int i = threadIdx.x; i < (1 << bits); i += tuning::kThreads) hist[i] = 0;
    __syncthreads();
  };
  // Marks (NSA_TOPK_TIMELINE builds): entry; the first pass's start, end and bin; the candidate
  // list; each later pass's histogram and bin; the output offsets; the end.
  Timeline timeline;
  timeline.mark();
  Exchange exchange(exchange_s);
  const unsigned me = Cluster::rank();
  // Pass 1's histogram (and, C > 1, the exchange's mbarriers) is shared memory only: made before
  // the PDL wait, it overlaps the previous kernel's tail; nothing of global memory is touched
  // before the wait.
  if constexpr (C > 1) exchange.init();
  if (kSpan && threadIdx.x < tuning::kThreads / 32) span_s[threadIdx.x] = make_uint2(0u, ~0u);
  clear_hist(tuning::kFirstDigitBits);
  pdl_wait();
  pdl_launch_dependents();

  const int64_t r = blockIdx.x / C;
  if (r >= p.a.rows) return;  // every CTA of a cluster has the same row
  const Window w = clamp_window(p.a.stride, p.a.row_starts, p.a.lengths, r);
  if (w.length > p.longest) return;  // the whole cluster: before any cluster barrier
  const Bits* const row = row_window<Traits>(p.a, r, w);
  const int32_t k = p.out.k;

  if (w.length <= k) {  // the whole window is selected, in position order; then padding
    for (int64_t i = int64_t(me) * tuning::kThreads + threadIdx.x; i < k; i += int64_t(C) * tuning::kThreads)
      emit<Traits>(p.out, p.a, r, i, i < w.length ? int32_t(i) : -1, row);
    return;
  }
  // The start's cluster barrier, first half (C > 1): the mbarriers made above are published, and
  // no CTA sends before the second half, at the end of pass 1 (choose_bin), so pass 1's loads
  // overlap the other CTAs' arrival. Past the early returns, which are the whole cluster's.
  if constexpr (C > 1) Exchange::begin();
  const int64_t begin = w.length * me / C, end = w.length * (me + 1) / C;
  const bool cached = end - begin <= p.chunk_cap;
  uint32_t* const cache = region + cache_pad<Traits>(row + begin);
  uint32_t* const cand_key = cached ? region + p.chunk_cap + 4 : region;
  const int32_t cand_cap = cached ? p.cand_cap : p.region_words / 2;
  int32_t* const cand_pos = reinterpret_cast<int32_t*>(cand_key + cand_cap);

  // Selection state, the same in every CTA of the cluster: elements whose top `resolved` key bits
  // exceed `prefix` are selected; `remain` more are to be taken among the `tied` ones equal to it.
  uint32_t prefix = 0, remain = uint32_t(k), tied = uint32_t(w.length);
  int resolved = 0;
  // This CTA's share of the above.
  uint32_t my_above = 0, my_tied = uint32_t(end - begin);
  // The top `resolved` bits of a key; only used once resolved > 0.
  auto prefix_of = [&](uint32_t key) { return key >> (kKeyBits - resolved); };

  // Where this CTA's elements are read from: the row, the cached chunk, or the candidate list.
  enum class Source { Row, Cache, List };
  Source source = cached ? Source::Cache : Source::Row;
  int32_t ncand = 0;
  auto tiles = [&](auto&& fn) {
    if (source == Source::List) for_each_smem_tile(cand_key, cand_pos, 0, ncand, fn);
    else if (source == Source::Cache) for_each_smem_tile(cache, nullptr, int32_t(begin), int32_t(end - begin), fn);
    else for_each_row_tile<Traits>(row, begin, end, fn);
  };

  // The end of a radix pass, once `hist` holds this CTA's counts of the next `bits` bits of the
  // elements still tied: sum over the cluster, pick the bin, narrow the selection state.
  int pass = 0;  // passes done (C > 1: the exchange's buffers alternate by pass)
  // `spanned` (the same in every CTA): the pass also made span_s.
  auto choose_bin = [&](int bits, bool spanned) {
    const int nbins = 1 << bits;
    __syncthreads();  // the pass's counts are all in
    uint32_t b, above, count;  // the bin, the row's counts above it and in it
    uint2 span = make_uint2(0u, ~0u);  // the row's AND and OR of the keys counted, when spanned
    if constexpr (C > 1) {
      if (pass == 0) Exchange::ready();  // every CTA's mbarriers made
      const auto pick = exchange.pick(hist, nbins, remain, pass, kSpan && spanned ? span_s : nullptr);
      b = pick.bin, above = pick.above, count = pick.count;
      my_above += pick.my_above;
      my_tied = pick.my_count;
      span = pick.span;
    } else {
      if (kSpan && spanned) {
        span = make_uint2(~0u, 0u);
#pragma unroll
        for (int w = 0; w < tuning::kThreads / 32; ++w) span = make_uint2(span.x & span_s[w].x, span.y | span_s[w].y);
      }
      Select::run(select_s, hist, nbins, remain);
      b = select_s.bin, above = select_s.above, count = hist[b];
      my_above += above;  // this CTA's counts are the row's
      my_tied = count;
    }
    remain -= above;
    tied = count;
    prefix = (prefix << bits) | b;
    resolved += bits;
    if (kSpan && spanned) {
      const uint32_t low = (1u << (kKeyBits - resolved)) - 1u;  // the bits still unknown
      if (((span.x ^ span.y) & low) == 0) {  // every counted key has the same low bits: resolved
        prefix = (prefix << (kKeyBits - resolved)) | (span.x & low);
        resolved = kKeyBits;
      }
    }
    ++pass;
    // Reads of hist are done before the next pass clears it.
    __syncthreads();
  };
  // Pass 1 (its histogram cleared above).
  timeline.mark();
  if (cached) first_pass<Traits, true>(row, begin, end, cache, hist, kKeyBits - tuning::kFirstDigitBits);
  else first_pass<Traits, false>(row, begin, end, cache, hist, kKeyBits - tuning::kFirstDigitBits);
  timeline.mark();
  choose_bin(tuning::kFirstDigitBits, false);
  timeline.mark();

  if (tied > remain && resolved < kKeyBits) {
    // A later pass counts the next digit of the elements still tied (the same bits in every CTA).
    int bits = 0, shift = 0;
    auto next_digit = [&] {
      bits = min(tuning::kLaterDigitBits, kKeyBits - resolved);
      shift = kKeyBits - resolved - bits;
      clear_hist(bits);
    };
    auto count_tie = [&](uint32_t key) {  // whether the key is a tie (and counted)
      const bool tie = prefix_of(key) == prefix;
      if (tie) atomicAdd(&hist[(key >> shift) & ((1u << bits) - 1u)], 1u);
      return tie;
    };
    // Compact this CTA's elements at or above the bin, in position order, when they fit, and
    // count the second pass's digit of its ties as they are listed (the list's ties are what
    // that pass would sweep), so that the pass needs no sweep of its own.
    bool counted = false;
    if (my_above + my_tied <= uint32_t(cand_cap)) {
      next_digit();
      if (source == Source::Cache) {
        ncand = int32_t(Run::sweep<false>(
                            run_s, int32_t(end - begin),
                            [&](int32_t i, bool& keep, bool& none) {
                              keep = prefix_of(cache[i]) >= prefix;
                              none = false;
                            },
                            [&](int32_t i, bool, uint32_t at, uint32_t) {
                              const uint32_t key = cache[i];
                              cand_key[at] = key;
                              cand_pos[at] = int32_t(begin) + i;
                              count_tie(key);
                            })
                            .x);
      } else {
        for_each_row_tile<Traits>(row, begin, end, [&](Keys key, Positions pos, Valid valid) {
          bool keep[kI], none[kI];
#pragma unroll
          for (int u = 0; u < kI; ++u) {
            keep[u] = valid[u] && prefix_of(key[u]) >= prefix;
            none[u] = false;
          }
          uint32_t before[kI];
          const uint32_t n = Rank::rank(rank_s, keep, none, before);
#pragma unroll
          for (int u = 0; u < kI; ++u)
            if (keep[u]) {
              const int32_t at = ncand + int32_t(before[u] >> 16);
              cand_key[at] = key[u];
              cand_pos[at] = pos[u];
              count_tie(key[u]);
            }
          ncand += int32_t(n >> 16);
        });
      }
      __syncthreads();
      source = Source::List;
      counted = true;
    }
    timeline.mark();
    while (tied > remain && resolved < kKeyBits) {  // further passes over the elements still tied
      // Spanned: not the key's last digit, which leaves nothing to spare, and only where the row's
      // ties are too many for the CTAs' lists (a plateau), the same in every CTA, so that the
      // exchange's messages agree. A CTA that listed its ties (and so counted them there) sends
      // the span that never agrees.
      const bool spanned = kSpan && resolved + min(tuning::kLaterDigitBits, kKeyBits - resolved) < kKeyBits &&
                           tied > uint32_t(C) * uint32_t(p.chunk_cap > 0 ? p.cand_cap : p.region_words / 2);
      if (!counted) {
        next_digit();
        uint32_t all = ~0u, any = 0u;
        tiles([&](Keys key, Positions, Valid valid) {
#pragma unroll
          for (int u = 0; u < kI; ++u)
            if (valid[u] && count_tie(key[u]) && spanned) {
              all &= key[u];
              any |= key[u];
            }
        });
        if (spanned) {
          all = __reduce_and_sync(0xffffffffu, all);
          any = __reduce_or_sync(0xffffffffu, any);
          if ((threadIdx.x & 31u) == 0) span_s[threadIdx.x / 32] = make_uint2(all, any);
        }
      }
      counted = false;
      timeline.mark();
      choose_bin(bits, spanned);
      timeline.mark();
    }
  }

  // Output slots: elements above before position j, plus the ties taken before j.
  uint32_t above_run = 0, ties_run = 0;
  if constexpr (C > 1) {
    // Each CTA sends its counts to the CTAs holding later positions and waits for the earlier
    // ones'. The exit's cluster barrier (first half here, relaxed; after the wait, so that every
    // CTA's arrival means it has every byte sent to it) keeps every CTA until all sends landed.
    exchange.send_counts(my_above, my_tied, published);
    exchange.wait_counts();
    Exchange::begin();
    for (unsigned c = 0; c < me; ++c) {
      above_run += published[2 * c];
      ties_run += published[2 * c + 1];
    }
  }
  timeline.mark();
  const uint32_t dropped = tied - remain;
  const bool large = p.out.tie_break == TieBreak::Large;
  // The output pass for one way of taking ties (OrderedTies or SpreadTies), instantiated for
  // each so that the ordered one's code holds none of the spread's arithmetic (the registers
  // are still allocated for the whole kernel: v6 step 84c).
  const auto output = [&](const auto& ties) {
    if (source == Source::Row) {
      for_each_row_tile<Traits>(row, begin, end, [&](Keys key, Positions pos, Valid valid) {
        bool above[kI], tie[kI];
#pragma unroll
        for (int u = 0; u < kI; ++u) {
          const uint32_t pre = prefix_of(key[u]);
          above[u] = valid[u] && pre > prefix;
          tie[u] = valid[u] && pre == prefix;
        }
        uint32_t before[kI];
        const uint32_t n = Rank::rank(rank_s, above, tie, before);
#pragma unroll
        for (int u = 0; u < kI; ++u) {
          const uint32_t b = ties_run + (before[u] & 0xffffu);
          if (above[u] || (tie[u] && ties.taken(b + 1) > ties.taken(b)))
            emit<Traits>(p.out, p.a, r, int64_t(above_run + (before[u] >> 16)) + ties.taken(b), pos[u], row);
        }
        above_run += n >> 16;
        ties_run += n & 0xffffu;
      });
    } else {
      const bool list = source == Source::List;
      const uint32_t* const keys = list ? cand_key : cache;
      // The sweep emits only the elements above and the ties `pick` takes (a plateau's others
      // are not visited one by one), so each emitted one is selected.
      Run::sweep(
          run_s, list ? ncand : int32_t(end - begin),
          [&](int32_t i, bool& above, bool& tie) {
            const uint32_t pre = prefix_of(keys[i]);
            above = pre > prefix;
            tie = pre == prefix;
          },
          [&](int32_t i, bool above, uint32_t above_before, uint32_t ties_before) {
            const uint32_t slot = above_run + above_before + ties.taken(ties_run + ties_before);
            emit<Traits>(p.out, p.a, r, int64_t(slot), list ? cand_pos[i] : int32_t(begin) + i, row);
          },
          [&](uint32_t first_b, uint32_t mb) { return ties.pick(ties_run + first_b, mb); });
    }
  };
  // p.spread_ties: the ties taken are spread evenly over the row, so that a plateau's taken ties
  // fall to every CTA and thread instead of crowding the first runs (CTA 0 writing ~2,000 of a
  // ReLU row's: v6 step 39).
  if (p.spread_ties && tied > remain && SpreadTies::fits(tied, remain))
    output(SpreadTies{tied, remain});
  else
    output(OrderedTies{large ? dropped : 0u, large ? tied : remain});
  timeline.mark();
  if constexpr (C > 1) Exchange::ready();  // the exit's cluster barrier, second half
}

template <class Traits, int C>
__global__ void __launch_bounds__(tuning::kThreads, tuning::kMinCtasPerSm) radix_select_kernel(const RadixParams p) {
  if constexpr (C == 1 || NSA_TOPK_HAS_CLUSTERS) radix_select_row<Traits, C>(p);
  else __trap();  // a cluster instance built for a GPU without clusters: never launched
}

}  // namespace nsa::cuda
