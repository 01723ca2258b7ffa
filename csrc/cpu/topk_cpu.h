// The CPU backend: exact to the contract for every option; the reference the GPU backends are
// tested against, and the default where no GPU exists.
#pragma once
#include "../common/problem.h"

namespace nsa::cpu {

// Runs the whole call on up to `threads` threads (0: hardware concurrency). Host pointers only.
// Per row: a radix select over ordered keys (11-bit digits), no sort; rows shorter than 128 take
// the nth_element path, which is cheaper there. Throws std::invalid_argument only for inconsistent
// structs (the TS layer validates first); std::bad_alloc when a row's scratch cannot be had.
void run_topk(const TopKConfig& cfg, const TopKArgs& args, int threads);

// The benchmark baseline: std::nth_element over (key, position) pairs per row, then the same
// tie-break and output rules. Exact too, but slow; used by `nsa-topk bench --baseline`.
void run_topk_nth_element(const TopKConfig& cfg, const TopKArgs& args, int threads);

}  // namespace nsa::cpu
