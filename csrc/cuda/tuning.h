// Tuning constants of the CUDA backends, in one place, apart from the algorithm code.
// Chosen for Hopper (sm_90: 132 SMs, 228 KB shared memory per SM); `nsa-topk info` lists them.
#pragma once
#include <cstdint>

namespace nsa::cuda::tuning {

// Radix select: one CTA (or one cluster of CTAs) per row.
constexpr int kThreads = 512;         // threads per CTA
constexpr int kItems = 8;             // elements per thread per tile (tile = kThreads * kItems)
constexpr int kFirstDigitBits = 12;   // first pass: sign, exponent and the top mantissa bits
constexpr int kLaterDigitBits = 10;   // later passes over 32-bit keys (12 + 10 + 10 = 32)
constexpr int kMaxBins = 1 << kFirstDigitBits;
constexpr int kVectorsInFlight = 4;   // 16-byte loads per thread in flight while caching a chunk
constexpr int kMaxClusterSize = 8;    // CTAs cooperating on one row (the portable cluster limit)

// One shared-memory region per CTA (8 bytes per entry) holds either the CTA's whole chunk of the
// row (4-byte keys: 2 * entries of them) or the candidates of the first pass's threshold bin and
// above (key + position). Entries: 2k + 4096 within [kMinCandidates, kMaxCandidates]. A CTA whose
// chunk and candidates both overflow re-reads its chunk from global memory: slower, never wrong.
constexpr int kMinCandidates = 8192;   // 64 KB: caches a 16K-element chunk; 2 CTAs per SM
constexpr int kMaxCandidates = 20480;

// The cluster-size heuristic (choose_cluster_size in dispatch.cu): enough CTAs per row that each
// chunk fits the cache (one global read), more while rows are too few to fill the SMs, but no
// chunk shorter than kMinChunk.
constexpr int64_t kMinChunk = 4096;

// Element-wise kernels (composites, finishing) and the read probe.
constexpr int kElementwiseThreads = 256;
constexpr int kProbeThreads = 512;
constexpr int kProbeBlocksPerSm = 4;

}  // namespace nsa::cuda::tuning
