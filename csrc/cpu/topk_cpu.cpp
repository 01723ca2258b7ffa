// The CPU backend: a per-row radix select (the default) and a std::nth_element baseline. Both share
// the window clamping, the tie-break encoding, the output ordering, the fused transforms and the
// threading, so they differ only in how a row's selected set is found.
#include "topk_cpu.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "../common/key_traits.h"

namespace nsa::cpu {
namespace {

// A row element packed so that plain integer order is the contract's order: the key in the high
// half, and in the low half a rank that is larger for the position the tie-break prefers (~j for
// small and none, j for large). The k greatest packed values are then exactly the selected set,
// and sorting them descending gives the sorted output order, ties included.
struct Packing {
  bool large;
  uint64_t pack(uint32_t key, int32_t j) const {
    uint32_t rank = large ? uint32_t(j) : ~uint32_t(j);
    return (uint64_t(key) << 32) | rank;
  }
  int32_t position(uint64_t p) const {
    uint32_t rank = uint32_t(p);
    return int32_t(large ? rank : ~rank);
  }
  static uint32_t key(uint64_t p) { return uint32_t(p >> 32); }
};

// Radix digit width: 2^11 counters (8 KiB) stay in L1 while a row streams past.
constexpr int kDigitBits = 11;

// Below this length the radix select's fixed cost (clearing and scanning 2^11 counters per digit)
// outweighs nth_element over the whole row, so short rows take the baseline's path.
constexpr int64_t kRadixMinLength = 128;

// From this many selected entries on, the sorted output uses a radix sort rather than std::sort.
constexpr int64_t kRadixSortMinCount = 256;

// Pass 1 histograms the keys a tile at a time, while the tile is still in L1.
constexpr int64_t kTile = 2048;

// One thread's buffers, grown to the longest row it has seen and reused for every later row.
struct Scratch {
  std::vector<uint32_t> row_keys;  // the ordered key of every position of the row
  std::vector<uint64_t> packed;    // the row's candidates, then its selected set
  std::vector<uint32_t> keys;      // radix refinement: keys still tied with the k-th on the digits so far
  std::vector<uint64_t> spare;     // the other buffer of the sorted output's radix sort
  std::array<uint32_t, size_t(1) << kDigitBits> hist;
};

// Ordered keys in a loop of their own: it vectorizes, so no branch on the sign (which random data
// would mispredict half the time); later passes read the stored keys rather than recompute them.
template <class Traits>
void compute_keys(const typename Traits::Bits* bits, int64_t count, uint32_t* keys) {
  for (int64_t i = 0; i < count; ++i) keys[i] = Traits::key(bits[i]);
}

template <typename T>
T* room(std::vector<T>& v, int64_t n) {
  if (int64_t(v.size()) < n) v.resize(size_t(n));
  return v.data();
}

// The bucket holding the `need`-th greatest element, and how many elements lie in higher buckets.
struct Bucket {
  uint32_t digit;
  int64_t above;
};
Bucket find_bucket(const uint32_t* hist, uint32_t buckets, int64_t need) {
  int64_t above = 0;
  for (uint32_t d = buckets; d-- > 0;) {
    if (above + hist[d] >= need) return {d, above};
    above += hist[d];
  }
  return {0, above};  // unreachable while need <= the number of elements counted
}

// Every position of a window no longer than k is selected; written in ascending j.
template <class Traits>
int64_t select_all(const typename Traits::Bits* row, int64_t n, Packing pk, Scratch& s) {
  uint32_t* keys = room(s.row_keys, n);
  uint64_t* sel = room(s.packed, n);
  compute_keys<Traits>(row, n, keys);
  for (int64_t j = 0; j < n; ++j) sel[j] = pk.pack(keys[j], int32_t(j));
  return n;
}

// Radix select of one row with n > k. Leaves the k selected entries in s.packed in ascending j.
// Pass 1 histograms the top digit of every key; pass 2 gathers every element at or above the
// bucket of the k-th key (the selected set is among them) and the keys of that bucket; further
// digits over those keys alone pin down the k-th key T and how many of its ties to take.
template <class Traits>
int64_t radix_select(const typename Traits::Bits* row, int64_t n, int32_t k, Packing pk, Scratch& s) {
  constexpr int kShift0 = Traits::kKeyBits - kDigitBits;
  uint32_t* hist = s.hist.data();
  std::fill_n(hist, size_t(1) << kDigitBits, 0u);
  uint32_t* keys = room(s.row_keys, n);
  for (int64_t j0 = 0; j0 < n; j0 += kTile) {
    const int64_t count = std::min(kTile, n - j0);
    compute_keys<Traits>(row + j0, count, keys + j0);
    for (int64_t j = j0; j < j0 + count; ++j) ++hist[keys[j] >> kShift0];
  }
  Bucket b = find_bucket(hist, 1u << kDigitBits, k);
  int64_t need = k - b.above;  // elements still to take from bucket b

  uint64_t* sel = room(s.packed, b.above + hist[b.digit]);
  uint32_t* cand = room(s.keys, hist[b.digit]);
  int64_t m = 0, c = 0;
  auto gather = [&](int64_t j) {
    uint32_t digit = keys[j] >> kShift0;
    if (digit >= b.digit) {
      sel[m++] = pk.pack(keys[j], int32_t(j));
      if (digit == b.digit) cand[c++] = keys[j];
    }
  };
  // Groups of 8 keys are tested at once (the OR vectorizes) and looked at closely only when one
  // reaches the bucket, which few groups do while k is small against n.
  const uint32_t lowest = b.digit << kShift0;
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    bool any = false;
    for (int t = 0; t < 8; ++t) any |= keys[j + t] >= lowest;
    if (any)
      for (int t = 0; t < 8; ++t) gather(j + t);
  }
  for (; j < n; ++j) gather(j);

  for (int shift = kShift0; shift > 0;) {
    int width = std::min(kDigitBits, shift);
    shift -= width;
    uint32_t mask = (1u << width) - 1;
    std::fill_n(hist, size_t(1) << width, 0u);
    for (int64_t i = 0; i < c; ++i) ++hist[(cand[i] >> shift) & mask];
    Bucket d = find_bucket(hist, 1u << width, need);
    need -= d.above;
    if (hist[d.digit] != c) {  // skip the copy when every candidate shares this digit
      int64_t kept = 0;
      for (int64_t i = 0; i < c; ++i)
        if (((cand[i] >> shift) & mask) == d.digit) cand[kept++] = cand[i];
      c = kept;
    }
  }
  // Every candidate left equals T; take `need` of those c ties, the first or the last in j.
  uint32_t threshold = cand[0];
  int64_t skip = pk.large ? c - need : 0;
  int64_t taken = 0, tie = 0;
  for (int64_t i = 0; i < m; ++i) {
    uint32_t key = Packing::key(sel[i]);
    if (key > threshold) {
      sel[taken++] = sel[i];
    } else if (key == threshold) {
      if (tie >= skip && tie < skip + need) sel[taken++] = sel[i];
      ++tie;
    }
  }
  return taken;
}

// The baseline: all (key, rank) pairs of the row, std::nth_element on the k-th greatest.
template <class Traits>
int64_t nth_element_select(const typename Traits::Bits* row, int64_t n, int32_t k, Packing pk, Scratch& s) {
  select_all<Traits>(row, n, pk, s);
  uint64_t* sel = s.packed.data();
  std::nth_element(sel, sel + (k - 1), sel + n, std::greater<uint64_t>());
  return k;
}

// The sorted order of entries given in ascending j: a stable LSD radix sort on the key alone, key
// descending. For large the entries are reversed first, so ties come out in descending j. Returns
// whichever buffer holds the result.
template <class Traits>
uint64_t* radix_sort_descending(uint64_t* sel, int64_t count, Packing pk, Scratch& s) {
  if (pk.large) std::reverse(sel, sel + count);
  uint64_t* other = room(s.spare, count);
  uint32_t* hist = s.hist.data();
  for (int shift = 0; shift < Traits::kKeyBits; shift += kDigitBits) {
    const int width = std::min(kDigitBits, Traits::kKeyBits - shift);
    const uint32_t mask = (1u << width) - 1;
    auto bucket = [&](uint64_t p) { return mask - ((Packing::key(p) >> shift) & mask); };  // descending
    std::fill_n(hist, size_t(1) << width, 0u);
    for (int64_t i = 0; i < count; ++i) ++hist[bucket(sel[i])];
    if (hist[bucket(sel[0])] == count) continue;  // every entry shares this digit
    uint32_t sum = 0;
    for (uint32_t d = 0; d <= mask; ++d) {
      uint32_t c = hist[d];
      hist[d] = sum;
      sum += c;
    }
    for (int64_t i = 0; i < count; ++i) other[hist[bucket(sel[i])]++] = sel[i];
    std::swap(sel, other);
  }
  return sel;
}

// Orders a row's `count` selected entries as the contract asks, then writes the (transformed)
// indices and the raw score bits, padding the remaining slots with -1 and -inf.
template <class Traits>
void write_row(const TopKConfig& cfg, const TopKArgs& a, Packing pk, int64_t r, const typename Traits::Bits* row,
               uint64_t* sel, int64_t count, bool ascending_j, Scratch& s) {
  using Bits = typename Traits::Bits;
  if (cfg.sorted && ascending_j && count >= kRadixSortMinCount) {
    sel = radix_sort_descending<Traits>(sel, count, pk, s);
  } else if (cfg.sorted) {
    std::sort(sel, sel + count, std::greater<uint64_t>());
  } else if (!ascending_j) {
    std::sort(sel, sel + count, [pk](uint64_t x, uint64_t y) { return pk.position(x) < pk.position(y); });
  }
  const int64_t k = cfg.k;
  int32_t* out = a.out_indices + r * k;
  Bits* values = cfg.write_values ? static_cast<Bits*>(a.out_values) + r * k : nullptr;
  for (int64_t i = 0; i < count; ++i) {
    int32_t j = pk.position(sel[i]);
    out[i] = transform_index(cfg.transform, a, cfg.page_size, r, j);
    if (values) values[i] = row[j];
  }
  std::fill(out + count, out + k, -1);
  if (values) std::fill(values + count, values + k, Bits(Traits::kNegInf));
}

// Runs fn(row, scratch) for every row on up to `threads` threads (0: hardware concurrency).
// Rows are handed out in small chunks from a shared counter so uneven lengths balance; a row's
// output depends only on that row, so the schedule never changes the bytes written.
template <class F>
void for_each_row(int64_t rows, int threads, F fn) {
  int64_t workers = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  workers = std::min(workers, rows);
  if (workers <= 1) {
    Scratch s;
    for (int64_t r = 0; r < rows; ++r) fn(r, s);
    return;
  }
  const int64_t chunk = std::clamp<int64_t>(rows / (workers * 16), 1, 64);
  std::atomic<int64_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_lock;
  auto work = [&] {
    try {
      Scratch s;
      for (int64_t first; (first = next.fetch_add(chunk)) < rows;)
        for (int64_t r = first; r < std::min(rows, first + chunk); ++r) fn(r, s);
    } catch (...) {  // e.g. std::bad_alloc for a huge row: stop handing out rows, rethrow on the caller
      next.store(rows);
      std::lock_guard<std::mutex> hold(failure_lock);
      if (!failure) failure = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(size_t(workers - 1));
  for (int64_t t = 1; t < workers; ++t) {
    try {
      pool.emplace_back(work);
    } catch (const std::system_error&) {  // no more threads to be had: those running finish every row
      break;
    }
  }
  work();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

void check_args(const TopKConfig& cfg, const TopKArgs& a) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("nsa::cpu: " + what); };
  if (cfg.k < 1) fail("k must be >= 1");
  if (a.rows < 0 || a.stride < 0) fail("rows and stride must be >= 0");
  if (a.rows == 0) return;
  if (!a.out_indices) fail("out_indices is null");
  if (a.stride > 0 && !a.scores) fail("scores is null");
  if (cfg.write_values && !a.out_values) fail("out_values is null while write_values is set");
  if (cfg.transform == Transform::Ragged && !a.offsets) fail("offsets is null for the ragged transform");
  if (cfg.transform == Transform::PageTable) {
    if (!a.page_table) fail("page_table is null for the page-table transform");
    if (cfg.page_size < 1) fail("page_size must be >= 1");
  }
}

// The one place where the runtime dtype and the select strategy meet the per-row loop.
template <bool kRadix>
void run(const TopKConfig& cfg, const TopKArgs& a, int threads) {
  check_args(cfg, a);
  const Packing pk{cfg.tie_break == TieBreak::Large};
  dispatch_dtype(cfg.dtype, [&](auto traits) {
    using Traits = decltype(traits);
    using Bits = typename Traits::Bits;
    for_each_row(a.rows, threads, [&](int64_t r, Scratch& s) {
      Window w = clamp_window(a.stride, a.row_starts, a.lengths, r);
      const Bits* row = static_cast<const Bits*>(a.scores) + r * a.stride + w.start;
      int64_t count;
      bool ascending_j = true;
      if (w.length <= cfg.k) {
        count = select_all<Traits>(row, w.length, pk, s);
      } else if (kRadix && w.length >= kRadixMinLength) {
        count = radix_select<Traits>(row, w.length, cfg.k, pk, s);
      } else {
        count = nth_element_select<Traits>(row, w.length, cfg.k, pk, s);
        ascending_j = false;
      }
      write_row<Traits>(cfg, a, pk, r, row, s.packed.data(), count, ascending_j, s);
    });
  });
}

}  // namespace

void run_topk(const TopKConfig& cfg, const TopKArgs& args, int threads) { run<true>(cfg, args, threads); }

void run_topk_nth_element(const TopKConfig& cfg, const TopKArgs& args, int threads) {
  run<false>(cfg, args, threads);
}

}  // namespace nsa::cpu
