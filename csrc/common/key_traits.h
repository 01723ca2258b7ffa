// Order-preserving integer keys for each score dtype, shared by the CPU and CUDA backends.
// The contract's order: every NaN is the greatest key, -0.0 equals +0.0, otherwise numeric order.
// Keys are unsigned and compare as integers, so radix digits of a key rank elements exactly.
#pragma once
#include <cstdint>

#include "problem.h"

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#endif

#if defined(__CUDACC__)
#define NSA_HD __host__ __device__ __forceinline__
#else
#define NSA_HD inline
#endif

namespace nsa {

// Sign-magnitude float bits -> unsigned order: flip all bits of negatives, set the sign of positives.
template <typename Bits, int kBits>
NSA_HD uint32_t ordered_key(Bits bits, Bits exp_mask) {
  constexpr Bits sign = Bits(Bits(1) << (kBits - 1));
  constexpr Bits all = Bits(~Bits(0));
  if (Bits(bits & Bits(~sign)) > exp_mask) return uint32_t(all);  // NaN, any payload or sign
  if (bits == sign) bits = 0;                                     // -0.0 -> +0.0
  // Negatives flip every bit, positives only the sign: an xor with the sign bit smeared down
  // (branch-free; the same as bits & sign ? ~bits : bits | sign).
  const Bits smear = Bits(Bits(0) - Bits(bits >> (kBits - 1)));
  return uint32_t(Bits(bits ^ Bits(smear | sign)));
}

// The bits whose key is `key` (the inverse of ordered_key on keys below the NaN key; -0.0 comes
// back as +0.0).
template <typename Bits, int kBits>
NSA_HD Bits key_bits(uint32_t key) {
  constexpr uint32_t sign = uint32_t(1) << (kBits - 1);
  return Bits(key & sign ? key ^ sign : ~key);
}

#if defined(__CUDACC__)
#define NSA_AS_FLOAT(expr) static __device__ __forceinline__ float as_float(Bits b) { return expr; }
// 16-bit scores: 0xFFFF in each half of a pair of scores (two in a 32-bit word) that is not <= t
// (NaN never is), both compared in one instruction on sm_90. t is exact in the type.
#define NSA_PAIR_ABOVE(Pair, Raw, pair_of)                                        \
  static __device__ __forceinline__ uint32_t pair_above(uint32_t pair, float t) { \
    Raw raw;                                                                      \
    raw.x = uint16_t(pair);                                                       \
    raw.y = uint16_t(pair >> 16);                                                 \
    return __hgtu2_mask(Pair(raw), pair_of(t));                                   \
  }
#else
#define NSA_AS_FLOAT(expr)
#define NSA_PAIR_ABOVE(Pair, Raw, pair_of)
#endif

template <DType D>
struct DTypeTraits;

template <>
struct DTypeTraits<DType::F32> {
  using Bits = uint32_t;
  static constexpr int kKeyBits = 32;
  static constexpr int kExponentBits = 8;  // the format's (CUDA's CoarseBins spreads keys by it)
  static constexpr Bits kNegInf = 0xFF800000u;
  // On the GPU one add of +0.0 makes -0.0 +0.0 and every NaN, of either sign and any payload, the
  // one NaN the hardware produces (0x7FFFFFFF, whose key is all ones), so the key is the sum's bits
  // with the sign smeared: three instructions instead of ordered_key's seven, on every score a
  // register CTA or the radix kernel holds and every candidate the batch kernel appends
  // (kernel-notes, v6 step 22). Denormals stay: -ftz=false (CMakeLists.txt).
  NSA_HD static uint32_t key(Bits b) {
#if defined(__CUDA_ARCH__)
    const uint32_t c = __float_as_uint(__fadd_rn(__uint_as_float(b), 0.0f));
    return c ^ (uint32_t(int32_t(c) >> 31) | 0x80000000u);
#else
    return ordered_key<Bits, 32>(b, 0x7F800000u);
#endif
  }
  // The score as a float, exactly (CUDA: the batch kernel compares floats, not keys).
  NSA_AS_FLOAT(__uint_as_float(b))
};

template <>
struct DTypeTraits<DType::F16> {
  using Bits = uint16_t;
  static constexpr int kKeyBits = 16;
  static constexpr int kExponentBits = 5;
  static constexpr Bits kNegInf = 0xFC00u;
  NSA_HD static uint32_t key(Bits b) { return ordered_key<Bits, 16>(b, Bits(0x7C00u)); }
  NSA_AS_FLOAT(__half2float(__ushort_as_half(b)))
  NSA_PAIR_ABOVE(__half2, __half2_raw, __float2half2_rn)
};

template <>
struct DTypeTraits<DType::BF16> {
  using Bits = uint16_t;
  static constexpr int kKeyBits = 16;
  static constexpr int kExponentBits = 8;
  static constexpr Bits kNegInf = 0xFF80u;
  NSA_HD static uint32_t key(Bits b) { return ordered_key<Bits, 16>(b, Bits(0x7F80u)); }
  NSA_AS_FLOAT(__uint_as_float(uint32_t(b) << 16))
  NSA_PAIR_ABOVE(__nv_bfloat162, __nv_bfloat162_raw, __float2bfloat162_rn)
};

#undef NSA_AS_FLOAT
#undef NSA_PAIR_ABOVE

// Runtime dtype -> compile-time traits, in exactly one place for every backend.
template <typename F>
decltype(auto) dispatch_dtype(DType d, F&& f) {
  switch (d) {
    case DType::F16: return f(DTypeTraits<DType::F16>{});
    case DType::BF16: return f(DTypeTraits<DType::BF16>{});
    case DType::F32:
    default: return f(DTypeTraits<DType::F32>{});
  }
}

// The contract's clamping of a row's window, whatever the device-side arrays hold.
struct Window {
  int64_t start;
  int64_t length;
};
NSA_HD Window clamp_window(int64_t stride, const int32_t* row_starts, const int32_t* lengths, int64_t r) {
  int64_t s = row_starts ? int64_t(row_starts[r]) : 0;
  s = s < 0 ? 0 : (s > stride ? stride : s);
  int64_t n = lengths ? int64_t(lengths[r]) : stride - s;
  n = n < 0 ? 0 : (n > stride - s ? stride - s : n);
  return {s, n};
}

// The fused index transforms of the contract, applied to a selected position j (never to -1).
// A batch or page that falls outside the page table (bad rowToBatch or pageTableStarts) maps to -1
// rather than reading out of bounds.
NSA_HD int32_t transform_index(Transform t, const TopKArgs& a, int32_t page_size, int64_t r, int32_t j) {
  if (t == Transform::Ragged) return a.offsets[r] + j;
  if (t == Transform::PageTable) {
    int64_t b = a.row_to_batch ? int64_t(a.row_to_batch[r]) : r;
    int64_t p = int64_t(j) + (a.page_table_starts ? int64_t(a.page_table_starts[r]) : 0);
    int64_t page = page_size == 1 ? p : p / page_size;
    if (b < 0 || b >= a.page_table_rows || p < 0 || page >= a.page_table_stride) return -1;
    int32_t entry = a.page_table[b * a.page_table_stride + page];
    return page_size == 1 ? entry : entry * page_size + int32_t(p % page_size);
  }
  return j;
}

}  // namespace nsa
