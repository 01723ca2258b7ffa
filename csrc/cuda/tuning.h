// Tuning constants of the CUDA backends, in one place, apart from the algorithm code.
// Chosen for Hopper (sm_90: 132 SMs, 228 KB shared memory per SM); `nsa-topk info` lists them.
// Other GPUs take them within their own limits (choose_path in dispatch.cu: clusters only where
// the device has them, shared memory per CTA within its opt-in limit).
#pragma once
#include <cstdint>

namespace nsa::cuda::tuning {

// Radix select: one CTA (or one cluster of CTAs) per row.
constexpr int kThreads = 512;         // threads per CTA
constexpr int kMinCtasPerSm = 2;      // register budget: 2 CTAs of kThreads per SM (64 registers)
constexpr int kItems = 8;             // elements per thread per tile (tile = kThreads * kItems)
constexpr int kFirstDigitBits = 11;   // first pass: sign, exponent and the top mantissa bits
constexpr int kLaterDigitBits = 11;   // later passes (32-bit keys: 11 + 11 + 10; 16-bit: 11 + 5)
constexpr int kMaxBins = 1 << kFirstDigitBits;
constexpr int kVectorsInFlight = 4;   // 16-byte loads per thread in flight in the first pass
constexpr int kMaxClusterSize = 8;    // CTAs cooperating on one row (the portable cluster limit)

// Shared memory per CTA (radix_shape in dispatch.cu): the chunk cache (4-byte keys, up to
// kMaxChunkCache of them) and a candidate list (key + position) for the first pass's threshold
// bin and above: (2k + 4096) / C entries, at least kMinCandidates, trimmed so that two CTAs fit an
// SM (kSmemPerCta: a CTA's dynamic and static shared memory together). Chunks too long to cache
// use the whole region for candidates, up to 2k + 4096 of them. Whatever does not fit is
// re-scanned, never dropped. On a device whose opt-in limit is lower (99 KB on sm_86/89/120, 163
// KB on sm_80) the region shrinks to it: a chunk is cached only with kMinCandidates beside it, and
// an uncached CTA needs kMinCandidates.
constexpr int kMaxChunkCache = 16384;
// A CTA that has its SM alone (a launch of at most one CTA per SM: rows x C <= SMs, decode) caches
// up to kMaxChunkCacheAlone keys within kMaxSmemPerCta, so that an 8-CTA cluster holds a row of
// 262144 scores and reads it once.
constexpr int kMaxChunkCacheAlone = 32768;
constexpr int kMinCandidates = 1024;
constexpr int kSmemPerCta = 110 * 1024;
constexpr int kMaxSmemPerCta = 220 * 1024;  // under sm_90's and sm_100's 227 KB opt-in limit

// The path heuristic (choose_radix_plan in dispatch.cu): with fewer rows than SMs, CTAs per row
// double while every CTA still gets an SM of its own, but no chunk shorter than kMinChunk. A CTA's
// passes shrink with its chunk faster than the picks grow with the cluster: 2048 against 8192
// took 1 x 16384 from 9.3 to 8.1 us and 1 x 32768 from 9.0 to 8.4 on an H100 (v6 step 73).
constexpr int64_t kMinChunk = 2048;

// The chunked path (chunked_count in dispatch.cu): decode rows cut into at most kChunkedMaxChunks
// chunks (a power of two) for the batch kernel, none shorter than kChunkedMinLength, nor than
// kChunkedMinLengthMany where a row has more than 4, so that the candidates' top-k (chunks x k
// scores a row) stays small beside the read (eight chunks of 32768 were slower than the spread
// kernels: kernel-notes, v6 step 28).
constexpr int kChunkedMaxChunks = 16;
constexpr int64_t kChunkedMinLength = 32768;
constexpr int64_t kChunkedMinLengthMany = 65536;

// Element-wise kernels (composites, finishing) and the read probe.
constexpr int kElementwiseThreads = 256;
constexpr int kProbeThreads = 512;
constexpr int kProbeBlocksPerSm = 4;

}  // namespace nsa::cuda::tuning
