// Tuning policies of the one-CTA-per-row paths: the batch kernel (rows >= SMs) and the register
// kernel (rows of up to 8192 scores, any row count). A policy fixes the CTA shape and the
// shared-memory budget; the algorithm lives in the agent.
// Hopper's are the policies (the batch kernel's one per range of k, the register kernel's one per
// row count), taken wherever the large batch policy's CTA fits
// the opt-in shared memory (sm_80, 90, 100: batch_fits in dispatch.cu); another architecture's
// policies (sm_86/89/120's 99 KB) would be structs here and a branch on DeviceCaps::cc in
// run_batch and run_register.
#pragma once
#include <cstdint>

namespace nsa::cuda {

// Hopper (sm_90: 132 SMs, 228 KB of shared memory per SM), k <= 2048 (DeepSeek, GLM): four CTAs
// of 256 threads per SM at 64 registers (small_batch_policy in dispatch.cu). While one CTA
// samples, selects or writes its row, three others keep its SM's loads in flight (two CTAs per SM
// spent a third of each row with half the SM streaming: kernel-notes, v6 step 3).
struct BatchTopKPolicy900SmallK {
  static constexpr int kThreads = 256;
  static constexpr int kMinCtasPerSm = 4;
  // 16-byte loads a thread issues together (one tile of the stream).
  static constexpr int kVectorsInFlight = 4;
  static constexpr int kDigitBits = 11;  // radix digit of the candidate selection (2048 bins)
  // Candidate buffer of (key, code) pairs, 44 KB: with the 8 KB scratch below and the static
  // storage, four CTAs fit an SM's shared memory (4 x 55.4 KB of 228 KB). Its trigger (capacity
  // less one warp's tile: 5120 for f32, 4608 for 16-bit scores) lies well above the 1.5-1.8k
  // elements the sampled threshold lets in, so a cut before the end is rare.
  static constexpr int kCapacity = 5632;
  static constexpr int kMaxK = 2048;
  // Scores read before the stream to set its first threshold (kSample / 4 evenly spaced 16-byte
  // vectors of f32, kSample / 8 of 16-bit scores). Of the m sampled, mu = k m / length are
  // expected at or above the row's k-th; the threshold is the key that the rank-th greatest of
  // them reaches, rank = max(kMinSampleRank, mu + z sqrt(mu)) with z = kSampleMarginSdTenths /
  // 10. Fewer than k elements of the row reach it (a second read of the row) when more than rank
  // sampled scores lie at or above the row's k-th: at k = 2048 and 131072, 56 where 32 are
  // expected (binomial tail 7e-5: a few rows in 10^5), at 32768 98 where 64 are (3e-5). One such
  // row stretches a one-wave batch by a whole read (a rank of 1.5 mu at 131072 had one in about
  // 100 rows read twice, measured). The rank lets in about 1.75k elements at 131072, 1.5k at
  // 32768.
  static constexpr int kSample = 2048;
  // Fewer scores are sampled where kSample would expect more than this many of them at or above
  // the row's k-th (rows shorter than 65536 at k = 2048): a row of 32768 spends half as long on
  // its sample (4096 x 32768 10% faster; kernel-notes, v6 step 21). Twice as many, for a tighter
  // rank, cost more in the sample's sectors than the tighter rank saved (v6 step 25).
  static constexpr int kSampleAboveK = 64;
  static constexpr int kMinSampleRank = 32;
  static constexpr int kSampleMarginSdTenths = 42;
  // Shorter rows (the op's maxLen) take the register path up to its kMaxLength, the radix path
  // above it: at 32768 the batch kernel is the faster (4096 rows: 375 us against 482), at 8192
  // the radix kernel (172 against 240), and the register kernel faster still (151; kernel-notes).
  static constexpr int64_t kMinLength = 32768;
  static constexpr int kScratchWords = kMaxK > (1 << kDigitBits) ? kMaxK : (1 << kDigitBits);
};

// Hopper, 2048 < k <= 4096: two CTAs of 512 threads per SM at 64 registers, a buffer twice as
// large.
struct BatchTopKPolicy900 {
  static constexpr int kThreads = 512;
  static constexpr int kMinCtasPerSm = 2;
  static constexpr int kVectorsInFlight = 4;
  static constexpr int kDigitBits = 11;
  // Candidate buffer of (key, code) pairs: 88 KB. With the 16 KB scratch below, two CTAs fit an
  // SM's shared memory.
  static constexpr int kCapacity = 11264;
  static constexpr int kMaxK = 4096;     // larger k takes the radix path (tuning.h)
  static constexpr int kSample = 2048;
  static constexpr int kSampleAboveK = 64;
  static constexpr int kMinSampleRank = 32;
  static constexpr int kSampleMarginSdTenths = 42;
  // Shorter rows (the op's maxLen) take the radix path: at 32768 and k = 4096 the two are even
  // (4096 rows: radix 555 us, batch 564; kernel-notes).
  static constexpr int64_t kMinLength = 65536;
  static constexpr int kScratchWords = kMaxK > (1 << kDigitBits) ? kMaxK : (1 << kDigitBits);
};

// Hopper, k <= 2048, rows that fit registers (the op's maxLen up to kMaxLength, 8192 scores): the
// register kernel, one CTA of kThreads per row, each thread holding the keys of kItems scores of
// its row, at 64 registers. A row longer than that (lengths past the op's maxLen) is taken by the
// Fallback batch agent in the same kernel, whose shared memory the kernel therefore has.
// kCountOnLoad: each vector's keys go into the select's histogram as the vector arrives, not in
// a pass after the loads (a lone CTA's counting then overlaps its loads in flight; with other
// CTAs on the SM it made plateau rows 1.16-1.17x slower: kernel-notes, v6 step 10).
// kBallotRank: a k-th's bin of at most this many keys is ranked by ballots, each warp taking some
// of its keys against all at once (a lone CTA's chain gets shorter; where CTAs share an SM the
// extra instructions cost more than the chain saves: kernel-notes, v6 step 14); 0: a thread per
// key loops over the others.
// kMaxCluster: rows of up to kMaxCluster x kMaxLength scores may be held by a cluster of CTAs, a
// chunk of kMaxLength each (1: a CTA per row only).
template <int kThreads_, int kMinCtasPerSm_, int kItems_, bool kCountOnLoad_, int kBallotRank_, int kMaxCluster_,
          class Fallback_>
struct RegisterTopKPolicyHopper {
  static constexpr int kThreads = kThreads_;
  static constexpr int kMinCtasPerSm = kMinCtasPerSm_;
  static constexpr int kItems = kItems_;
  static constexpr bool kCountOnLoad = kCountOnLoad_;
  static constexpr int kBallotRank = kBallotRank_;
  static constexpr int kMaxCluster = kMaxCluster_;
  static constexpr int kDigitBits = 11;
  static constexpr int kMaxK = 2048;
  static constexpr int64_t kMaxLength = int64_t(kThreads) * kItems;
  using Fallback = Fallback_;
  static_assert(Fallback::kThreads == kThreads && Fallback::kMaxK >= kMaxK, "one CTA shape for both agents");
  static_assert(kMaxLength == 8192, "every register policy takes the same rows");
};

// Rows that fill the SMs: 256 threads a row, 32 scores a thread (eight 16-byte loads of f32, four
// of 16-bit scores), four CTAs per SM, counted after the loads, the k-th's bin ranked a thread a
// key; the small-k batch agent for longer rows.
using RegisterTopKPolicy900 = RegisterTopKPolicyHopper<256, 4, 32, false, 0, 1, BatchTopKPolicy900SmallK>;

// Fewer rows than SMs (decode: an SM per row at most): twice the threads a row, each holding half
// as many scores (four 16-byte loads of f32, two of 16-bit scores), so that a lone row's CTA has
// 16 warps to overlap its latencies instead of 8 and half the work per thread (kernel-notes, v6
// step 9), counted as the loads arrive (v6 step 10), a bin of up to 64 keys ranked by ballots (v6
// step 14); rows of up to 16 x 8192 scores on a cluster
// of up to 16 CTAs (Hopper's non-portable limit; v6 step 11); the large batch agent (512
// threads) for longer rows.
using RegisterTopKPolicy900FewRows = RegisterTopKPolicyHopper<512, 2, 16, true, 64, 16, BatchTopKPolicy900>;

}  // namespace nsa::cuda
