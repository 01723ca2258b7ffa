// The register top-k agent: one CTA, or each CTA of a cluster, holds a row short enough for
// their registers (the policy's kItems scores per thread), reading each score once and keeping
// nothing of the row in shared memory, and they select its k greatest.
//
// Row (row_exchange.cuh): SoloRow, one CTA holds the whole row; ClusterRow, CTA c of a cluster
// holds the chunk [c C, (c + 1) C) of it (C: a CTA's capacity), and the CTAs sum their
// histograms and the select's statistics, exchange their counts for the output slots, and stage
// their selections in the first CTA's shared memory, which writes the row. A cluster always
// selects in the registers (no gather: the bin's members are spread over the CTAs).
//
// Stages (one method each):
//  1. load(): every 16-byte load of the row issued at once; then each score's ordered key, one
//     per register (key 0, which no score has, marks a slot past the row). The keys go into a
//     histogram over CoarseBins (bins that spread typical scores; one shared-memory increment per
//     element, which sm_90 merges for the lanes of a warp that hit one bin, so plateaus cost no
//     more): in a pass after the loads (count_bins), or, where the policy says so, each vector
//     as it arrives.
//  2. select(): the k-th greatest key: the key that exactly k reach, or the key of a run of ties
//     of which `remain` are taken. The histogram gives the bin of the k-th. That bin's members
//     are gathered into shared memory; rank_gathered ranks a few (a thread a key, or by warp
//     ballots: the policy's kBallotRank), BlockKeySelect selects among more. A bin too large to
//     gather (plateaus, rows of nearly equal scores) is selected in the registers instead, over
//     its members only.
//  3. stage(): a selection's output slot is its rank by position. Each thread's vectors give
//     masks of the elements above the cut and tied with it; block scans of their counts (of the
//     ties only when the cut falls in a run of them) give each vector's rank base, the ties are
//     taken in the tie-break's order (the first `remain` by position for small and none, the
//     last for large), and each selected element is staged at its base plus the selected bits
//     below it. No sample, no candidate buffer, no cut, no bitmap: the set and its order follow
//     from keys and positions alone, so the bytes are the same on every run and in any batch.
//     kAnyOrder (unsorted output that need not be repeatable): where the k-th's bin is taken
//     whole or holds few members, place() stages the selections in no particular order
//     instead, as select() finds them, and stages 2's cut and 3 are skipped.
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
// keys (sorted output), before them the keys gathered from the k-th's bin ([0, 2 kMaxK)); then
// the scratch: the radix histograms, later the block sort's storage.
#pragma once
#include <cstdint>

#include "../../common/key_traits.h"
#include "../block/block_exclusive_sum.cuh"
#include "../block/block_key_select.cuh"
#include "../block/block_stage_write.cuh"
#include "../block/coarse_bins.cuh"
#include "../block/pick.cuh"
#include "../block/row_exchange.cuh"
#include "../block/timeline.cuh"
#include "../block/warp_append.cuh"
#include "agent_batch_topk.cuh"

namespace nsa::cuda {

template <class Policy, class Traits, bool kLarge, class Row = SoloRow, bool kAnyOrder = false>
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
  using Bins = CoarseBins<Traits, Row::kZeroAlone>;
  static_assert(Bins::kBins == Select::kBins, "the coarse pass uses the select's bucket scan and histogram");
  static constexpr uint32_t kGatherCapacity = 2 * kMaxK;  // keys: the stage's words, before the stage
  using Write = BlockStageWrite<kThreads, kMaxK, Traits>;
  static_assert(Policy::kItems % kV == 0, "whole vectors");
  static constexpr uint32_t kScratchWords = uint32_t(
      sizeof(typename Write::SortStorage) / 4 > (1u << Policy::kDigitBits) ? sizeof(typename Write::SortStorage) / 4
                                                                           : (1u << Policy::kDigitBits));
  static constexpr size_t kDynamicSmemBytes = size_t(2 * kMaxK + kScratchWords) * sizeof(uint32_t);
  // kAnyOrder: a k-th's bin of up to this many members is placed without a cut (place()).
  static constexpr uint32_t kFewMembers = Policy::kBallotRank > 0 ? uint32_t(Policy::kBallotRank) : uint32_t(kThreads / 2);
  static_assert(!kAnyOrder || (!Row::kShared && !kLarge), "any order: a CTA's own row, the tie-break small or none");
  static_assert(2 * kFewMembers <= kMaxK, "place()'s members: keys and positions in the stage's key words");

  struct TempStorage {
    typename Select::Storage select;
    typename BlockExclusiveSum<kThreads>::Storage sums[2];  // scan<b>(): the warps' counts, in buffer b
    uint32_t wrapped_ties;        // thread 0's wrapped elements tied with the cut
    uint32_t wrapped_above;       // ... above it (ClusterRow: the CTA's count for the others)
    uint32_t gathered;            // gather(): keys appended
    uint32_t placed;              // place(): the stage's slots taken by the elements above the bin
    Word cut;                     // rank_gathered()'s result
  };

  TempStorage& ts;
  const BatchTopKParams& p;
  const int64_t r;
  const Window w;
  const Row row;
  const uint32_t chunk;  // the CTA's first position in the row
  const Bits* const scores;  // the CTA's chunk of the row
  const uint32_t length, k;  // length: the chunk's
  const bool aligned;  // the row is aligned for its type: whole vectors are loaded as such
  const uint32_t off;  // elements of the first aligned vector before the row
  uint32_t key[kVectors][kV];
  // Marks (NSA_TOPK_TIMELINE builds): start; loads; the histogram's counts; the bucket; the
  // gather (a bin ranked by rank_gathered only); the cut; the stage; the write.
  Timeline timeline;

  // w: row r's clamped window (the kernel's, which chose this agent by its length).
  __device__ AgentRegisterTopK(TempStorage& ts_, const BatchTopKParams& p_, int64_t r_, Window w_, Row row_)
      : ts(ts_),
        p(p_),
        r(r_),
        w(w_),
        row(row_),
        chunk(row_.rank() * kCapacity),
        scores(row_window<Traits>(p_.a, r_, w) + chunk),
        length(uint32_t(min(max(w.length - int64_t(chunk), int64_t(0)), int64_t(kCapacity)))),
        k(uint32_t(p_.out.k)),
        aligned(reinterpret_cast<uintptr_t>(scores) % sizeof(Bits) == 0),
        off(aligned ? uint32_t(reinterpret_cast<uintptr_t>(scores) % 16 / sizeof(Bits)) : 0u) {}

  // Whether a row of `length` fits `ctas` CTAs.
  __device__ static bool fits(int64_t length, unsigned ctas) { return length <= int64_t(ctas) * kCapacity; }

  __device__ static uint32_t* stage_positions() { return batch_topk_smem; }
  __device__ static uint32_t* stage_keys() { return batch_topk_smem + kMaxK; }
  __device__ static uint32_t* scratch() { return batch_topk_smem + 2 * kMaxK; }
  __device__ static uint32_t* gathered() { return batch_topk_smem; }

  __device__ void run() {
    const uint32_t row_length = uint32_t(w.length);
    timeline.mark();
    row.arrive();
    if (Policy::kCountOnLoad && row_length > k) {  // the select's histogram, counted as the loads arrive
      clear_bins();
      load<true>();
    } else {
      load<false>();
    }
    row.wait();
    timeline.mark();
    // row_length <= k: every element of the row (keys >= 1)
    const Word cut = row_length <= k ? Word{1u, 0u, true} : select();
    timeline.mark();
    const uint32_t m = min(row_length, k);
    if (!kAnyOrder || cut.value != kPlaced.value) stage(cut, m);
    timeline.mark();
    row.sync();  // ClusterRow: the selections staged in the first CTA, which writes them
    if (row.rank() != 0) return;
    Write::run(p.a, p.out, !kAnyOrder && p.sorted, r, scores - chunk, m,
               {stage_positions(), stage_keys(), reinterpret_cast<typename Write::SortStorage*>(scratch())});
    timeline.mark();
  }

  // Slot j's first element in the aligned span.
  __device__ static uint32_t first_of(int j) {
    return ((threadIdx.x >> 5) * kVectors * 32u + uint32_t(j) * 32u + (threadIdx.x & 31u)) * kV;
  }
  __device__ uint32_t position(uint32_t x) const { return x >= off ? x - off : x + kCapacity - off; }
  // Element q of slot j's position (only slot 0 may hold thread 0's wrapped elements).
  __device__ uint32_t position_of(int j, int q) const {
    return j == 0 ? position(first_of(0) + uint32_t(q)) : first_of(j) + uint32_t(q) - off;
  }
  // Whether slot j lies wholly in the row, unwrapped, and can be loaded as one vector.
  __device__ bool whole(int j) const {
    const uint32_t x0 = first_of(j);
    return aligned && x0 >= off && x0 + kV <= off + length;
  }

  // Whether the row fills the CTA from an aligned start: every vector whole, one test for the row
  // instead of one per vector (the loads and their counts).
  __device__ bool full() const { return aligned && off == 0 && length == kCapacity; }

  // Stage 1: the loads, then the keys (0 past the row); with kCount each vector's keys also go
  // into the histogram as the vector arrives (Policy::kCountOnLoad), after clear_bins().
  template <bool kCount>
  __device__ void load() {
    if (full()) load_vectors<true, kCount>();
    else load_vectors<false, kCount>();
  }
  template <bool kFull, bool kCount>
  __device__ void load_vectors() {
    const uint4* const vec = reinterpret_cast<const uint4*>(scores - off);
    uint4 raw[kVectors];
#pragma unroll
    for (int j = 0; j < kVectors; ++j)
      if (kFull || whole(j)) raw[j] = __ldg(vec + first_of(j) / kV);
    if constexpr (kCount) __syncthreads();  // clear_bins()'s zeros; waits while the loads are in flight
#pragma unroll
    for (int j = 0; j < kVectors; ++j) {
      if (kFull || whole(j)) {
        const uint32_t word[4] = {raw[j].x, raw[j].y, raw[j].z, raw[j].w};
#pragma unroll
        for (int q = 0; q < kV; ++q) key[j][q] = Traits::key(Bits(word[q / kPerWord] >> (q % kPerWord * 16)));
        if constexpr (kCount) count_vector<true>(j);
      } else {  // a vector partly in the row, or past it: element by element
#pragma unroll
        for (int q = 0; q < kV; ++q) {
          const uint32_t i = position(first_of(j) + q);
          key[j][q] = i < length ? Traits::key(scores[i]) : 0u;
        }
        if constexpr (kCount) count_vector<false>(j);
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

  // Stage 2: the cut, as select_word's Word over the whole row (1 <= k < length), from the
  // histogram of its keys: counted by load<true>() (kCountOnLoad), or here after the loads. One
  // load call in run(), whatever the policy: a load per branch there cost the 256-thread kernel
  // 190 more bytes of spills and plateau rows 1.14x (kernel-notes, v6 step 10).
  __device__ Word select() {
    if constexpr (!Policy::kCountOnLoad) {
      clear_bins();
      count_bins();
    }
    uint32_t* const hist = scratch();
    __syncthreads();  // the histogram's counts
    timeline.mark();
    row.merge_hist(hist, Bins::kBins);
    Select::Bucket::run(ts.select.bucket, hist, Bins::kBins, k);
    timeline.mark();
    const uint32_t remain = k - ts.select.bucket.above, in_bin = hist[ts.select.bucket.bin];
    const typename Bins::Range bin = Bins::range(ts.select.bucket.bin);
    if constexpr (kAnyOrder) {
      if (in_bin == remain || in_bin <= kFewMembers) {
        place(bin, k - remain, remain, in_bin);
        return kPlaced;
      }
    }
    if (in_bin == remain) return {bin.lo, remain, true};
    Word cut;
    if constexpr (Row::kShared) {
      cut = Select::select_word(ts.select, remain, [&](auto&& f) { each([&](bool, uint32_t x) { f(bin.holds(x), x); }); },
                                hist, row);
    } else if (in_bin <= kThreads / 2) {
      gather(mask_in(bin), in_bin, gathered());
      __syncthreads();
      timeline.mark();
      cut = rank_gathered(in_bin, remain);
    } else if (in_bin <= kGatherCapacity) {
      gather(mask_in(bin), in_bin, gathered());
      __syncthreads();
      cut = Select::select_word(ts.select, remain,
                                Select::entries(in_bin, [](uint32_t i) { return gathered()[i]; }, [](uint32_t) { return true; }),
                                hist);
    } else {
      cut = Select::select_word(ts.select, remain, [&](auto&& f) { each([&](bool, uint32_t x) { f(bin.holds(x), x); }); }, hist);
    }
    // An exact cut's value (whose low bits the select may have cleared) stays above bin.lo, so
    // keys of lower bins never reach it: fewer members than the bin's reach it, and every member
    // is at least bin.lo.
    return cut;
  }

  // The Word of the remain-th greatest of the n gathered keys (n <= kThreads), by counting for
  // each key those above it and equal to it. Up to the policy's kBallotRank keys (a normal
  // 8192-long row's bin holds ~40): each warp ranks some against all at once, a lane holding
  // two, by ballots. Otherwise a thread per key loops over the n (still cheaper than radix passes
  // while n is small). Every thread must call; ends with a barrier.
  static constexpr uint32_t kBallotRank = uint32_t(Policy::kBallotRank);
  static_assert(kBallotRank <= 64 && kBallotRank % kWarps == 0, "two keys a lane; each warp as many keys");
  __device__ Word rank_gathered(uint32_t n, uint32_t remain) {
    const uint32_t i = threadIdx.x;
    // x is the k-th's key; of the keys equal to it, the first in the list (`first`) writes.
    const auto found = [&](uint32_t x, uint32_t above, uint32_t equal, bool first) {
      if (above < remain && remain <= above + equal && first) ts.cut = Word{x, remain - above, above + equal == remain};
    };
    if (kBallotRank > 0 && n <= kBallotRank) {
      const uint32_t lane = i & 31u;
      // Keys past n read as 0, which is below every key.
      const uint32_t y0 = lane < n ? gathered()[lane] : 0u, y1 = lane + 32u < n ? gathered()[lane + 32u] : 0u;
#pragma unroll
      for (uint32_t u = 0; u < kBallotRank / kWarps; ++u) {
        const uint32_t t = (i >> 5) + u * kWarps;
        if (t >= n) break;  // uniform in the warp
        const uint32_t x = gathered()[t];
        const uint32_t eq0 = __ballot_sync(0xffffffffu, y0 == x), eq1 = __ballot_sync(0xffffffffu, y1 == x);
        const uint32_t above = uint32_t(__popc(__ballot_sync(0xffffffffu, y0 > x)) + __popc(__ballot_sync(0xffffffffu, y1 > x)));
        const uint32_t first = eq0 ? uint32_t(__ffs(int(eq0)) - 1) : 32u + uint32_t(__ffs(int(eq1)) - 1);
        if (lane == 0) found(x, above, uint32_t(__popc(eq0) + __popc(eq1)), first == t);
      }
    } else if (i < n) {
      const uint32_t x = gathered()[i];
      uint32_t above = 0, equal = 0, equal_before = 0;
      for (uint32_t u = 0; u < n; ++u) {
        const uint32_t y = gathered()[u];
        above += y > x;
        equal += y == x;
        equal_before += y == x && u < i;
      }
      found(x, above, equal, equal_before == 0);
    }
    __syncthreads();
    Word cut = ts.cut;
    if (cut.exact) cut.remain = remain;  // exact: the members from x on are the remain wanted
    return cut;
  }

  // select()'s result where place() has staged the selections: no cut (no key is 0).
  static constexpr Word kPlaced = {0u, 0u, true};

  // kAnyOrder (unsorted output in no particular order, `deterministic` off): the selections are
  // staged as they are found, with no cut and no scan. The elements above the k-th's bin (and
  // that bin's too where it is taken whole) take slots [0, above) from a cursor, a warp's at a
  // time; the bin's few members are gathered with their positions, and each one ranked below
  // `remain` takes slot above + its rank (greater key first, then smaller position: the
  // tie-break small, which serves none too). One pass and two barriers after the bucket, where
  // the ordered path's gather, rank and stage take two passes and four.
  // Both cursors are claimed before any store, so that their adds' round trips overlap.
  __device__ void place(typename Bins::Range bin, uint32_t above, uint32_t remain, uint32_t in_bin) {
    const bool whole = in_bin == remain;  // uniform
    const uint32_t sure = mask_at_least(whole ? bin.lo : bin.hi + 1u);
    const uint32_t members = whole ? 0u : mask_at_least(bin.lo) & ~sure;
    const uint32_t member_at = whole ? 0u : claim(uint32_t(__popc(members)), in_bin);
    uint32_t* to = stage_positions() + warp_claim(uint32_t(__popc(sure)), &ts.placed);
#pragma unroll
    for (int j = 0; j < kVectors; ++j)
#pragma unroll
      for (int q = 0; q < kV; ++q)
        if (sure >> (j * kV + q) & 1u) *to++ = position_of(j, q);
    uint32_t* const member_keys = stage_keys();
    uint32_t* const member_positions = stage_keys() + kFewMembers;
    if (!whole) append<true>(members, member_at, member_keys, member_positions);
    __syncthreads();  // the members gathered
    timeline.mark();
    if (whole) return;
    // Whether member (y, py) comes before member (x, px).
    const auto before = [](uint32_t y, uint32_t py, uint32_t x, uint32_t px) { return y > x || (y == x && py < px); };
    const uint32_t i = threadIdx.x;
    if constexpr (kBallotRank > 0) {  // each warp ranks some members against all at once
      const uint32_t lane = i & 31u;
      // Members past in_bin read as key 0, which comes before none.
      const uint32_t y0 = lane < in_bin ? member_keys[lane] : 0u, y1 = lane + 32u < in_bin ? member_keys[lane + 32u] : 0u;
      const uint32_t p0 = lane < in_bin ? member_positions[lane] : 0u;
      const uint32_t p1 = lane + 32u < in_bin ? member_positions[lane + 32u] : 0u;
#pragma unroll
      for (uint32_t u = 0; u < kBallotRank / kWarps; ++u) {
        const uint32_t t = (i >> 5) + u * kWarps;
        if (t >= in_bin) break;  // uniform in the warp
        const uint32_t x = member_keys[t], px = member_positions[t];
        const uint32_t rank = uint32_t(__popc(__ballot_sync(0xffffffffu, before(y0, p0, x, px))) +
                                       __popc(__ballot_sync(0xffffffffu, before(y1, p1, x, px))));
        if (lane == 0 && rank < remain) stage_positions()[above + rank] = px;
      }
    } else if (i < in_bin) {  // a thread a member
      const uint32_t x = member_keys[i], px = member_positions[i];
      uint32_t rank = 0;
      for (uint32_t u = 0; u < in_bin; ++u) rank += before(member_keys[u], member_positions[u], x, px);
      if (rank < remain) stage_positions()[above + rank] = px;
    }
  }

  // The coarse histogram's zeros and the gather and place cursors, published by the next barrier.
  __device__ void clear_bins() {
    Select::clear(scratch());
    if (threadIdx.x == 0) ts.gathered = 0, ts.placed = 0;
  }

  // The coarse histogram of the row's keys after the loads: one increment per element.
  __device__ void count_bins() {
    __syncthreads();  // clear_bins()'s zeros
    if (full()) count_slots<true>();
    else count_slots<false>();
  }
  template <bool kFull>
  __device__ void count_slots() const {
    const uint32_t lane = threadIdx.x & 31u;
#pragma unroll
    for (int j = 0; j < kVectors; ++j) {
      if (!kFull && first_of(j) - lane * kV >= off + length) break;  // the warp's slot j: past the row
      if (kFull || whole(j)) count_vector<true>(j);
      else count_vector<false>(j);
    }
  }

  // Slot j's keys into the histogram: one increment of 1 each (an atomic of 1 is ATOMS.POPC.INC,
  // which merges a warp's lanes on one bin; adding kV for a vector of one bin serializes them).
  // kWhole: every element in the row, no test per element.
  template <bool kWhole>
  __device__ void count_vector(int j) const {
#pragma unroll
    for (int q = 0; q < kV; ++q)
      if (kWhole || key[j][q] != 0u) atomicAdd(&scratch()[Bins::bin(key[j][q])], 1u);
  }

  // Appends the keys of the `members` elements in `mask` (the row's, in all) to `keys`, in no
  // particular order (the select needs none). Every thread must call.
  __device__ void gather(uint32_t mask, uint32_t members, uint32_t* keys) {
    append(mask, claim(uint32_t(__popc(mask)), members), keys);
  }

  // The first of the thread's n slots in the gathered list of `members` in all. Few members (up to
  // kBallotRank): a thread holding some adds their count to the cursor. More: a warp adds its
  // count once (a thread's add each would queue hundreds on one word). Every thread must call; n
  // may be 0.
  __device__ uint32_t claim(uint32_t n, uint32_t members) {
    if (kBallotRank > 0 && members <= kBallotRank) return n ? atomicAdd(&ts.gathered, n) : 0u;
    return warp_claim(n, &ts.gathered);
  }

  // The keys of the elements in `mask` to `keys` from slot `at` on, and with kPositions their
  // positions to `positions` (place()'s members).
  template <bool kPositions = false>
  __device__ void append(uint32_t mask, uint32_t at, uint32_t* keys, uint32_t* positions = nullptr) const {
    uint32_t* to = keys + at;  // stepped per member: no index to turn into an address each time
    uint32_t* to_position = positions + at;
#pragma unroll
    for (int j = 0; j < kVectors; ++j) {
      if (!slot_bits(mask, j)) continue;  // about half of a warp's slots hold no member
#pragma unroll
      for (int q = 0; q < kV; ++q)
        if (mask >> (j * kV + q) & 1u) {
          *to++ = key[j][q];
          if constexpr (kPositions) *to_position++ = position_of(j, q);
        }
    }
  }

  // A thread's elements as one mask: element q of slot j is bit j kV + q.
  static_assert(kVectors * kV <= 32, "one bit per element in a word");
  static constexpr uint32_t kSlotBits = (1u << kV) - 1u;
  __device__ static uint32_t slot_bits(uint32_t mask, int j) { return (mask >> (j * kV)) & kSlotBits; }
  // The mask of the thread's elements whose key is at least `least` (none for 0: the top bin's hi + 1,
  // above which nothing lies): a carry chain, two instructions an element where a compare, a select
  // and an OR took three. x + (2^32 - least) carries out exactly when x >= least (add.cc), and addc
  // shifts that carry into the mask, last element first, so that element q of slot j lands on bit
  // j kV + q.
  __device__ uint32_t mask_at_least(uint32_t least) const {
    const uint32_t minus = 0u - least;
    uint32_t mask = 0;
#pragma unroll
    for (int e = kVectors * kV - 1; e >= 0; --e)
      asm("{\n\t.reg .u32 d;\n\tadd.cc.u32 d, %1, %2;\n\taddc.u32 %0, %3, %3;\n\t}"
          : "=r"(mask)
          : "r"(key[e / kV][e % kV]), "r"(minus), "r"(mask));
    return mask;
  }
  // The mask of the thread's elements in `bin` (keys in [lo, hi]; lo >= 1, so no empty slot): two
  // carry chains, where a test per element took four or five instructions.
  __device__ uint32_t mask_in(typename Bins::Range bin) const { return mask_at_least(bin.lo) & ~mask_at_least(bin.hi + 1u); }
  // The mask of the thread's elements whose key passes `test`.
  template <class Test>
  __device__ uint32_t mask_of(Test&& test) const {
    uint32_t mask = 0;
#pragma unroll
    for (int j = 0; j < kVectors; ++j)
#pragma unroll
      for (int q = 0; q < kV; ++q) mask |= uint32_t(test(key[j][q])) << (j * kV + q);
    return mask;
  }
  // The least and greatest key of the thread's elements in `mask` ({~0, 0} where none).
  __device__ uint2 bounds_of(uint32_t mask) const {
    uint32_t lo = ~0u, hi = 0;
#pragma unroll
    for (int j = 0; j < kVectors; ++j)
#pragma unroll
      for (int q = 0; q < kV; ++q)
        if (mask >> (j * kV + q) & 1u) {
          lo = min(lo, key[j][q]);
          hi = max(hi, key[j][q]);
        }
    return make_uint2(lo, hi);
  }

  // Block-wide exclusive prefix, in position order, of the per-slot counts of `mask`'s bits:
  // base[j] for each of the thread's slots; returns the CTA's total. A SWAR popcount leaves each
  // slot's count in the slot's own kV bits of the mask; two words take the even and the odd
  // slots' counts in fields of 2 kV bits (a warp's slot holds at most 32 kV elements: 128 fits
  // f32's 8-bit fields, 256 the 16-bit types' 16-bit ones), and are scanned over the warp's lanes,
  // then over the warps: two words' shuffles where a word per two slots took twice as many for
  // f32. Every thread must call (it holds a barrier). A stage's two scans take the two buffers of
  // warp totals, so that neither waits for the other's reads.
  template <int kBuffer>
  __device__ uint32_t scan(uint32_t mask, uint32_t (&base)[kVectors]) {
    static_assert(kV == 4 || kV == 8, "slots of 4 or 8 elements");
    constexpr int kField = 2 * kV;
    constexpr uint32_t kFieldMask = (1u << kField) - 1u;
    static_assert(32 * kV <= int(kFieldMask), "a warp's count of a slot fits its field");
    const uint32_t lane = threadIdx.x & 31u;
    uint32_t c = mask - ((mask >> 1) & 0x55555555u);     // 2-bit counts
    c = (c & 0x33333333u) + ((c >> 2) & 0x33333333u);    // 4-bit counts: f32's slots
    if constexpr (kV == 8) c = (c + (c >> 4)) & 0x0F0F0F0Fu;  // 8-bit counts: 16-bit types' slots
    constexpr uint32_t kEven = kV == 4 ? 0x0F0F0F0Fu : 0x00FF00FFu;
    const uint32_t word[2] = {c & kEven, (c >> kV) & kEven};  // slots 0, 2, ... and 1, 3, ...
    uint32_t incl[2] = {word[0], word[1]};
#pragma unroll
    for (int d = 1; d < 32; d *= 2) {
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        const uint32_t y = __shfl_up_sync(0xffffffffu, incl[i], d);
        if (lane >= uint32_t(d)) incl[i] += y;
      }
    }
    uint32_t total[2], excl[2];
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      total[i] = __shfl_sync(0xffffffffu, incl[i], 31);
      excl[i] = incl[i] - word[i];
    }
    uint32_t in_warp = 0;  // the warp's elements in slots before j
#pragma unroll
    for (int j = 0; j < kVectors; ++j) {
      const int shift = (j >> 1) * kField;
      base[j] = in_warp + (excl[j & 1] >> shift & kFieldMask);
      in_warp += total[j & 1] >> shift & kFieldMask;
    }
    uint32_t all;
    const uint32_t before = BlockExclusiveSum<kThreads>::warps_before(ts.sums[kBuffer], in_warp, &all);
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
    // The thread's elements above the cut (key >= value when exact, > value otherwise; nothing is
    // above a run of ties at the NaN key, where value + 1 wraps to 0: no key carries past 2^32).
    const uint32_t least = cut.exact ? cut.value : cut.value + 1u;
    uint32_t above = mask_at_least(least);
    // Thread 0's wrapped elements (slot 0's first `off`) are ranked after every other.
    const uint32_t wrap_mask = threadIdx.x == 0 ? (1u << off) - 1u : 0u;
    const uint32_t above_wrapped = above & wrap_mask;
    above &= ~wrap_mask;
    if constexpr (Row::kShared)
      if (threadIdx.x == 0) ts.wrapped_above = uint32_t(__popc(above_wrapped));  // scan's barrier orders it
    uint32_t base[kVectors];
    const uint32_t above_total = scan<0>(above, base);
    uint32_t selected = above, selected_wrapped = above_wrapped, base_wrapped = above_total;
    // The CTA's count above the cut, for the CTAs after it (ClusterRow).
    const uint32_t above_count = Row::kShared ? above_total + ts.wrapped_above : 0u;
    uint32_t above_before = 0;  // ClusterRow: the selections of the CTAs before this one come first
    if (cut.exact) {
      if constexpr (Row::kShared) above_before = row.exchange(above_count, 0u).above_before;
    } else {  // the cut lies in a run of ties: `take` of them, by position
      uint32_t tied = mask_of([&](uint32_t x) { return x == cut.value; });
      const uint32_t tied_wrapped = tied & wrap_mask;
      tied &= ~wrap_mask;
      if (threadIdx.x == 0) ts.wrapped_ties = uint32_t(__popc(tied_wrapped));  // scan's barrier orders it
      uint32_t tied_base[kVectors];
      const uint32_t tied_total = scan<1>(tied, tied_base);
      // Ties are numbered over the row: the CTA's e-th is the row's (c.tied_before + e)-th.
      const RowCounts c = row.exchange(above_count, tied_total + ts.wrapped_ties);
      above_before = c.above_before;
      const uint32_t take = cut.remain, skip = kLarge ? c.tied_all - take : 0u;
      // Ties before the row's e-th that are taken, and which ties of a mask (the e-th on) are.
      const auto taken_before = [&](uint32_t e) { return kLarge ? (e > skip ? e - skip : 0u) : min(e, take); };
      const auto taken = [&](uint32_t mask, uint32_t e) {
        return kLarge ? mask & ~lowest(mask, skip > e ? skip - e : 0u) : lowest(mask, take > e ? take - e : 0u);
      };
#pragma unroll
      for (int j = 0; j < kVectors; ++j) {
        selected |= taken(slot_bits(tied, j), c.tied_before + tied_base[j]) << (j * kV);
        base[j] += taken_before(c.tied_before + tied_base[j]);
      }
      selected_wrapped |= taken(tied_wrapped, c.tied_before + tied_total);
      base_wrapped += taken_before(c.tied_before + tied_total);
    }
    if constexpr (Row::kShared) {
#pragma unroll
      for (int j = 0; j < kVectors; ++j) base[j] += above_before;
      base_wrapped += above_before;
    }
    if (p.sorted) put<true>(selected, base, selected_wrapped, base_wrapped, m);
    else put<false>(selected, base, selected_wrapped, base_wrapped, m);
  }

  // Stages the selections (in the first CTA of a ClusterRow): slot j's in ascending position from
  // base[j], the wrapped ones from base_wrapped; keys too for sorted output.
  template <bool kSorted>
  __device__ void put(uint32_t selected, const uint32_t (&base)[kVectors], uint32_t selected_wrapped,
                      uint32_t base_wrapped, uint32_t m) const {
    uint32_t* const positions = row.at_first(stage_positions());
    uint32_t* const keys = row.at_first(stage_keys());
    constexpr bool kDown = kSorted && kLarge;  // ranks fill the slots from the last down
    const auto slot = [&](uint32_t rank) { return kDown ? m - 1 - rank : rank; };
    const auto put_one = [&](uint32_t rank, uint32_t position, uint32_t x) {
      positions[slot(rank)] = chunk + position;
      if constexpr (kSorted) keys[slot(rank)] = x;
    };
    // Every element in turn, predicated (no loop over set bits, whose count differs by lane): a
    // store and a step of the slot pointers per selection, not a rank turned into an address each
    // time. No test per vector either: nearly every warp has selections in every slot at k >= n / 16.
#pragma unroll
    for (int j = 0; j < kVectors; ++j) {
      uint32_t* to = positions + slot(base[j]);
      uint32_t* to_key = keys + slot(base[j]);
      const uint32_t first = chunk + first_of(j) - off;
#pragma unroll
      for (int q = 0; q < kV; ++q) {
        if (selected >> (j * kV + q) & 1u) {
          *to = first + uint32_t(q);
          if constexpr (kSorted) *to_key = key[j][q];
          to += kDown ? -1 : 1;
          if constexpr (kSorted) to_key += kDown ? -1 : 1;
        }
      }
    }
    for (uint32_t bits = selected_wrapped; bits; bits &= bits - 1u) {  // thread 0's, rarely any
      const uint32_t q = uint32_t(__ffs(int(bits)) - 1);
      put_one(base_wrapped + uint32_t(__popc(selected_wrapped & ((1u << q) - 1u))), q + kCapacity - off,
              kSorted ? pick(key[0], q) : 0u);
    }
  }
};

}  // namespace nsa::cuda
