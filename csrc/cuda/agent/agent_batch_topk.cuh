// The batch top-k agent: one CTA selects the k greatest of one row, reading each score from
// device memory once.
//
// Stages (one method each):
//  1. stream(): reads the row once, in tiles of 16-byte loads issued together, the next tile in
//     flight while one is compared. A sample of the row (16-byte vectors) sets
//     the first threshold (sample()), so that usually one buffer fill holds every element that
//     can matter. An element enters the candidate buffer when it reaches the threshold: one float
//     compare per element, the key is computed only for elements that enter. Warps stream without
//     barriers; when the buffer passes a trigger, they meet, the buffer is cut to its k greatest
//     (cut()) and the threshold becomes the k-th: later elements that do not beat it can never
//     be selected (pass()). When the sample shows a plateau of equal scores at the threshold,
//     the elements above it are streamed first, then only as many of its ties as the tie-break
//     takes (a ties pass that stops where they end).
//  2. cut(): the k greatest candidates, exactly (BlockKeySelect), moved to the buffer's front.
//  3. order(): ranks of the selections by ascending position (BlockPositionRank), staged in
//     shared memory; with sorted output, a block radix sort by key then orders the stage.
//     list_kept() does 2 and 3 at once for unsorted output of rows up to kListPositions: the k
//     greatest are found and ranked by position where they lie, so the buffer is not compacted.
//  4. finish(): the stage written out (BlockStageWrite: one converged pass writes indices through
//     the fused transform, and values, the output modes being template parameters).
//
// A candidate is its ordered key and a 32-bit code of its position that is greater for the
// position the tie-break prefers (the complement of the position for `small` and `none`, the
// position for `large`). Each warp streams its part of the row in the order the tie-break
// prefers (descending positions for `large`), so after a cut an element whose key equals the
// k-th's loses to it unless it comes before it in that order, which only the few steps a warp
// had left behind the k-th's position can hold: those steps compare codes too, the others only
// the strict float test, and plateaus of equal scores cost one buffer fill. The selected set is
// unique and the output order comes from positions alone, so the bytes are the same on every run
// and in any batch, with or without `deterministic`.
//
// Shared memory, dynamic part (one place; offsets in 32-bit words):
//   [0, kCapacity)              keys of the candidates (first the sample's keys); after the
//                               last cut keys()[0, k) are the
//                               selections' and [kMaxK, 2 kMaxK) holds the stage keys (sorted
//                               output); list_kept() stages the positions in [0, k) and
//                               its ranks' table past kMaxK
//   [kCapacity, 2 kCapacity)    codes of the candidates; after the last cut [kCapacity + kMaxK,
//                               2 kCapacity) is BlockPositionRank's scratch, then the block sort's
//   [2 kCapacity, + kScratchWords)  scratch: radix histogram, partition holes, then the stage
//                               positions (k words), or list_kept()'s bitmap
#pragma once
#include <cstdint>

#include "../../common/key_traits.h"
#include "../block/block_key_select.cuh"
#include "../block/block_position_rank.cuh"
#include "../block/block_stage_write.cuh"
#include "../block/pick.cuh"
#include "../block/warp_append.cuh"
#include "../kernels/chunk_rows.cuh"
#include "../kernels/output.cuh"

namespace nsa::cuda {

// The batch kernel's dynamic shared memory (every extern __shared__ array starts at its base).
extern __shared__ __align__(16) uint32_t batch_topk_smem[];

// CTA b takes row b, or with chunk.candidates (the chunked path's stage 1: kernels/chunk_rows.cuh)
// chunk b mod 2^shift of row b >> shift, its k best written as output row b.
struct BatchTopKParams {
  TopKArgs a;
  OutputSpec out;
  bool sorted;
  ChunkRows chunk;
  __device__ int64_t row_of(int64_t b) const { return b >> chunk.shift; }
  __device__ Window window_of(int64_t b) const {
    const Window w = clamp_window(a.stride, a.row_starts, a.lengths, row_of(b));
    return chunk.candidates ? chunk_window(w, b & ((int64_t(1) << chunk.shift) - 1), chunk.shift, out.k) : w;
  }
  // Stage 1's count of a row's candidates (stage 2's length), from the row's first chunk.
  __device__ void publish_candidates(int64_t b) const {
    if (chunk.candidates && threadIdx.x == 0 && (b & ((int64_t(1) << chunk.shift) - 1)) == 0) {
      const Window w = clamp_window(a.stride, a.row_starts, a.lengths, row_of(b));
      chunk.candidates[row_of(b)] = int32_t(chunk_candidates(w.length, chunk.shift, out.k));
    }
  }
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
  // A plain pass appends a tile (kU steps of 32 vectors) at a time, other passes a step; after a
  // cut a tile always fits (kTrigger >= kMaxK below), so a stream whose appends overflow still
  // makes progress.
  static constexpr uint32_t kWarpTile = uint32_t(32 * kU * kV);
  static_assert(kU == 4, "a tile's masks fill one word (16-bit scores: bits 4u.. and 16 + 4u..)");
  // A warp stops once it sees the count past the trigger (pass()). The slack above it holds one
  // warp's tile: at the sampled threshold's rate (a few percent of a tile enter) the other warps'
  // appends rarely overflow it, and one that does is streamed again.
  static constexpr uint32_t kTrigger = kCapacity - kWarpTile;
  static_assert(kTrigger >= kMaxK, "after a cut (k left) a warp's tile must fit below the trigger");
  static constexpr int kSample = Policy::kSample;
  static_assert(kSample % kThreads == 0 && kSample <= int(kCapacity), "sample keys live in the buffer");
  // A sampled row (longer than kTrigger, k <= kMaxK) takes at least one vector (sample()).
  static_assert(uint64_t(Policy::kSampleAboveK) * (kTrigger + 1) / kMaxK >= uint64_t(kV), "a sample of no vector");
  static_assert(kCapacity >= 2 * kMaxK, "the stage keys live past the selections' keys");
  using Select = BlockKeySelect<kThreads, Policy::kDigitBits>;
  using Threshold = typename Select::Threshold;
  using Rank = BlockPositionRank<kThreads>;
  using Write = BlockStageWrite<kThreads, kMaxK, Traits>;
  static constexpr uint32_t kRankWords = kCapacity - kMaxK;  // BlockPositionRank's scratch
  static_assert(kMaxK < 65536, "BlockPositionRank ranks fewer than 65536 entries");
  // list_kept(): rows of up to kListPositions, the bitmap in the scratch, the ranks' table (16 bits
  // a word) in the keys past the stage; Rank admits at most 32 entries a thread.
  static constexpr uint32_t kListPositions = 32u * Policy::kScratchWords;
  static_assert(kMaxK + Policy::kScratchWords / 2 <= kCapacity, "list_kept()'s table lives past the stage");
  static_assert(kCapacity <= 32 * kThreads, "BlockPositionRank admits at most 32 entries a thread");
  static_assert(sizeof(typename Write::SortStorage) <= kRankWords * 4,
                "the block sort's storage must fit the rank scratch");
  static constexpr uint32_t kKeyMax = Traits::kKeyBits == 32 ? ~0u : (1u << Traits::kKeyBits) - 1u;  // NaN

  struct TempStorage {
    typename Select::Storage select;
    typename Rank::Storage rank;
    uint32_t count;     // candidates in the buffer
    uint32_t finished;  // warps at the end of their part of the row
    uint32_t tied;      // sampled keys equal to the sampled threshold
    // In a ties pass the buffer holds tied_above entries above tied_key (fewer than k) and ties at
    // tied_key only, so the k-th key is tied_key (select()); tied_above is ~0u outside one. In
    // shared memory: read by the selects only (cut(), list_kept()), it holds no register through
    // the stream.
    uint32_t tied_key, tied_above;
  };
  static constexpr size_t kDynamicSmemBytes = size_t(2 * kCapacity + Policy::kScratchWords) * sizeof(uint32_t);

  TempStorage& ts;
  const BatchTopKParams& p;
  const int64_t r;
  const Window w;
  const Bits* const row;
  const uint32_t k;
  // Row layout (advance()): [0, head) and [tail, length) scalar, nvec 16-byte vectors between.
  const uint32_t head, nvec, tail, nsteps;
  const uint4* const vec;

  __device__ AgentBatchTopK(TempStorage& ts_, const BatchTopKParams& p_, int64_t r_)
      : ts(ts_),
        p(p_),
        r(r_),
        w(p_.window_of(r_)),
        row(row_window<Traits>(p_.a, p_.row_of(r_), w)),
        k(uint32_t(p_.out.k)),
        head(head_of(row, uint32_t(w.length))),
        nvec((uint32_t(w.length) - head) / kV),
        tail(head + nvec * kV),
        nsteps((nvec + kThreads - 1) / kThreads),
        vec(reinterpret_cast<const uint4*>(row + head)) {}

  // Elements before the first 16-byte boundary; the whole row when it is misaligned for its type.
  __device__ static uint32_t head_of(const Bits* row, uint32_t length) {
    const uintptr_t addr = reinterpret_cast<uintptr_t>(row);
    return addr % sizeof(Bits) ? length : min(length, uint32_t((16 - addr % 16) % 16 / sizeof(Bits)));
  }

  // The dynamic shared memory (layout above), addressed through the one extern array so that
  // the compiler keeps every access a shared one and no pointer in a register.
  __device__ static uint32_t* keys() { return batch_topk_smem; }
  __device__ static uint32_t* codes() { return batch_topk_smem + kCapacity; }
  __device__ static uint32_t* scratch() { return batch_topk_smem + 2 * kCapacity; }
  // Positions are below 2^31 (int32 lengths), so every code has its top bit set and 0 is below
  // every code.
  __device__ static uint32_t code_of(uint32_t pos) { return kLarge ? pos | 0x80000000u : ~pos; }
  __device__ static uint32_t pos_of(uint32_t code) { return kLarge ? code & 0x7fffffffu : ~code; }
  __device__ uint32_t* stage_keys() const { return keys() + kMaxK; }

  // kList: list_kept() where it applies. The other kernels' fallback agents, which take only rows
  // past those kernels' capacity, go without it: in the register kernel the step's first version
  // of it took the spills from 176 to 436 bytes (kernel-notes, v6 step 27).
  template <bool kList = true>
  __device__ void run() {
    if (w.length <= int64_t(k)) {  // the whole window is selected
      const uint32_t m = uint32_t(w.length);
      for (uint32_t i = threadIdx.x; i < m; i += kThreads) {
        const uint32_t slot = p.sorted && kLarge ? m - 1 - i : i;
        scratch()[slot] = i;
        if (p.sorted) stage_keys()[slot] = Traits::key(row[i]);
      }
      finish(m, scratch());
      return;
    }
    const uint32_t n = stream();
    if (kList && !p.sorted && uint32_t(w.length) <= kListPositions) {
      list_kept(n);
      finish(k, keys());
      return;
    }
    if (n > k) cut(n);
    order();
    finish(k, scratch());
  }

  // What enters: elements that beat the float `t` (strictly; `open` 0: none do, ~0: the test
  // holds, a mask so that the stream applies it without a branch), and, in
  // careful steps, elements whose key equals `key` and whose code beats `code` (elements tied with
  // the last cut's k-th that the tie-break prefers to it). Before any cut `code` is the greatest
  // code, so no step is careful. A ties pass (`ties`) takes only elements tied at `key`, all of
  // them at first (`code` 0), and a warp stops once its next step holds none the k-th's code
  // would let in (each warp meets positions in the tie-break's order).
  struct Bar {
    float t;
    uint32_t open;
    uint32_t key, code;
    bool ties;
    __device__ static Bar from(uint32_t kmin) { return {below(kmin), ~0u, 0u, ~0u, false}; }
    __device__ static Bar tied(uint32_t key) { return {0.0f, 0u, key, 0u, true}; }
    __device__ Bar after(Threshold thr) const {
      if (ties) return {0.0f, 0u, thr.key, thr.code, true};
      return {below(thr.key + 1u), thr.key != kKeyMax ? ~0u : 0u, thr.key, thr.code, false};
    }
  };

  // A float t such that !(x <= t) holds exactly for the scores whose key is kmin or greater.
  __device__ static float below(uint32_t kmin) {
    constexpr uint32_t kSign = 1u << (Traits::kKeyBits - 1);
    if (kmin == 0u || kmin > kKeyMax) return __uint_as_float(0x7fffffffu);  // NaN: every score
    const uint32_t inf = Traits::key(Bits(Traits::kNegInf ^ kSign));
    uint32_t prev = min(kmin - 1u, inf);
    if (key_bits<Bits, Traits::kKeyBits>(prev) == kSign) --prev;  // -0.0 compares equal to +0.0
    return Traits::as_float(key_bits<Bits, Traits::kKeyBits>(prev));
  }

  // Stage 1. Returns the number of candidates in the buffer (>= k).
  __device__ uint32_t stream() {
    const Plan plan = sample();
    // Passes in turn until one leaves k candidates. On a plateau at the sampled key: the elements
    // above it, then its ties in the tie-break's order. Otherwise: the elements from it up. Last,
    // when the sample misled (fewer than k reach its key): every element. Rare on real scores.
    Stage stage = plan.plateau ? Stage::Above : Stage::From;
    uint32_t above = 0;  // what the Above pass found
    for (;;) {
      const bool ties = stage == Stage::Ties;
      const Bar bar = ties                    ? Bar::tied(plan.key)
                      : stage == Stage::Above ? Bar::from(plan.key + 1u)
                      : stage == Stage::From  ? Bar::from(plan.key)
                                              : Bar::from(0u);
      // The ties pass keeps what the pass above found and meets as soon as k are held, so that
      // the first cut tells every warp where the ties it still needs end.
      const uint32_t n = pass(bar, !ties, ties ? k - 1u : kTrigger, ties ? above : ~0u);
      if (n >= k) return n;
      above = n;
      stage = stage == Stage::Above ? Stage::Ties : Stage::All;
    }
  }
  enum class Stage { Above, Ties, From, All };

  // sample()'s answer: the first threshold's key, and whether it lies on a plateau.
  struct Plan {
    uint32_t key;
    bool plateau;
  };

  // A first threshold from an evenly spaced sample of the row: the key that the rank-th greatest
  // of m sampled scores reaches, so that the buffer usually fills once, with the elements that
  // can matter. Of the m, mu = k m / length are expected at or above the row's k-th; rank = mu +
  // z sqrt(mu) (z the policy's margin in standard deviations, rank at least kMinSampleRank), so
  // that about rank / mu x k elements of the row reach it and fewer than k (a second read) only
  // when the sample is z standard deviations off, whatever the row's length. The sample is m /
  // kV evenly spaced 16-byte vectors (sample_vector()): a quarter of the sectors that as many
  // scattered scores would cost, and their latency is paid once. m is kSample, or less where
  // that many would put more than kSampleAboveK sampled scores at or above the row's k-th
  // (short rows, large k): the sample's select costs in proportion to m, and that many already
  // make the threshold tight. Elements below it never enter, which is exact whenever k elements
  // of the row reach it (stream() checks). When more than rank / 2 of the sample tie at that
  // key, the row likely has a plateau there (ReLU scores at 0.0): the elements above it and the
  // first of its ties are then taken apart, so that the plateau never fills the buffer. Rows that
  // fit below the trigger are not sampled: every element enters (key 0).
  __device__ Plan sample() {
    const uint32_t length = uint32_t(w.length);
    if (length <= kTrigger) return {0u, false};
    const uint64_t enough = uint64_t(Policy::kSampleAboveK) * length / k;
    const uint32_t mv = uint32_t(min(uint64_t(min(uint32_t(kSample), length / 16u)), enough)) / kV, m = mv * kV;
    const float mu = float(m) * float(k) / float(length);
    const uint32_t rank = min(m, max(uint32_t(Policy::kMinSampleRank),
                                     uint32_t(ceilf(mu + 0.1f * Policy::kSampleMarginSdTenths * sqrtf(mu)))));
    constexpr int kLoads = (kSample / kV + kThreads - 1) / kThreads;
    Bits e[kLoads][kV];
#pragma unroll
    for (int q = 0; q < kLoads; ++q) {
      const uint32_t j = threadIdx.x + q * kThreads;
      if (j < mv) sample_vector(j, mv, e[q]);
    }
#pragma unroll
    for (int q = 0; q < kLoads; ++q) {
      const uint32_t j = threadIdx.x + q * kThreads;
#pragma unroll
      for (int i = 0; i < kV; ++i)
        if (j < mv) keys()[i * mv + j] = Traits::key(e[q][i]);  // lanes on consecutive banks
    }
    if (threadIdx.x == 0) ts.tied = 0;  // key_floor's first barrier orders this before the adds
    const uint32_t key = Select::key_floor(ts.select, keys(), m, rank, scratch());
    uint32_t tied = 0;
#pragma unroll
    for (int q = 0; q < kSample / kThreads; ++q) {
      const uint32_t s = threadIdx.x + q * kThreads;
      tied += uint32_t(s < m && keys()[s] == key);
    }
    tied = __reduce_add_sync(0xffffffffu, tied);
    if ((threadIdx.x & 31u) == 0 && tied) atomicAdd(&ts.tied, tied);
    __syncthreads();
    return {key, key != kKeyMax && ts.tied > rank / 2};
  }

  // Sampled vector j of mv: the row's 16-byte vector floor(j nvec / mv), or, in a row misaligned
  // for its type (no vectors), kV scores evenly spaced over the row.
  __device__ void sample_vector(uint32_t j, uint32_t mv, Bits (&e)[kV]) const {
    if (nvec >= mv) {
      *reinterpret_cast<uint4*>(e) = __ldg(vec + j * (nvec / mv) + j * (nvec % mv) / mv);
    } else {
#pragma unroll
      for (int i = 0; i < kV; ++i) e[i] = row[(uint64_t(j) * kV + i) * uint32_t(w.length) / (uint64_t(mv) * kV)];
    }
  }

  // One read of the row into the buffer (emptied first when `reset`), entering what `bar` lets
  // in; the warps meet when the count passes `trigger`, kTrigger after the first cut. Returns the
  // number of candidates. A ties pass gives the number of entries above its key (`above`;
  // ~0u otherwise) for its cuts and the select after it (select()).
  //
  // Warps stream without barriers: a warp reads the candidate count before each tile, and its
  // append of the tile returns the count after its add; once either is past the trigger the warp
  // waits at the one barrier below instead of going on; warps that have finished their part
  // wait there too. An append that would run past the capacity marks the slots it reserved
  // empty (key 0) and its tile is streamed again after the cut, so nothing is lost; the count
  // then exceeds the capacity, and the cut takes the capacity's slots, skipping empty ones.
  // At the barrier the buffer is cut to its k greatest and the warps go on from where each one
  // stopped, so warps can be at different steps of the row when a cut happens: an element tied
  // with the k-th still enters where it comes before the k-th in the tie-break's order (careful
  // steps below), which keeps the strict test exact.
  __device__ uint32_t pass(Bar bar, bool reset, uint32_t trigger, uint32_t above) {
    __syncthreads();  // every thread has read the previous pass's count
    if (threadIdx.x == 0) {
      if (reset) ts.count = 0;
      ts.finished = 0;
      ts.tied_key = bar.key;
      ts.tied_above = above;
    }
    __syncthreads();
    uint32_t unit = 0;
    bool done = false;
    for (;;) {
      if (!done) {
        done = advance(unit, bar, trigger);
        if (done && (threadIdx.x & 31u) == 0) atomicAdd(&ts.finished, 1u);
      }
      __syncthreads();
      const uint32_t n = min(ts.count, kCapacity);
      if (ts.finished == kThreads / 32) return n;  // no overflow: a warp whose append did is not done
      // Some warp found the buffer past the trigger: more than k - 1 entries, or more than
      // kCapacity - kWarpTile >= k filled ones before an overflow's empty slots.
      bar = bar.after(cut(n));
      trigger = kTrigger;
    }
  }

  // Streams this thread's units from `unit` on: scalar chunks of the first partial region, the
  // 16-byte steps, scalar chunks of the last. Returns true at the end of the row (or of what a
  // ties pass needs), false (unit at the next unstreamed one) when the buffer has passed the
  // trigger or an append overflowed.
  __device__ bool advance(uint32_t& unit, const Bar& bar, uint32_t trigger) {
    const uint32_t n1 = chunks(first_lo(), first_hi());
    while (unit < n1) {
      if (bar.ties && spent(bar, scalar_best(first_lo(), first_hi(), unit))) return true;
      if (full(trigger) || scalar(first_lo(), first_hi(), unit, bar) > kCapacity) return false;
      ++unit;
    }
    const Stop stop = !bar.ties && bar.code == ~0u ? vectors<true>(unit, n1, bar, trigger)
                                                   : vectors<false>(unit, n1, bar, trigger);
    if (stop != Stop::End) return stop == Stop::Spent;
    const uint32_t n3 = chunks(last_lo(), last_hi());
    while (unit < n1 + nsteps + n3) {
      if (bar.ties && spent(bar, scalar_best(last_lo(), last_hi(), unit - n1 - nsteps))) return true;
      if (full(trigger) || scalar(last_lo(), last_hi(), unit - n1 - nsteps, bar) > kCapacity) return false;
      ++unit;
    }
    return true;
  }

  // How vectors() ended: at the end of the vectors, with the buffer past the trigger or an
  // append overflowed, or with a ties pass done (spent()).
  enum class Stop { End, Full, Spent };

  // The 16-byte steps from `unit` on, in tiles of kU steps: a thread issues the next tile's kU
  // loads together, then compares and appends the current tile's (tile()), so that a tile's
  // loads stay in flight while the one before it is compared and appended. A warp that stops
  // inside a tile streams the rest of it again when it goes on (only at a cut). The count is read
  // once per tile, and each append answers whether the buffer passed the trigger. kPlain: no step
  // can be careful and this is no ties pass (every pass until its first cut, when the stream is
  // long), so steps only compare floats and the tile takes one append; whole tiles (every lane's
  // vectors in the row) then skip the bounds tests too.
  template <bool kPlain>
  __device__ Stop vectors(uint32_t& unit, uint32_t n1, const Bar& bar, uint32_t trigger) {
    uint4 raw[kU], next[kU];
#pragma unroll
    for (int u = 0; u < kU; ++u) load(raw[u], unit - n1 + u);
    for (uint32_t s = unit - n1; s < nsteps; s += kU) {
#pragma unroll
      for (int u = 0; u < kU; ++u) load(next[u], s + kU + u);
      if (full(trigger)) {
        unit = n1 + s;
        return Stop::Full;
      }
      TileEnd end;
      if constexpr (kPlain)
        end = tile_is_whole(s) ? tile<true, true>(raw, s, bar, trigger) : tile<true, false>(raw, s, bar, trigger);
      else
        end = tile<false, false>(raw, s, bar, trigger);
      if (end.how == TileEnd::Spent) return Stop::Spent;
      if (end.how == TileEnd::Stop) {
        unit = n1 + min(s + end.taken, nsteps);
        return Stop::Full;
      }
#pragma unroll
      for (int u = 0; u < kU; ++u) raw[u] = next[u];
    }
    unit = max(unit, n1 + nsteps);
    return Stop::End;
  }

  // Whether every lane's vector of steps s .. s + kU - 1 lies in the row (vec_of).
  __device__ bool tile_is_whole(uint32_t s) const {
    return s + kU <= nsteps && (kLarge ? nsteps - s : s + kU) * uint32_t(kThreads) <= nvec;
  }

  // How a tile ended: every step appended with the buffer below the trigger (Go), the warp
  // meeting the others before step s + taken (Stop: the buffer passed the trigger, or an append
  // overflowed and its steps are streamed again), or a ties pass done (Spent).
  struct TileEnd {
    uint32_t taken;
    enum { Go, Stop, Spent } how;
  };

  // Steps s .. s + kU - 1 of a tile (kWhole: tile_is_whole). kPlain: their masks side by side
  // (step u's bits shifted by 4u), then one append. Otherwise an append per step, so that a ties
  // pass meets as soon as k are held (its first cut tells every warp where its ties end) and a
  // careful step is followed by the test that may end the warp's ties.
  template <bool kPlain, bool kWhole>
  __device__ TileEnd tile(const uint4 (&raw)[kU], uint32_t s, const Bar& bar, uint32_t trigger) {
    constexpr int kSteps = kPlain ? kU : 1;  // steps per append
    constexpr uint32_t kStepPositions = kLarge ? 0u - kStep : kStep;  // between a lane's steps
#pragma unroll
    for (int u0 = 0; u0 < kU; u0 += kSteps) {
      uint32_t word[4 * kSteps];
      uint32_t mask = 0;
      bool spent_here = false;
#pragma unroll
      for (int j = 0; j < kSteps; ++j) {
        const int u = u0 + j;
        word[4 * j] = raw[u].x;
        word[4 * j + 1] = raw[u].y;
        word[4 * j + 2] = raw[u].z;
        word[4 * j + 3] = raw[u].w;
        if (kWhole || s + u < nsteps) {
          if (!kPlain && bar.ties) spent_here = spent(bar, vector_best(s + u));
          if (!spent_here) mask |= step_mask<kPlain, kWhole>(raw[u], s + u, bar) << (4 * j);
        }
      }
      const uint32_t end = append(mask, word, head + vec_of(s + u0) * kV, kStepPositions);
      if (end > kCapacity) return {uint32_t(u0), TileEnd::Stop};
      if (spent_here) return {0u, TileEnd::Spent};
      if (end > trigger) return {uint32_t(u0 + kSteps), TileEnd::Stop};
    }
    return {uint32_t(kU), TileEnd::Go};
  }

  // Whether the buffer has passed the trigger (the same answer on every lane).
  __device__ bool full(uint32_t trigger) const {
    return __shfl_sync(0xffffffffu, *reinterpret_cast<volatile uint32_t*>(&ts.count), 0) > trigger;
  }

  // In a ties pass (callers test bar.ties first, so that the fast path computes no code) after
  // its first cut: whether no lane's next unit holds a code above the k-th's, `best` being this
  // lane's greatest code there. Every later unit of the warp comes after in the tie-break's
  // order, so the warp is done. A lane past the row says ~0 (not
  // spent): with `large` the first step's last vectors can lie past it while later ones do not.
  __device__ static bool spent(const Bar& bar, uint32_t best) {
    return !__any_sync(0xffffffffu, best > bar.code);
  }
  __device__ uint32_t vector_best(uint32_t s) const {
    const uint32_t v = vec_of(s);
    return v < nvec ? code_of(head + v * kV + (kLarge ? kV - 1 : 0)) : ~0u;
  }
  __device__ uint32_t scalar_best(uint32_t lo, uint32_t hi, uint32_t c) const {
    const uint32_t i = chunk_lo(lo, hi, c) + threadIdx.x;
    return i < chunk_hi(lo, hi, c) ? code_of(i) : ~0u;
  }

  // Row layout: [0, head) scalar, head + [0, nvec) * kV the 16-byte vectors, [tail, length)
  // scalar. `head` is the whole row when the row is misaligned for its type. The stream takes
  // the part before the vectors first (after them for `large`, which streams backwards).
  __device__ uint32_t first_lo() const { return kLarge ? tail : 0u; }
  __device__ uint32_t first_hi() const { return kLarge ? uint32_t(w.length) : head; }
  __device__ uint32_t last_lo() const { return kLarge ? 0u : tail; }
  __device__ uint32_t last_hi() const { return kLarge ? head : uint32_t(w.length); }
  __device__ static uint32_t chunks(uint32_t lo, uint32_t hi) { return (hi - lo + kThreads - 1) / kThreads; }
  __device__ uint32_t vec_of(uint32_t s) const { return (kLarge ? nsteps - 1 - s : s) * kThreads + threadIdx.x; }
  __device__ void load(uint4& raw, uint32_t s) const {
    const uint32_t v = vec_of(s);  // >= nvec past the last step too (it wraps with `large`)
    if (v < nvec) raw = __ldg(vec + v);
  }

  // The append mask of one 16-byte step (a vector per thread; kWhole: every lane's vector is in
  // the row): bit bit_of(q) for element q.
  template <bool kPlain, bool kWhole>
  __device__ uint32_t step_mask(uint4 raw, uint32_t s, const Bar& bar) const {
    const uint32_t v = vec_of(s);
    const uint32_t word[4] = {raw.x, raw.y, raw.z, raw.w};
    const uint32_t pos0 = head + v * kV;
    uint32_t mask = 0;
    if (kWhole || v < nvec) {
      mask = above(word, bar);
      // Careful: this vector holds a position the tie-break prefers to the k-th's.
      if (!kPlain && code_of(kLarge ? pos0 + kV - 1 : pos0) > bar.code) {
#pragma unroll
        for (int q = 0; q < kV; ++q)
          mask |= uint32_t(Traits::key(element(word, q)) == bar.key && code_of(pos0 + q) > bar.code) << bit_of(q);
      }
    }
    return mask;
  }

  // Scores as 32-bit words: element q of a vector is in word q / kPerWord, and its bit in a
  // step's mask is bit_of(q), so that a 16-bit pair's compare (pair_above) lands in the mask in
  // two operations: the low halves' bits are 0-3, the high halves' 16-19 (a tile's kU = 4 steps
  // shifted by 4u fill 16 or 32 bits).
  static constexpr int kPerWord = 4 / int(sizeof(Bits));
  __device__ static constexpr int bit_of(int q) { return q / kPerWord + q % kPerWord * 16; }
  template <int kW>
  __device__ static Bits element(const uint32_t (&word)[kW], int q) {
    return Bits(word[q / kPerWord] >> (q % kPerWord * 16));
  }
  // The mask of the elements of a vector that `bar`'s float test lets in.
  __device__ static uint32_t above(const uint32_t (&word)[4], const Bar& bar) {
    uint32_t mask = 0;
#pragma unroll
    for (int w = 0; w < 4; ++w) {
      if constexpr (kPerWord == 1) mask |= uint32_t(bar.open && !(Traits::as_float(Bits(word[w])) <= bar.t)) << w;
      else mask |= Traits::pair_above(word[w], bar.t) & (0x10001u << w);
    }
    return kPerWord == 1 ? mask : mask & bar.open;
  }

  // Chunk c (in stream order) of the scalar region [lo, hi), [chunk_lo, chunk_hi): one element
  // per thread.
  __device__ static uint32_t chunk_lo(uint32_t lo, uint32_t hi, uint32_t c) {
    return kLarge ? (hi - lo > (c + 1) * kThreads ? hi - (c + 1) * kThreads : lo) : lo + c * kThreads;
  }
  __device__ static uint32_t chunk_hi(uint32_t lo, uint32_t hi, uint32_t c) {
    return kLarge ? hi - c * kThreads : min(hi, lo + (c + 1) * kThreads);
  }
  // Returns append()'s count.
  __device__ uint32_t scalar(uint32_t lo, uint32_t hi, uint32_t c, const Bar& bar) {
    const uint32_t i = chunk_lo(lo, hi, c) + threadIdx.x;
    uint32_t word[1] = {};
    bool in = false;
    if (i < chunk_hi(lo, hi, c)) {
      const Bits e = row[i];
      word[0] = e;
      in = (bar.open && !(Traits::as_float(e) <= bar.t)) || (Traits::key(e) == bar.key && code_of(i) > bar.code);
    }
    return append(uint32_t(in), word, i, 0);
  }

  // Appends the elements of `word` flagged in `mask`: bit b stands for half b / 16 (16-bit
  // scores) of word b % 16 (b for f32), whose first element is at position pos0 + (w / 4) *
  // `step` + (w % 4) * kPerWord for word w (four words per 16-byte step). One shared atomic
  // reserves the warp's total, then rounds hand out the slots: in each, every lane takes its
  // lowest flagged element and a ballot orders the lanes. A tile needs as many rounds as its
  // busiest lane flags elements: about 2 (2.7% of a row enter; 16 f32 scores per lane).
  // Returns the count after the warp's add (0 when it added nothing; the same on every lane).
  // Past kCapacity nothing is appended: the reserved slots that exist are marked empty.
  template <int kW>
  __device__ uint32_t append(uint32_t mask, const uint32_t (&word)[kW], uint32_t pos0, uint32_t step) {
    const uint32_t total = __reduce_add_sync(0xffffffffu, uint32_t(__popc(mask)));
    if (!total) return 0;
    const uint32_t lane = threadIdx.x & 31u;
    uint32_t at = warp_add(total, &ts.count);
    const uint32_t end = at + total;
    if (end > kCapacity) {
      for (uint32_t i = at + lane; i < kCapacity; i += 32) keys()[i] = codes()[i] = 0u;
      return end;
    }
    while (at < end) {
      const uint32_t takers = __ballot_sync(0xffffffffu, mask != 0u);
      if (mask) {
        const uint32_t b = uint32_t(__ffs(int(mask)) - 1);
        const uint32_t w = kPerWord == 2 ? b & 15u : b, half = kPerWord == 2 ? b >> 4 : 0u;
        const uint32_t slot = at + uint32_t(__popc(takers & ((1u << lane) - 1u)));
        keys()[slot] = Traits::key(Bits(pick(word, w) >> (half * 16u)));
        codes()[slot] = code_of(pos0 + (w / 4u) * step + (w % 4u) * kPerWord + half);
        mask &= mask - 1u;
      }
      at += uint32_t(__popc(takers));
    }
    return end;
  }

  // The k-th greatest of the buffer's n candidates. In a ties pass its key is known: the key
  // select's passes (four on a ReLU row's plateau at 0.0, whose bin holds nearly every entry at
  // each digit) are skipped (kernel-notes, v6 step 27).
  __device__ Threshold select(uint32_t n) {
    return Select::select(ts.select, keys(), codes(), n, k, scratch(), {ts.tied_key, ts.tied_above});
  }

  // Cuts the buffer's n candidates to the k greatest, moved to its front; returns the k-th.
  __device__ Threshold cut(uint32_t n) {
    const Threshold t = select(n);
    Select::partition(ts.select, keys(), codes(), n, k, t, scratch());
    if (threadIdx.x == 0) ts.count = k;
    __syncthreads();
    return t;
  }

  // Stages 2 and 3 for unsorted output, the row's positions in one bitmap: the k greatest of the
  // buffer's n candidates (all of them when n = k: no empty slot then) ranked by position
  // straight from the buffer and staged in keys()[0, k), the ranks' table past them. cut()'s
  // partition, ~550 warp instructions a warp and row of 32768, is not needed (kernel-notes, v6
  // step 27).
  __device__ void list_kept(uint32_t n) {
    const Threshold t = n > k ? select(n) : Threshold{0u, 0u};
    Rank::list(
        ts.rank, n, uint32_t(w.length), scratch(), reinterpret_cast<uint16_t*>(keys() + kMaxK),
        [&](uint32_t i, uint32_t& pos) {
          const uint32_t code = codes()[i];
          pos = pos_of(code);
          return Select::kept(keys()[i], code, t);
        },
        [&](uint32_t i) { return pos_of(codes()[i]); }, [&](uint32_t i, uint32_t at) { keys()[at] = pos_of(codes()[i]); });
  }

  // Stage 3: the selections staged by ascending position (descending for sorted output with
  // `large`, so that the stable sort leaves tied keys in the contract's order).
  __device__ void order() {
    uint32_t* const stage = scratch();
    const bool sorted = p.sorted;
    Rank::rank(
        ts.rank, k, uint32_t(w.length), codes() + kMaxK, kRankWords, [&](uint32_t i) { return pos_of(codes()[i]); },
        [&](uint32_t i, uint32_t at) {
          const uint32_t slot = sorted && kLarge ? k - 1 - at : at;
          stage[slot] = pos_of(codes()[i]);
          if (sorted) stage_keys()[slot] = keys()[i];
        });
  }

  // Stage 4 (and the sort of sorted output): the first m slots of the stage (its positions at
  // `positions`), then padding.
  __device__ void finish(uint32_t m, uint32_t* positions) {
    Write::run(p.a, p.out, p.sorted, r, row, m,
               {positions, stage_keys(), reinterpret_cast<typename Write::SortStorage*>(codes() + kMaxK)});
  }
};

}  // namespace nsa::cuda
