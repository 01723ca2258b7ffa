// The spread top-k kernels (agent_spread_topk.cuh), one template per stage: count and split take
// a CTA per chunk (blockIdx.x; the dense split, per kGroup chunks) and row (blockIdx.y), finish a
// CTA per row (one per SM: its shared memory and registers are the largest), and the dense split
// that finishes its rows (SplitFinish) a CTA per row's one group, sized as finish. Each waits for
// the kernel before it (PDL: launched early, they wait before touching global memory; a split,
// before touching count's).
#pragma once

#include "../agent/agent_spread_topk.cuh"
#include "pdl.cuh"

namespace nsa::cuda {

// SplitFinish: the dense split whose CTA finishes its row too, where every row's chunks make one
// group (no Finish launch then; kernel-notes, v6 step 90).
enum class SpreadStage { Count, Split, Finish, SplitFinish };

// The CTAs per SM each stage's registers are bounded for: finish one (a CTA per row, the largest),
// count three (40 registers without spills: a third more of its loads in flight), split two (the
// dense split's grid holds a 16th of count's CTAs: kernel-notes, v6 step 63). kDense picks the
// count and split instances of dense grids' claimed slots and shortlists (agent_spread_topk.cuh).
template <class Policy, SpreadStage kStage, bool kDense>
constexpr int spread_min_ctas_per_sm() {
  if constexpr (kStage == SpreadStage::Finish || kStage == SpreadStage::SplitFinish) return 1;
  else if constexpr (kStage == SpreadStage::Count) return 3;
  else return Policy::kMinCtasPerSm;
}

template <class Policy, class Traits, bool kLarge, SpreadStage kStage, bool kDense = false>
__global__ void __launch_bounds__(Policy::kThreads, spread_min_ctas_per_sm<Policy, kStage, kDense>())
    spread_topk_kernel(const __grid_constant__ SpreadParams s) {
  using Agent = AgentSpreadTopK<Policy, Traits, kLarge>;
  const auto wait = [] {
    pdl_wait();
    pdl_launch_dependents();
  };
  // Probe builds: each CTA's whole life, from its entry (before any wait) to its exit, as the
  // stage's span beside its agent's (scripts/probes/timeline.cu).
  // SplitFinish's span is Split's: the two never run in one call.
  const Timeline life(kTimelineMarks - 3 + int(kStage == SpreadStage::SplitFinish ? SpreadStage::Split : kStage));
  // A split waits where its agent says: its scores are count's input.
  if constexpr (kStage == SpreadStage::Count || kStage == SpreadStage::Finish) wait();
  __shared__ typename Agent::TempStorage storage;
  if constexpr (kStage == SpreadStage::Count) Agent::template count<kDense>(storage, s);
  else if constexpr (kStage == SpreadStage::SplitFinish) Agent::template split_grouped<true>(storage, s, wait);
  else if constexpr (kStage == SpreadStage::Split && kDense) Agent::template split_grouped<false>(storage, s, wait);
  else if constexpr (kStage == SpreadStage::Split) Agent::split(storage, s, wait);
  else Agent::finish(storage, s);
}

}  // namespace nsa::cuda
