// The spread top-k agent: a row longer than one CTA's registers hold, for few rows (decode),
// spread over a grid of CTAs, a chunk of the register agent's capacity each (ChunkRow), in three
// kernels whose boundaries are the row's only synchronization:
//  1. count(): each chunk's keys in the register agent's coarse histogram, added into the row's
//     histogram in global memory.
//  2. split(): each chunk loads again, finds the k-th's bin from the row's histogram, and ranks its
//     elements above that bin and its members of it by position. A chunk publishes its two counts
//     (the grouped split: its group's, once all are counted) and sums its predecessors' (a
//     look-back over flags: the chunks before it were scheduled before it), so it writes its
//     elements above the bin in their final order (positions, and keys for sorted output) and its
//     members in row order, as candidates.
//     Grids of more than two CTAs a SM (the kernels' dense instances) take kGroup chunks a CTA
//     (split_grouped(): one select of the row's bin, a warp a chunk), and where the members fit
//     the candidates (`claimed`) wait for no other chunk: a CTA claims its chunks' slots from the
//     row's cursor by one atomic and writes their elements there, in position order within each
//     chunk; the chunks' order among them is the atomics', and finish() puts the chunks back in row
//     order by their counts and slots. Such a CTA takes every (CTAs a row)-th chunk, so that a run
//     of chunks that load their scores again spreads over the row's CTAs; where the look-back
//     sums a group's predecessors, its chunks are consecutive.
//     In such grids count() also writes each chunk's shortlist: its elements in its greatest bins,
//     at most kShortlist, by position, and the lowest of those bins. A chunk whose shortlist
//     reaches down to the row's bin splits the shortlist instead of loading its scores again
//     (normal rows: every chunk, a 16th of the bytes). A plateau chunk (its list holds so few that
//     the row's bin lies below them: a few elements above the zeros) also records its members of
//     the bin below the list, their count and least and greatest key; where that bin is the row's
//     and overflows the candidates, the chunk places itself from the record, and loads its scores
//     only if its members are among the kept ones (ReLU rows: one chunk a row). The others load
//     them. The look-back takes such a chunk's counts from its record too, without waiting for its
//     flag.
//  3. finish(): one CTA per row selects the remaining of the candidates by (key, position in the
//     tie-break's order), merges them into the elements above the bin by position, and writes the
//     row as the register agent does (sorted on chip when asked). Output in no particular order
//     (SpreadParams::any_order) takes both lists as they lie, unmerged.
//     Dense grids whose rows hold at most kGroup chunks (a row's chunks are one group) skip the
//     third kernel: the group's CTA finishes its row (split_grouped<true>), its elements above the
//     bin and candidates put straight into finish()'s shared memory, no slots claimed or published.
// The set and its order follow from keys and positions alone: deterministic, with no cost.
//
// Candidates: the bin's members all, when they fit kCandidates (normal rows: a few hundred of
// 1M); otherwise the first kCandidates in position order (tie-break large: the last), which serve
// when the bin holds one key only (plateaus of equal scores: the selected are then the first or
// last `remain` of its members). A bin that holds more distinct keys than fit, and rows longer
// than the chunks hold (device lengths past maxLen), take the batch agent where the row is
// finished (the finish kernel, or split_grouped<true>): exact, one CTA reading the row.
//
// In a length split (dispatch.cu's run_split) the radix kernel, beside these on a branch of the
// stream, takes the rows of at most SpreadParams::shorter scores, and these kernels leave them.
//
// Between calls the row histograms, the chunks' flags and the rows' cursors are zero: finish()
// (or split_grouped<true>, which writes no flags or cursors) clears what count() and split()
// wrote, and the workspace is zeroed when it is allocated (dispatch.cu).
#pragma once
#include <cstdint>

#include "../block/block_exclusive_sum.cuh"
#include "../block/pick.cuh"
#include "../block/row_exchange.cuh"
#include "../block/timeline.cuh"
#include "agent_batch_topk.cuh"
#include "agent_register_topk.cuh"

namespace nsa::cuda {

struct SpreadParams {
  BatchTopKParams p;
  uint32_t* hist;    // [rows][bins]: the rows' coarse histograms
  uint32_t* status;  // [rows][chunks]: each chunk's flag and counts (split)
  uint32_t* bounds;  // [rows][chunks][2]: the least and greatest key of a chunk's members (split, when they
                     // overflow); where the chunks claim their slots, the first slot of its elements above the
                     // bin and of its members
  uint32_t* cursor;  // [rows]: the slots claimed so far, those above the bin in bits 16-31, members in 0-15
  uint32_t* above;   // [rows][2][kMaxK]: positions, then keys, of the elements above the bin, by position
                     // (claimed slots: each chunk's run by position, the runs in their claims' order)
  uint32_t* cand;    // [rows][2][kCandidates]: keys, then positions, of the kept members, likewise
  uint4* lists;      // [rows][chunks]: a chunk's record: x its shortlist's lowest bin in bits 16-31 (kBins:
                     // none) and length in 0-15; plateau chunks: y their members of the bin below the
                     // list (0: not a plateau chunk), z and w those members' least and greatest key
  uint32_t* shortlist;  // [rows][chunks][2][kShortlist]: keys, then positions in the chunk, by position
  uint32_t chunks;   // chunks per row of status and bounds: the rows the spread kernels hold are at most
                     // chunks x kCapacity long
  int64_t shorter;   // rows at most this long on the device are the radix kernel's, launched beside these
                     // (dispatch.cu's length split); -1 when these take every row
  bool claimed;      // the dense split's groups claim their chunks' slots where the members fit (chunks <=
                     // the CTA's threads, for finish()'s one chunk a thread; a row of several groups)
  bool any_order;    // unsorted output that need not be repeatable: finish() stages the row unmerged
};

template <class Policy, class Traits, bool kLarge>
struct AgentSpreadTopK {
  using Chunk = AgentRegisterTopK<Policy, Traits, kLarge, ChunkRow>;
  using Fallback = AgentBatchTopK<typename Policy::Fallback, Traits, kLarge>;
  using Bins = typename Chunk::Bins;
  using Select = typename Chunk::Select;
  using Write = typename Chunk::Write;
  using Threshold = typename Select::Threshold;
  static constexpr int kThreads = Policy::kThreads;
  static constexpr int kVectors = Chunk::kVectors;
  static constexpr int kV = Chunk::kV;
  static constexpr uint32_t kCapacity = Chunk::kCapacity;
  static constexpr uint32_t kMaxK = Policy::kMaxK;
  static constexpr uint32_t kCandidates = 2 * kMaxK;
  // A chunk's shortlist: normal rows' k-th greatest lies in a chunk's top ~0.2%, its shortlist
  // reaches its top ~3% (f32, chunks of 8192).
  static constexpr uint32_t kShortlist = 256;
  static_assert(kShortlist <= uint32_t(kThreads) && kShortlist < (1u << 16), "a shortlist's entry a thread");
  static_assert(kShortlist <= kMaxK, "a shortlist fits the register agent's stage");
  static constexpr int kCandidatesPerThread = int(kCandidates) / kThreads;
  static constexpr int kAbovePerThread = int(kMaxK) / kThreads;
  static constexpr int kHistVectors = Bins::kBins / 4 / kThreads;  // 16-byte parts of a row histogram per thread
  static_assert(Bins::kBins % (4 * kThreads) == 0, "the row histogram splits evenly over the threads");
  static_assert(kCandidates % kThreads == 0 && kMaxK % kThreads == 0, "finish() takes whole runs per thread");
  // A chunk's flag word: bit 31 set once published, its count above the bin in bits 16-30, its
  // members in bits 0-15.
  static_assert(kCapacity < (1u << 15), "a chunk's counts fit its flag word");
  static_assert(Chunk::kScratchWords >= 3 * kThreads, "finish() keeps three words a chunk in the scratch");
  static_assert(kMaxK < (1u << 16) && kCandidates < (1u << 16), "a row's claimed slots fit half a cursor each");
  using Sum = BlockExclusiveSum<kThreads>;

  // finish()'s shared memory past the register agent's (its stage and scratch), in words.
  static constexpr uint32_t kCandKeys = 0, kCandCodes = kCandidates, kAbovePos = 2 * kCandidates,
                            kAboveKeys = kAbovePos + kMaxK, kSelPos = kAboveKeys + kMaxK, kSelKeys = kSelPos + kMaxK,
                            kFinishWords = kSelKeys + kMaxK;
  static_assert(kCandCodes == kCandKeys + kCandidates && kAboveKeys == kAbovePos + kMaxK, "Out's halves");
  static constexpr size_t kFinishSmemBytes = Chunk::kDynamicSmemBytes + kFinishWords * sizeof(uint32_t);
  static constexpr size_t kDynamicSmemBytes =
      kFinishSmemBytes > Fallback::kDynamicSmemBytes ? kFinishSmemBytes : Fallback::kDynamicSmemBytes;
  __device__ static uint32_t* finish_words() { return batch_topk_smem + Chunk::kDynamicSmemBytes / sizeof(uint32_t); }
  // Each kernel's first mark (NSA_TOPK_TIMELINE builds: scripts/probes/timeline.cu), where the CTAs
  // of the grids' first row of blocks share the marks. count: start, end; split: start, the bin,
  // (dense grids: the group's counts,) the counts before the chunks, end; finish: start, the counts,
  // the loads, the select, the compaction, the merge, the write. split_grouped<true>: the split's,
  // then the select, the compaction, the merge and the write.
  static constexpr int kCountMarks = 0, kSplitMarks = 2, kFinishMarks = 7;

  struct SplitStorage {
    uint32_t wrapped[2];  // thread 0's wrapped elements above the bin, and members of it
    uint32_t before[2];   // the chunks before this one: their elements above the bin, their members
    uint32_t lo, hi;      // the least and greatest key of this chunk's members
  };
  struct FinishStorage {
    typename Select::Storage select;
    typename Sum::Storage sum, sum2;
    uint32_t sums[2];  // the row's elements above the bin and members of it
    uint32_t lo, hi;   // the least and greatest key of its members
  };
  // The dense split's chunks a CTA: a warp each.
  static constexpr unsigned kGroup = unsigned(kThreads) / 32;
  static_assert(kGroup <= 32 && kGroup * kShortlist <= 2 * kMaxK,
                "a group's chunks fit a warp's lanes, their keys the stage");
  // split_grouped()'s shared memory: the register agent's (the group's shortlisted keys in its stage,
  // group_keys(); the row's histogram in its scratch), then their positions (group_positions()).
  // kFinish (the group's CTA finishes its row): finish()'s, which the split fills, then the keys and
  // positions.
  static constexpr size_t kGroupSmemBytes = Chunk::kDynamicSmemBytes + kGroup * kShortlist * sizeof(uint32_t);
  static constexpr size_t kSplitFinishSmemBytes = kFinishSmemBytes + 2 * kGroup * kShortlist * sizeof(uint32_t) >
                                                          kDynamicSmemBytes
                                                      ? kFinishSmemBytes + 2 * kGroup * kShortlist * sizeof(uint32_t)
                                                      : kDynamicSmemBytes;
  template <bool kFinish>
  __device__ static uint32_t* group_keys() {
    return kFinish ? batch_topk_smem + kFinishSmemBytes / sizeof(uint32_t) : Chunk::stage_positions();
  }
  template <bool kFinish>
  __device__ static uint32_t* group_positions() {
    return kFinish ? group_keys<true>() + kGroup * kShortlist : finish_words();
  }
  struct GroupStorage {
    uint4 list[kGroup];               // the chunks' records (count()'s)
    uint32_t count[2][kGroup];        // their elements above the bin, their members
    uint32_t first[2][kGroup];        // where those start: slots claimed, or ranks after the look-back's sums
    uint32_t lo[kGroup], hi[kGroup];  // their members' least and greatest key (where they overflow)
    uint32_t all[2];                  // split_grouped<true>: the row's elements above the bin, its members
    bool one_key;                     // ... whether its members (where they overflow) hold one key
    uint32_t loaded;                  // bit v: chunk v of the group loads its scores to be counted and written
    uint32_t kept;                    // bit v: a plateau chunk that loads them to write its kept members
  };
  struct ChunkStorage {
    typename Chunk::TempStorage chunk;
    SplitStorage split;
    GroupStorage group;
  };
  // split(): the row's k-th's bin (the bucket select's).
  struct RowBin {
    typename Bins::Range bin;  // its keys
    uint32_t members;          // the row's members of it
    bool overflow;             // more than the candidates hold
  };
  // Where split()'s chunks of a row put what they keep: the elements above the bin at their final
  // slots (positions, and keys for sorted output), the members kept as candidates by their ranks
  // among the row's (where they overflow, the first kCandidates in position order; tie-break
  // large: the last).
  // split_grouped<true> puts them straight into finish()'s shared memory, as finish() would load
  // them (the candidates' positions as their codes; output in any order: the elements above the
  // bin into the stage).
  struct Out {
    uint32_t* above;  // [2][kMaxK]: positions, then keys
    uint32_t* cand;   // [2][kCandidates]: keys, then positions (codes)
    bool keys;
    bool codes;
    uint32_t skip;    // members before the kept ones
    __device__ Out(const SpreadParams& s, int64_t r, const RowBin& rb)
        : above(s.above + r * 2 * kMaxK),
          cand(s.cand + r * 2 * kCandidates),
          keys(s.p.sorted),
          codes(false),
          skip(kLarge && rb.overflow ? rb.members - kCandidates : 0u) {}
    __device__ Out(const SpreadParams& s, const RowBin& rb)
        : above(s.any_order ? Chunk::stage_positions() : finish_words() + kAbovePos),
          cand(finish_words() + kCandKeys),
          keys(s.p.sorted),
          codes(true),
          skip(kLarge && rb.overflow ? rb.members - kCandidates : 0u) {}
    // Whether n members ranked from `first` on hold a kept one.
    __device__ bool keeps(uint32_t first, uint32_t n) const { return kLarge ? first + n > skip : first < kCandidates; }
    // kind 0: an element above the bin at slot `at`; 1: a member of rank `at`. position: the row's.
    __device__ void put(int kind, uint32_t at, uint32_t position, uint32_t x) const {
      if (kind == 0) {
        above[at] = position;
        if (keys) above[kMaxK + at] = x;
      } else if (kLarge ? at >= skip : at < kCandidates) {
        cand[at - skip] = x;
        cand[kCandidates + at - skip] = codes ? Fallback::code_of(position) : position;
      }
    }
  };
  union TempStorage {
    ChunkStorage c;
    FinishStorage finish;
    typename Fallback::TempStorage batch;
  };

  // Whether the spread kernels take a row of `length`: longer than k (shorter ones are selected
  // whole by finish() alone) and within the chunks.
  __device__ static bool spread(int64_t length, const SpreadParams& s) {
    return length > int64_t(s.p.out.k) && length <= int64_t(s.chunks) * kCapacity;
  }

  // Whether row r is these kernels' at all (in the call, and not the radix kernel's: s.shorter),
  // and its clamped window.
  __device__ static bool own(const SpreadParams& s, int64_t r, Window& w) {
    if (r >= s.p.a.rows) return false;
    w = clamp_window(s.p.a.stride, s.p.a.row_starts, s.p.a.lengths, r);
    return w.length > s.shorter;
  }

  // Kernel 1, a CTA per chunk (blockIdx.x) and row (blockIdx.y). kList: the dense grids' instance,
  // which also writes each chunk's shortlist.
  template <bool kList>
  __device__ static void count(TempStorage& ts, const SpreadParams& s) {
    const int64_t r = blockIdx.y;
    Window w;
    if (!own(s, r, w) || !spread(w.length, s) || int64_t(blockIdx.x) * kCapacity >= w.length) return;
    Timeline timeline(kCountMarks);
    timeline.mark();
    Chunk chunk(ts.c.chunk, s.p, r, w, ChunkRow{{}, blockIdx.x});
    chunk.clear_bins();
    chunk.template load<true>();
    __syncthreads();  // the chunk's counts
    uint32_t* const hist = s.hist + r * Bins::kBins;
    for (int b = threadIdx.x; b < Bins::kBins; b += kThreads)
      if (const uint32_t n = Chunk::scratch()[b]) atomicAdd(hist + b, n);
    if constexpr (kList) shortlist(ts, s, chunk, r, (w.length + kCapacity - 1) / kCapacity);
    timeline.mark();
  }

  // count()'s shortlist of chunk blockIdx.x: its elements in its greatest bins, as many bins as hold
  // at most kShortlist (every element where the chunk holds no more), by position. Every thread
  // must call (the chunk's histogram in the scratch, counted). chunks: the row's.
  __device__ static void shortlist(TempStorage& ts, const SpreadParams& s, Chunk& chunk, int64_t r, int64_t chunks) {
    const unsigned c = blockIdx.x;
    SplitStorage& ss = ts.c.split;
    if (threadIdx.x == 0) {  // the bucket select's barrier orders these before member_bounds()
      ss.lo = ~0u;
      ss.hi = 0;
    }
    uint32_t low = 0;   // the lowest bin listed
    uint32_t next = 0;  // a plateau chunk's members of bin low - 1
    if (chunk.length > kShortlist) {
      Select::Bucket::run(ts.c.chunk.select.bucket, Chunk::scratch(), Bins::kBins, kShortlist + 1);
      const uint32_t bin = ts.c.chunk.select.bucket.bin;
      low = bin + 1;
      // Lists as short as this one would hold fewer than k over the row (plateaus: a few elements
      // above the zeros), so the row's bin likely is `bin`: the record also takes the chunk's
      // members of it (v6 step 55). Nothing lies above the top bin: no list, and split() loads the
      // chunk at once (kernel-notes, v6 step 50).
      if (int64_t(ts.c.chunk.select.bucket.above) * chunks < int64_t(s.p.out.k)) {
        if (low == uint32_t(Bins::kBins)) {
          if (threadIdx.x == 0) s.lists[r * s.chunks + c] = make_uint4(uint32_t(Bins::kBins) << 16, 0, 0, 0);
          return;
        }
        next = Chunk::scratch()[bin];
        const typename Bins::Range members = Bins::range(bin);
        // Key 0, an empty slot, is in no bin.
        member_bounds(ss, chunk.bounds_of(chunk.mask_of([&](uint32_t x) { return members.holds(x); })));
      }
    }
    const uint32_t least = Bins::range(low).lo;  // >= 1: no empty slot
    uint32_t listed[1] = {chunk.mask_at_least(least)}, wrapped[1], base[1][kVectors], n[1];
    rank(ts.c.split, chunk, listed, wrapped, base, n);
    // Staged in shared memory (the register agent's stage, unused by count), then written a word a
    // thread: scattered 4-byte stores at the ranks cost a CTA ~1.1 us (kernel-notes, v6 step 49).
    uint32_t* const keys = Chunk::stage_keys();
    uint32_t* const positions = Chunk::stage_positions();
    const uint32_t first[1] = {0};
    in_order(chunk, listed, wrapped, base, first, n, [&](int, uint32_t at, uint32_t position, uint32_t x) {
      keys[at] = x;
      positions[at] = position;
    });
    __syncthreads();  // the stage
    const uint32_t total = n[0] + ts.c.split.wrapped[0];
    uint32_t* const list = s.shortlist + (r * s.chunks + c) * 2 * kShortlist;
    if (threadIdx.x < total) {
      list[threadIdx.x] = keys[threadIdx.x];
      list[kShortlist + threadIdx.x] = positions[threadIdx.x];
    }
    if (threadIdx.x == 0) s.lists[r * s.chunks + c] = make_uint4(low << 16 | total, next, next ? ss.lo : 0u, next ? ss.hi : 0u);
  }

  // Kernel 2 of grids of at most two CTAs a SM (the sparse instance), the same grid as count(): each
  // chunk loads its scores again, before PDL's wait (they are count()'s input, not its output: every
  // count CTA waited for their writer before it let this grid start; kernel-notes, v6 step 51),
  // finds the k-th's bin, ranks its elements above the bin and its members by position, and writes
  // them after those of the chunks before it (the look-back). wait_for_count(): the kernel's wait
  // for the count grid (PDL: complete, its writes visible), called before the CTA's first access to
  // them.
  template <class Wait>
  __device__ static void split(TempStorage& ts, const SpreadParams& s, Wait wait_for_count) {
    const int64_t r = blockIdx.y;
    const unsigned c = blockIdx.x;
    Window w;
    if (!own(s, r, w) || !spread(w.length, s) || int64_t(c) * kCapacity >= w.length) return;
    Timeline timeline(kSplitMarks);
    timeline.mark();
    Chunk chunk(ts.c.chunk, s.p, r, w, ChunkRow{{}, c});
    chunk.template load<false>();
    wait_for_count();
    SplitStorage& ss = ts.c.split;
    if (threadIdx.x == 0) {
      ss.before[0] = ss.before[1] = 0;
      ss.lo = ~0u;
      ss.hi = 0;
    }
    load_row_hist(s, r);
    __syncthreads();
    const RowBin rb = row_bin(ts, s);
    timeline.mark();
    const uint32_t above = chunk.mask_at_least(rb.bin.hi + 1u);
    uint32_t mask[2] = {above, chunk.mask_at_least(rb.bin.lo) & ~above};
    if (rb.overflow) member_bounds(ss, chunk.bounds_of(mask[1]));  // whether the bin holds one key
    uint32_t wrapped[2], base[2][kVectors], n[2];
    rank(ss, chunk, mask, wrapped, base, n);
    if (threadIdx.x == 0) publish(s, r, c, rb.overflow, ss.lo, ss.hi, n[0] + ss.wrapped[0], n[1] + ss.wrapped[1]);
    look_back<false>(ss, s, r, c, rb.overflow, ts.c.chunk.select.bucket.bin);
    __syncthreads();
    timeline.mark();
    const Out out(s, r, rb);
    const uint32_t first[2] = {ss.before[0], ss.before[1]}, origin = c * kCapacity;
    in_order(chunk, mask, wrapped, base, first, n, [&](int kind, uint32_t at, uint32_t position, uint32_t x) {
      out.put(kind, at, origin + position, x);
    });
    timeline.mark();
  }

  // Kernel 2 of grids of several waves (the dense instance): a CTA per kGroup chunks of a row
  // (blockIdx.x; every `ctas`-th chunk where the group claims its slots, consecutive ones where the
  // look-back sums the chunks before the group's first), the rows last first (count() read them first
  // to last: those it read last, likeliest in L2 still, are read again first). One select of the
  // row's bin a CTA, and a warp a chunk where its shortlist holds its elements above the bin and its
  // members (normal rows: every chunk), or its plateau record places it (v6 step 55): the warps
  // count, the group claims its slots at once (or publishes its chunks and sums those before them),
  // and the warps write. The other chunks (no list, a list that stops above the bin, a plateau chunk
  // whose members are kept) load their scores, one after another over the whole CTA: counted, then
  // loaded again to be written (kernel-notes, v6 step 63). Strided groups spread a run of such chunks
  // (a row's top-k in a few consecutive chunks) over the row's CTAs (v6 step 69).
  // kFinish: every row's chunks make one group (the launch's rows hold at most kGroup chunks), and
  // its CTA finishes the row too, as finish() would, from what the split leaves in shared memory: no
  // slots claimed or published, no finish kernel (v6 step 90).
  template <bool kFinish, class Wait>
  __device__ static void split_grouped(TempStorage& ts, const SpreadParams& s, Wait wait_for_count) {
    const int64_t r = int64_t(gridDim.y) - 1 - int64_t(blockIdx.y);
    wait_for_count();
    Window w;
    if (!own(s, r, w)) return;
    if (!spread(w.length, s)) {
      if constexpr (kFinish) finish_whole(ts, s, r, w);
      return;
    }
    const unsigned chunks = unsigned((w.length + kCapacity - 1) / kCapacity), ctas = (chunks + kGroup - 1) / kGroup;
    if (kFinish && ctas > 1) {  // never launched so (launch_spread), but exact if it were
      by_batch_agent(ts, s, r);
      return;
    }
    if (blockIdx.x >= ctas) return;
    const unsigned c0 = blockIdx.x * kGroup, warp = threadIdx.x >> 5, lane = threadIdx.x & 31u;
    // Strided where the slots may be claimed; a row whose bin overflows (known after row_bin) takes
    // consecutive chunks again. The claim waits for no other CTA, the look-back for those before.
    bool strided = !kFinish && s.claimed;
    unsigned g = 0;
    const auto chunk_of = [&](unsigned v) { return strided ? blockIdx.x + v * ctas : c0 + v; };
    Timeline timeline(kSplitMarks);
    timeline.mark();
    SplitStorage& ss = ts.c.split;
    GroupStorage& gs = ts.c.group;
    // The chunks' records and their shortlists' keys (a warp's chunk's to its part of the stage) in
    // flight beside the row's histogram.
    uint32_t* const keys = group_keys<kFinish>() + warp * kShortlist;
    uint32_t* const positions = group_positions<kFinish>() + warp * kShortlist;
    const auto copy_group = [&] {
      g = strided ? (chunks - blockIdx.x + ctas - 1) / ctas : min(kGroup, chunks - c0);
      if (threadIdx.x < g) copy_async(&gs.list[threadIdx.x], s.lists + r * s.chunks + chunk_of(threadIdx.x));
      if (warp < g) {
        // Past the list's length: an earlier call's entries, or zeros; unused.
        const uint32_t* const entries = s.shortlist + (r * s.chunks + chunk_of(warp)) * 2 * kShortlist;
        for (uint32_t v = lane; v < kShortlist / 4; v += 32) {
          copy_async(keys + 4 * v, entries + 4 * v);
          copy_async(positions + 4 * v, entries + kShortlist + 4 * v);
        }
      }
    };
    copy_group();
    load_row_hist(s, r);
    if (threadIdx.x == 0) {
      ss.before[0] = ss.before[1] = 0;
      ss.lo = ~0u;
      ss.hi = 0;
      gs.loaded = gs.kept = 0;
    }
    wait_async();
    __syncthreads();
    if constexpr (kFinish) clear_row_hist(s, r);  // in the scratch now; zero for the next call
    const RowBin rb = row_bin(ts, s);
    if (strided && rb.overflow) {  // the look-back's consecutive chunks (the first copies landed)
      strided = false;
      copy_group();
      wait_async();
      __syncthreads();
    }
    timeline.mark();
    // Each warp's chunk counted from its list (its members' bounds where they overflow), or from its
    // plateau record; the others marked to load.
    bool listed = false, plateau = false;
    uint32_t length = 0;  // the list's
    if (warp < g) {
      const uint4 list = gs.list[warp];
      plateau = plateau_record(list, ts.c.chunk.select.bucket.bin, rb.overflow);
      listed = (list.x >> 16) <= ts.c.chunk.select.bucket.bin || plateau;
      length = list.x & 0xffffu;
      if (listed) {
        uint32_t above = 0, members = 0, lo = ~0u, hi = 0;
#pragma unroll
        for (int j = 0; j < int(kShortlist / 32); ++j) {
          const uint32_t i = uint32_t(j * 32) + lane, x = i < length ? keys[i] : 0u;
          const bool member = !plateau && rb.bin.holds(x);  // key 0 (no entry) is in no bin
          above += uint32_t(__popc(__ballot_sync(0xffffffffu, x > rb.bin.hi)));
          members += uint32_t(__popc(__ballot_sync(0xffffffffu, member)));
          if (member) {
            lo = min(lo, x);
            hi = max(hi, x);
          }
        }
        if (!plateau) {
          lo = __reduce_min_sync(0xffffffffu, lo);
          hi = __reduce_max_sync(0xffffffffu, hi);
        }
        if (lane == 0) {
          gs.count[0][warp] = above;
          gs.count[1][warp] = plateau ? list.y : members;
          gs.lo[warp] = plateau ? list.z : lo;
          gs.hi[warp] = plateau ? list.w : hi;
        }
      } else if (lane == 0) {
        atomicOr(&gs.loaded, 1u << warp);
      }
    }
    __syncthreads();
    for (uint32_t todo = gs.loaded; todo; todo &= todo - 1u) {
      const unsigned v = unsigned(__ffs(int(todo)) - 1);
      Chunk chunk(ts.c.chunk, s.p, r, w, ChunkRow{{}, chunk_of(v)});
      chunk.template load<false>();
      const uint32_t above = chunk.mask_at_least(rb.bin.hi + 1u);
      uint32_t mask[2] = {above, chunk.mask_at_least(rb.bin.lo) & ~above}, wrapped[2], base[2][kVectors], n[2];
      if (rb.overflow) member_bounds(ss, chunk.bounds_of(mask[1]));
      rank(ss, chunk, mask, wrapped, base, n);  // its barriers order the bounds' atomics
      if (threadIdx.x == 0) {
        gs.count[0][v] = n[0] + ss.wrapped[0];
        gs.count[1][v] = n[1] + ss.wrapped[1];
        gs.lo[v] = ss.lo;
        gs.hi[v] = ss.hi;
        ss.lo = ~0u;
        ss.hi = 0;
      }
      __syncthreads();  // the next chunk's bounds and scans
    }
    timeline.mark();
    // Where each chunk's elements start: the group's slots claimed at once (the members fit), or
    // its chunks published and those before them summed.
    const bool claim = strided;  // s.claimed, and the row's members fit
    if (warp == 0) {
      const uint32_t above = lane < g ? gs.count[0][lane] : 0u, members = lane < g ? gs.count[1][lane] : 0u;
      const uint32_t above_incl = Sum::warp_inclusive(above), members_incl = Sum::warp_inclusive(members);
      uint32_t first_above = above_incl - above, first_member = members_incl - members;
      const uint32_t total_above = __shfl_sync(0xffffffffu, above_incl, 31),
                     total_members = __shfl_sync(0xffffffffu, members_incl, 31);
      if (claim) {
        // The row's totals stay below 2^16 in each half of the cursor (above the bin fewer than
        // k, members at most kCandidates), so one add claims both.
        uint32_t slot = 0;
        if (lane == 0) slot = atomicAdd(s.cursor + r, total_above << 16 | total_members);
        slot = __shfl_sync(0xffffffffu, slot, 0);
        first_above += slot >> 16;
        first_member += slot & 0xffffu;
        if (lane < g) {
          const unsigned c = chunk_of(lane);
          s.status[r * s.chunks + c] = 0x80000000u | above << 16 | members;
          s.bounds[(r * s.chunks + c) * 2] = first_above;
          s.bounds[(r * s.chunks + c) * 2 + 1] = first_member;
        }
      } else if (!kFinish && lane < g) {
        publish(s, r, c0 + lane, rb.overflow, gs.lo[lane], gs.hi[lane], above, members);
      }
      if (lane < g) {
        gs.first[0][lane] = first_above;
        gs.first[1][lane] = first_member;
      }
      if (kFinish) {  // the row's counts, and whether its members hold one key (where they overflow)
        const bool with = lane < g && members;
        const uint32_t lo = __reduce_min_sync(0xffffffffu, with ? gs.lo[lane] : ~0u);
        const uint32_t hi = __reduce_max_sync(0xffffffffu, with ? gs.hi[lane] : 0u);
        if (lane == 0) {
          gs.all[0] = total_above;
          gs.all[1] = total_members;
          gs.one_key = lo == hi;
        }
      }
    }
    if (!kFinish && !claim) look_back<true>(ss, s, r, c0, rb.overflow, ts.c.chunk.select.bucket.bin);
    __syncthreads();
    timeline.mark();
    const Out out = kFinish ? Out(s, rb) : Out(s, r, rb);
    if (listed) {
      const uint32_t c = chunk_of(warp), origin = c * kCapacity, lower = (1u << lane) - 1u;
      uint32_t at_above = gs.first[0][warp] + ss.before[0], at_member = gs.first[1][warp] + ss.before[1];
      if (plateau && lane == 0 && out.keeps(at_member, gs.count[1][warp])) atomicOr(&gs.kept, 1u << warp);
#pragma unroll
      for (int j = 0; j < int(kShortlist / 32); ++j) {
        const uint32_t i = uint32_t(j * 32) + lane, x = i < length ? keys[i] : 0u;
        const bool above = x > rb.bin.hi, member = !plateau && rb.bin.holds(x);
        const uint32_t above_votes = __ballot_sync(0xffffffffu, above);
        const uint32_t member_votes = __ballot_sync(0xffffffffu, member);
        if (above) out.put(0, at_above + uint32_t(__popc(above_votes & lower)), origin + positions[i], x);
        if (member) out.put(1, at_member + uint32_t(__popc(member_votes & lower)), origin + positions[i], x);
        at_above += uint32_t(__popc(above_votes));
        at_member += uint32_t(__popc(member_votes));
      }
    }
    __syncthreads();
    for (uint32_t todo = gs.loaded | gs.kept; todo; todo &= todo - 1u) {
      const unsigned v = unsigned(__ffs(int(todo)) - 1);
      Chunk chunk(ts.c.chunk, s.p, r, w, ChunkRow{{}, chunk_of(v)});
      chunk.template load<false>();
      // A plateau chunk's elements above the bin were its list's: its members only.
      const uint32_t above = chunk.mask_at_least(rb.bin.hi + 1u);
      uint32_t mask[2] = {gs.loaded >> v & 1u ? above : 0u, chunk.mask_at_least(rb.bin.lo) & ~above}, wrapped[2],
               base[2][kVectors], n[2];
      rank(ss, chunk, mask, wrapped, base, n);
      const uint32_t first[2] = {gs.first[0][v] + ss.before[0], gs.first[1][v] + ss.before[1]};
      const uint32_t origin = chunk_of(v) * kCapacity;
      in_order(chunk, mask, wrapped, base, first, n, [&](int kind, uint32_t at, uint32_t position, uint32_t x) {
        out.put(kind, at, origin + position, x);
      });
      __syncthreads();  // the next chunk's scans
    }
    timeline.mark();
    if constexpr (kFinish) {
      const uint32_t above_all = gs.all[0], members_all = gs.all[1];
      const bool one_key = gs.one_key;
      __syncthreads();  // gs is finish()'s storage too
      if (rb.overflow && !one_key) {  // more distinct keys in the bin than the candidates hold
        by_batch_agent(ts, s, r);
        return;
      }
      finish_staged(ts, s, r, w, above_all, members_all, timeline);
    }
  }

  // The CTA's ranks, in position order, of the thread's elements of each kind (mask[kind]: bits
  // of its slots). Thread 0's wrapped elements (the first `off` of its slot 0) come last in
  // position order: they move from mask to wrapped, and their counts to ss.wrapped. base: the
  // thread's first rank of each slot among the others; n: the CTA's counts without the wrapped.
  // Every thread must call (the scans hold barriers, which also order ss.wrapped's writes).
  template <int kKinds>
  __device__ static void rank(SplitStorage& ss, Chunk& chunk, uint32_t (&mask)[kKinds],
                              uint32_t (&wrapped)[kKinds], uint32_t (&base)[kKinds][kVectors], uint32_t (&n)[kKinds]) {
    static_assert(kKinds == 1 || kKinds == 2, "a scan buffer a kind");
    const uint32_t wrap = threadIdx.x == 0 ? (1u << chunk.off) - 1u : 0u;
#pragma unroll
    for (int kind = 0; kind < kKinds; ++kind) {
      wrapped[kind] = mask[kind] & wrap;
      mask[kind] &= ~wrap;
      if (threadIdx.x == 0) ss.wrapped[kind] = uint32_t(__popc(wrapped[kind]));
    }
    n[0] = chunk.template scan<0>(mask[0], base[0]);
    if constexpr (kKinds == 2) n[1] = chunk.template scan<1>(mask[1], base[1]);
  }

  // Visits the thread's elements that rank() ranked, in position order within each kind:
  // visit(kind, first[kind] + its rank, its position in the chunk, its key); thread 0's wrapped
  // ones after the CTA's n[kind] others.
  template <int kKinds, class Visit>
  __device__ static void in_order(const Chunk& chunk, const uint32_t (&mask)[kKinds], const uint32_t (&wrapped)[kKinds],
                                  const uint32_t (&base)[kKinds][kVectors], const uint32_t (&first)[kKinds],
                                  const uint32_t (&n)[kKinds], Visit&& visit) {
    uint32_t any = 0, any_wrapped = 0;
#pragma unroll
    for (int kind = 0; kind < kKinds; ++kind) {
      any |= mask[kind];
      any_wrapped |= wrapped[kind];
    }
#pragma unroll
    for (int j = 0; j < kVectors; ++j) {
      if (!Chunk::slot_bits(any, j)) continue;
      uint32_t at[kKinds];
#pragma unroll
      for (int kind = 0; kind < kKinds; ++kind) at[kind] = first[kind] + base[kind][j];
      const uint32_t position = Chunk::first_of(j) - chunk.off;
#pragma unroll
      for (int q = 0; q < kV; ++q)
#pragma unroll
        for (int kind = 0; kind < kKinds; ++kind)
          if (mask[kind] >> (j * kV + q) & 1u) visit(kind, at[kind]++, position + uint32_t(q), chunk.key[j][q]);
    }
    for (uint32_t bits = any_wrapped; bits; bits &= bits - 1u) {  // thread 0's, rarely any
      const uint32_t q = uint32_t(__ffs(int(bits)) - 1), below = (1u << q) - 1u;
      const uint32_t position = q + kCapacity - chunk.off, x = pick(chunk.key[0], q);  // no dynamic index: keys stay in registers
#pragma unroll
      for (int kind = 0; kind < kKinds; ++kind)
        if (wrapped[kind] >> q & 1u) visit(kind, first[kind] + n[kind] + uint32_t(__popc(wrapped[kind] & below)), position, x);
    }
  }

  // Kernel 3, a CTA per row (blockIdx.x).
  __device__ static void finish(TempStorage& ts, const SpreadParams& s) {
    const int64_t r = blockIdx.x;
    const bool claimed_call = s.claimed;  // the split's chunks claimed their slots (where the members fit)
    Window w;
    if (!own(s, r, w)) return;
    if (!spread(w.length, s)) {
      finish_whole(ts, s, r, w);
      return;
    }
    const bool sorted = s.p.sorted;
    uint32_t* const stage_pos = Chunk::stage_positions();
    Timeline timeline(kFinishMarks);
    timeline.mark();
    FinishStorage& fs = ts.finish;
    // The chunks' counts (and, where the members overflowed, their bounds: a second round trip
    // only then); then the row's histogram and flags cleared for the next call.
    const uint32_t chunks = uint32_t((w.length + kCapacity - 1) / kCapacity);
    uint32_t* const status = s.status + r * s.chunks;
    if (threadIdx.x == 0) {
      fs.sums[0] = fs.sums[1] = 0;
      fs.lo = ~0u;
      fs.hi = 0;
    }
    __syncthreads();
    uint32_t above_all = 0, members_all = 0;
    const bool any_order = s.any_order;  // the claimed slots' order serves: no map to position order
    if (claimed_call && !any_order) {  // a chunk a thread: its counts' prefixes over the row, and its claimed slots
      const uint32_t t = threadIdx.x;
      const uint32_t v = t < chunks ? status[t] : 0u;
      const uint32_t slot_above = t < chunks ? s.bounds[(r * s.chunks + t) * 2] : 0u;
      const uint32_t slot_member = t < chunks ? s.bounds[(r * s.chunks + t) * 2 + 1] : 0u;
      const uint32_t n_above = (v >> 16) & 0x7fffu, n_member = v & 0xffffu;
      const uint32_t at_above = Sum::run(fs.sum, n_above, &above_all);
      const uint32_t at_member = Sum::run(fs.sum2, n_member, &members_all);
      if (members_all <= kCandidates) {  // the slots were claimed: where each chunk's entries go, by position
        uint32_t* const chunk = Chunk::scratch() + 3 * t;  // free until the select
        chunk[0] = at_above | n_above << 16;
        chunk[1] = at_member | n_member << 16;
        chunk[2] = slot_above | slot_member << 16;
      }
    } else {
      for (uint32_t t = threadIdx.x; t < chunks; t += kThreads) {
        const uint32_t v = status[t];
        above_all += (v >> 16) & 0x7fffu;
        members_all += v & 0xffffu;
      }
      above_all = __reduce_add_sync(0xffffffffu, above_all);
      members_all = __reduce_add_sync(0xffffffffu, members_all);
      if ((threadIdx.x & 31u) == 0) {
        atomicAdd(&fs.sums[0], above_all);
        atomicAdd(&fs.sums[1], members_all);
      }
      __syncthreads();
      above_all = fs.sums[0];
      members_all = fs.sums[1];
    }
    const bool overflow = members_all > kCandidates;
    if (overflow) {  // whether the bin holds one key (bounds of the chunks with members)
      uint32_t lo = ~0u, hi = 0;
      for (uint32_t t = threadIdx.x; t < chunks; t += kThreads) {
        if (status[t] & 0xffffu) {
          lo = min(lo, s.bounds[(r * s.chunks + t) * 2]);
          hi = max(hi, s.bounds[(r * s.chunks + t) * 2 + 1]);
        }
      }
      lo = __reduce_min_sync(0xffffffffu, lo);
      hi = __reduce_max_sync(0xffffffffu, hi);
      if ((threadIdx.x & 31u) == 0) {
        atomicMin(&fs.lo, lo);
        atomicMax(&fs.hi, hi);
      }
      __syncthreads();
    }
    const bool one_key = fs.lo == fs.hi;
    for (uint32_t t = threadIdx.x; t < chunks; t += kThreads) status[t] = 0;
    clear_row_hist(s, r);
    if (threadIdx.x == 0) s.cursor[r] = 0;
    timeline.mark();
    if (overflow && !one_key) {  // more distinct keys in the bin than the candidates hold
      __syncthreads();  // fs is the batch agent's storage too
      by_batch_agent(ts, s, r);
      return;
    }
    // The elements above the bin and the candidates with their codes, loaded in the order the split
    // left them: every load in flight before the first store (they come from L2, a round trip each).
    // Claimed slots are in no order across chunks (position order within each): an entry's place
    // in the row's position order is its chunk's prefix plus its offset in the chunk's claimed run
    // (the chunk is its position's), so that no load waits on a map of the slots.
    uint32_t* const smem = finish_words();
    const uint32_t* const above_pos = s.above + r * 2 * kMaxK;
    const uint32_t* const cand_key = s.cand + r * 2 * kCandidates;
    const uint32_t n = min(members_all, kCandidates);
    const bool claimed = claimed_call && !overflow && !any_order;
    uint32_t apos[kAbovePerThread], akey[kAbovePerThread], ckey[kCandidatesPerThread], cpos[kCandidatesPerThread];
#pragma unroll
    for (int j = 0; j < kAbovePerThread; ++j) {
      const uint32_t i = threadIdx.x + uint32_t(j * kThreads);
      apos[j] = i < above_all ? above_pos[i] : ~0u;
      akey[j] = i < above_all && sorted ? above_pos[kMaxK + i] : 0u;
    }
#pragma unroll
    for (int j = 0; j < kCandidatesPerThread; ++j) {
      const uint32_t i = threadIdx.x + uint32_t(j * kThreads);
      ckey[j] = i < n ? cand_key[i] : 0u;
      cpos[j] = i < n ? cand_key[kCandidates + i] : 0u;
    }
    if (claimed) __syncthreads();  // the chunks' prefixes and slots (the loads in flight)
    // kind 0: above the bin, 1: a candidate; i: its slot as loaded, position: its row's.
    const auto place_of = [&](int kind, uint32_t i, uint32_t position) {
      if (!claimed) return i;
      const uint32_t* const chunk = Chunk::scratch() + 3 * (position / kCapacity);
      return (chunk[kind] & 0xffffu) + i - (kind == 0 ? chunk[2] & 0xffffu : chunk[2] >> 16);
    };
#pragma unroll
    for (int j = 0; j < kAbovePerThread; ++j) {
      const uint32_t i = threadIdx.x + uint32_t(j * kThreads);
      if (i < above_all) {
        if (any_order) {
          stage_pos[i] = apos[j];
        } else {
          const uint32_t at = place_of(0, i, apos[j]);
          smem[kAbovePos + at] = apos[j];
          if (sorted) smem[kAboveKeys + at] = akey[j];
        }
      }
    }
#pragma unroll
    for (int j = 0; j < kCandidatesPerThread; ++j) {
      const uint32_t i = threadIdx.x + uint32_t(j * kThreads);
      if (i < n) {
        const uint32_t at = place_of(1, i, cpos[j]);
        smem[kCandKeys + at] = ckey[j];
        smem[kCandCodes + at] = Fallback::code_of(cpos[j]);
      }
    }
    timeline.mark();  // thread 0's loads landed
    finish_staged(ts, s, r, w, above_all, members_all, timeline);
  }

  // finish() of a row the spread kernels leave whole: longer than their chunks hold (the batch
  // agent), or of at most k scores (every one).
  __device__ static void finish_whole(TempStorage& ts, const SpreadParams& s, int64_t r, const Window& w) {
    const bool sorted = s.p.sorted;
    if (w.length > int64_t(s.p.out.k)) {
      by_batch_agent(ts, s, r);
      return;
    }
    const typename Traits::Bits* const row = row_window<Traits>(s.p.a, r, w);
    const uint32_t m = uint32_t(w.length);  // every element, by position
    uint32_t* const stage_pos = Chunk::stage_positions();
    uint32_t* const stage_keys = Chunk::stage_keys();
    for (uint32_t i = threadIdx.x; i < m; i += kThreads) {
      const uint32_t slot = sorted && kLarge ? m - 1 - i : i;
      stage_pos[slot] = i;
      if (sorted) stage_keys[slot] = Traits::key(row[i]);
    }
    Write::run(s.p.a, s.p.out, sorted, r, row, m, write_stage());
  }

  // finish()'s select, compaction, merge and write, from the row's above_all elements above the bin
  // and its candidates in shared memory, where finish() loads them (finish_words(): kAbovePos and
  // kAboveKeys, kCandKeys and kCandCodes; output in any order: the elements above the bin in the
  // stage). members_all: the row's members of the bin. Every thread must call.
  __device__ static void finish_staged(TempStorage& ts, const SpreadParams& s, int64_t r, const Window& w,
                                       uint32_t above_all, uint32_t members_all, Timeline& timeline) {
    FinishStorage& fs = ts.finish;
    const uint32_t k = uint32_t(s.p.out.k);
    const uint32_t n = min(members_all, kCandidates), remain = k - above_all;
    const bool sorted = s.p.sorted, any_order = s.any_order;
    uint32_t* const smem = finish_words();
    uint32_t* const stage_pos = Chunk::stage_positions();
    uint32_t* const stage_keys = Chunk::stage_keys();
    // The remain greatest candidates by (key, code): all of them when the bin holds just those.
    const Threshold t = members_all == remain ? Threshold{0u, 0u}
                                               : Select::select(fs.select, smem + kCandKeys, smem + kCandCodes, n, remain,
                                                                Chunk::scratch());
    timeline.mark();
    __syncthreads();
    // Compacted in position order: warp w's span of 32 x kCandidatesPerThread, a lane per column
    // (consecutive words, no bank conflicts), ranked by the rows' ballots and the warps' totals.
    const uint32_t lane = threadIdx.x & 31u, span = (threadIdx.x >> 5) * (32u * kCandidatesPerThread);
    uint32_t votes[kCandidatesPerThread], in_warp = 0;
#pragma unroll
    for (int j = 0; j < kCandidatesPerThread; ++j) {
      const uint32_t i = span + uint32_t(j * 32) + lane;
      votes[j] = __ballot_sync(0xffffffffu, i < n && Select::kept(smem[kCandKeys + i], smem[kCandCodes + i], t));
      in_warp += uint32_t(__popc(votes[j]));
    }
    uint32_t at = Sum::warps_before(fs.sum, in_warp);
    const uint32_t lower = (1u << lane) - 1u;
#pragma unroll
    for (int j = 0; j < kCandidatesPerThread; ++j) {
      const uint32_t i = span + uint32_t(j * 32) + lane;
      if (votes[j] >> lane & 1u) {
        const uint32_t slot = at + uint32_t(__popc(votes[j] & lower)), position = Fallback::pos_of(smem[kCandCodes + i]);
        if (any_order) {  // after the elements above the bin: the stage is the row
          stage_pos[above_all + slot] = position;
        } else {
          smem[kSelPos + slot] = position;
          smem[kSelKeys + slot] = smem[kCandKeys + i];
        }
      }
      at += uint32_t(__popc(votes[j]));
    }
    __syncthreads();
    timeline.mark();
    if (!any_order) {
      // Merged by position (a merge path): thread t's output slots are [t x per, t x per + per); a
      // search on that diagonal finds how many of the slots before it the elements above the bin
      // take, then the thread merges its own.
      const uint32_t* const above_at = smem + kAbovePos;
      const uint32_t* const sel_at = smem + kSelPos;
      const uint32_t per = (k + kThreads - 1) / kThreads, d = min(threadIdx.x * per, k), end = min(d + per, k);
      uint32_t lo = d > remain ? d - remain : 0u, hi = min(d, above_all);
      while (lo < hi) {
        const uint32_t mid = (lo + hi) >> 1;
        if (above_at[mid] < sel_at[d - 1 - mid]) lo = mid + 1;
        else hi = mid;
      }
      for (uint32_t slot = d, i = lo, j = d - lo; slot < end; ++slot) {
        const bool above = j >= remain || (i < above_all && above_at[i] < sel_at[j]);
        const uint32_t to = sorted && kLarge ? k - 1 - slot : slot;
        if (above) {
          stage_pos[to] = above_at[i];
          if (sorted) stage_keys[to] = smem[kAboveKeys + i];
          ++i;
        } else {
          stage_pos[to] = sel_at[j];
          if (sorted) stage_keys[to] = smem[kSelKeys + j];
          ++j;
        }
      }
    }
    timeline.mark();
    Write::run(s.p.a, s.p.out, sorted, r, row_window<Traits>(s.p.a, r, w), k, write_stage());
    timeline.mark();
  }

 private:
  // count() and split(): the chunk's members' least and greatest key (bounds: the thread's), into
  // ss.lo and ss.hi (set before by thread 0; a barrier orders them for the readers).
  __device__ static void member_bounds(SplitStorage& ss, uint2 bounds) {
    const uint32_t lo = __reduce_min_sync(0xffffffffu, bounds.x);
    const uint32_t hi = __reduce_max_sync(0xffffffffu, bounds.y);
    if ((threadIdx.x & 31u) == 0) {
      atomicMin(&ss.lo, lo);
      atomicMax(&ss.hi, hi);
    }
  }

  // split(): whether a chunk's record (count()'s; the dense instance's) places it in a row whose
  // k-th lies in bin row_bin and overflows the candidates: a plateau chunk whose list holds all its
  // elements above that bin and whose record counts its members of it (v6 step 55).
  __device__ static bool plateau_record(const uint4& list, uint32_t row_bin, bool overflow) {
    return overflow && list.y != 0 && (list.x >> 16) == row_bin + 1;
  }

  // split(): chunk c's counts published (its flag raised), with its members' bounds where they
  // overflow (finish() takes them: whether the bin holds one key).
  __device__ static void publish(const SpreadParams& s, int64_t r, unsigned c, bool overflow, uint32_t lo, uint32_t hi,
                                 uint32_t above, uint32_t members) {
    if (overflow) {
      s.bounds[(r * s.chunks + c) * 2] = lo;
      s.bounds[(r * s.chunks + c) * 2 + 1] = hi;
    }
    store_release(s.status + r * s.chunks + c, 0x80000000u | above << 16 | members);
  }

  // split(): the counts of row r's chunks before chunk c, added into ss.before (zeroed by thread 0,
  // and read after a barrier that follows every thread's return). kLists: the dense instance,
  // where a plateau chunk's counts are its record's, published by count(): no wait for its flag,
  // which it raises only once its CTA has run (v6 step 57). row_bin: the bucket select's bin in
  // shared memory, by reference so that it is read where used (a register copy spilled).
  template <bool kLists>
  __device__ static void look_back(SplitStorage& ss, const SpreadParams& s, int64_t r, unsigned c, bool overflow,
                                   const uint32_t& row_bin) {
    const uint32_t* const status = s.status + r * s.chunks;
    uint32_t above_before = 0, member_before = 0;
    for (unsigned t = threadIdx.x; t < c; t += kThreads) {
      if (kLists && overflow) {
        const uint4 list = s.lists[r * s.chunks + t];
        if (plateau_record(list, row_bin, overflow)) {
          above_before += list.x & 0xffffu;
          member_before += list.y;
          continue;
        }
      }
      uint32_t v;
      do v = load_acquire(status + t);
      while (!(v >> 31));
      above_before += (v >> 16) & 0x7fffu;
      member_before += v & 0xffffu;
    }
    above_before = __reduce_add_sync(0xffffffffu, above_before);
    member_before = __reduce_add_sync(0xffffffffu, member_before);
    if ((threadIdx.x & 31u) == 0 && (above_before | member_before)) {
      atomicAdd(&ss.before[0], above_before);
      atomicAdd(&ss.before[1], member_before);
    }
  }

  // split(): row r's histogram (count()'s) into the scratch, every load of the thread in flight
  // before its first store; read after a barrier.
  __device__ static void load_row_hist(const SpreadParams& s, int64_t r) {
    const uint4* const row_hist = reinterpret_cast<const uint4*>(s.hist + r * Bins::kBins);
    uint4 part[kHistVectors];
#pragma unroll
    for (int j = 0; j < kHistVectors; ++j) part[j] = row_hist[threadIdx.x + j * kThreads];
#pragma unroll
    for (int j = 0; j < kHistVectors; ++j) reinterpret_cast<uint4*>(Chunk::scratch())[threadIdx.x + j * kThreads] = part[j];
  }

  // Row r whole by the batch agent, one CTA reading the row (the finishes' fallback).
  __device__ static void by_batch_agent(TempStorage& ts, const SpreadParams& s, int64_t r) {
    Fallback agent(ts.batch, s.p, r);
    agent.template run<false>();
  }

  // The stage as BlockStageWrite takes it: the register agent's, its scratch for the sort.
  __device__ static typename Write::Stage write_stage() {
    return {Chunk::stage_positions(), Chunk::stage_keys(), reinterpret_cast<typename Write::SortStorage*>(Chunk::scratch())};
  }

  // Row r's histogram zeroed for the next call, after its last reader.
  __device__ static void clear_row_hist(const SpreadParams& s, int64_t r) {
#pragma unroll
    for (int j = 0; j < kHistVectors; ++j)
      reinterpret_cast<uint4*>(s.hist + r * Bins::kBins)[threadIdx.x + j * kThreads] = make_uint4(0u, 0u, 0u, 0u);
  }

  // split(): the k-th's bin, from the row's histogram in the scratch (landed, then a barrier). Every
  // thread must call.
  __device__ static RowBin row_bin(TempStorage& ts, const SpreadParams& s) {
    Select::Bucket::run(ts.c.chunk.select.bucket, Chunk::scratch(), Bins::kBins, uint32_t(s.p.out.k));
    const uint32_t bin = ts.c.chunk.select.bucket.bin, members = Chunk::scratch()[bin];
    return {Bins::range(bin), members, members > kCandidates};
  }

  // A 16-byte copy from global memory (L2) to shared memory, in flight until wait_async() (its
  // thread's); both aligned to 16 bytes.
  __device__ static void copy_async(void* to, const void* from) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(uint32_t(__cvta_generic_to_shared(to))), "l"(from)
                 : "memory");
  }
  __device__ static void wait_async() { asm volatile("cp.async.wait_all;" ::: "memory"); }

  __device__ static void store_release(uint32_t* p, uint32_t v) {
    asm volatile("st.release.gpu.global.u32 [%0], %1;" ::"l"(p), "r"(v) : "memory");
  }
  __device__ static uint32_t load_acquire(const uint32_t* p) {
    uint32_t v;
    asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
    return v;
  }
};

}  // namespace nsa::cuda
