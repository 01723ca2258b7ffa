// A first radix digit that spreads typical scores over its bins: 2048 bins, monotone in the
// ordered key, so that one histogram pass leaves few elements in the bin of the k-th greatest.
//
// A key's own top 11 bits hold 2 mantissa bits for f32 and bf16 scores (a quarter of an octave
// per bin: a bin of a normal row's threshold holds ~4% of the row). Here, as an fp16 number's top
// bits would, a bin is 1/32 of an octave for magnitudes in [2^-15, 2^17), both signs, and the
// smaller and larger magnitudes share the bins at the ends of that range (those rows still select
// exactly, with more elements left in one bin). kZeroAlone: 0.0 has a bin of its own, the
// positives below 2^-15 moving to the next (ReLU scores are plateaus of exact zeros, and a rare
// tiny positive in their bin gives it two keys: the spread path's candidates then cannot resolve
// it); one more compare per key, so only where it pays (row_exchange.cuh). f16 keys take their
// top 11 bits, which are such bins already (0.0 shares its bin with the 31 smallest subnormals).
#pragma once
#include <cstdint>

namespace nsa::cuda {

template <class Traits, bool kZeroAlone = false>
struct CoarseBins {
  static constexpr int kBins = 2048;
  // The keys of a bin: [lo, hi], lo >= 1 (key 0, an empty slot, is in none).
  struct Range {
    uint32_t lo, hi;
    // (Two compares: a subtraction would be hoisted out of a select's passes, 32 more live words.)
    __device__ bool holds(uint32_t key) const { return key >= lo && key <= hi; }
  };

  __device__ static uint32_t bin(uint32_t key) {
    if constexpr (kTopBits) {
      return key >> (Traits::kKeyBits - 11);
    } else {
      // d: sign, exponent and 5 mantissa bits of the key; t: the magnitude's index in d's order.
      const int s = int(key >> kShift) - kPositive;  // >= 0 for positive scores
      const int neg = s >> 31;                       // -1 for negative ones
      // kZeroAlone: positive keys reach bin 1 of their side at least, leaving bin 0 to 0.0.
      const int c = min(max((s ^ neg) - kLow, kZeroAlone ? int(key > kZero) : 0), kSide - 1);
      return uint32_t(kSide + (c ^ neg));  // negative scores: kSide - 1 - c
    }
  }

  __device__ static Range range(uint32_t b) {
    if constexpr (kTopBits) {
      constexpr int kLowBits = Traits::kKeyBits - 11;
      return {max(b << kLowBits, 1u), (b << kLowBits) | ((1u << kLowBits) - 1u)};
    } else {
      const bool positive = b >= uint32_t(kSide);
      const int c = positive ? int(b) - kSide : kSide - 1 - int(b);
      const bool alone = kZeroAlone && positive;  // this side's bin 0 holds 0.0 only
      if (alone && c == 0) return {kZero, kZero};
      const int t_lo = c == int(alone) ? 0 : kLow + c, t_hi = c == kSide - 1 ? kPositive - 1 : kLow + c;
      const uint32_t d_lo = uint32_t(positive ? kPositive + t_lo : kPositive - 1 - t_hi);
      const uint32_t d_hi = uint32_t(positive ? kPositive + t_hi : kPositive - 1 - t_lo);
      const uint32_t lo = alone && c == 1 ? kZero + 1u : d_lo << kShift;  // past 0.0's bin
      return {max(lo, 1u), (d_hi << kShift) | ((1u << kShift) - 1u)};
    }
  }

 private:
  static constexpr bool kTopBits = Traits::kExponentBits == 5;  // f16
  static constexpr int kShift = Traits::kKeyBits - 14;           // d: the key's top 14 bits
  static constexpr int kPositive = 1 << 13;                      // d of +0.0
  static constexpr int kSide = kBins / 2;                        // bins per sign
  static constexpr int kLow = (127 - 15) * 32;                   // t of 2^-15: bins start there
  static constexpr uint32_t kZero = uint32_t(kPositive) << kShift;  // the key of 0.0 (and -0.0)
  static_assert(Traits::kExponentBits == 5 || Traits::kExponentBits == 8, "f16, bf16 or f32 keys");
};

}  // namespace nsa::cuda
