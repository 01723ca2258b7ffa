// Tuning policy of the batch top-k path (one CTA per row, rows >= SMs). A policy fixes the CTA
// shape and the shared-memory budget; the algorithm lives in the agent. Hopper's is the one
// policy, taken wherever its CTA fits the opt-in shared memory (sm_80, 90, 100: batch_fits in
// dispatch.cu); another architecture's policy (sm_86/89/120's 99 KB) would be a struct here and a
// branch on DeviceCaps::cc in run_batch.
#pragma once
#include <cstdint>

namespace nsa::cuda {

// Hopper (sm_90: 132 SMs, 228 KB of shared memory per SM). Two CTAs of 512 threads per SM at 64
// registers: while one CTA selects over its candidate buffer, the other keeps loads in flight.
struct BatchTopKPolicy900 {
  static constexpr int kThreads = 512;
  static constexpr int kMinCtasPerSm = 2;
  // 16-byte loads per thread in flight: 512 threads x 4 x 16 B = 32 KB per CTA, about what one
  // SM needs in flight to keep its share of HBM3e busy (4.8 TB/s x ~0.9 us / 132 SMs).
  static constexpr int kVectorsInFlight = 4;
  static constexpr int kDigitBits = 11;  // radix digit of the candidate selection (2048 bins)
  // Candidate buffer of 64-bit composites (key, position): 88 KB. With the 16 KB scratch below, two
  // CTAs fit an SM's shared memory. Rows up to this length are selected from one buffer fill.
  static constexpr int kCapacity = 11264;
  static constexpr int kMaxK = 4096;     // larger k takes the radix path (tuning.h)
  // Evenly spaced scores read before the stream to set its first threshold: 4 loads per thread,
  // issued together. The threshold is the key that max(kMinSampleRank, 2k m / length) of the m
  // sampled reach: about 2k elements of the row reach it, and with at least 32 sampled above it,
  // fewer than k do (a second read) only about once in 300 random rows at the smallest rank.
  static constexpr int kSample = 2048;
  static constexpr int kMinSampleRank = 32;
  // Shorter rows (the op's maxLen) take the radix path, faster there on normal rows (kernel-notes).
  static constexpr int64_t kMinLength = 65536;
  static constexpr int kScratchWords = kMaxK > (1 << kDigitBits) ? kMaxK : (1 << kDigitBits);
};

}  // namespace nsa::cuda
