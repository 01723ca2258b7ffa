// The spread top-k kernels (agent_spread_topk.cuh), one template per stage: count and split take
// a CTA per chunk (blockIdx.x) and row (blockIdx.y), finish a CTA per row (one per SM: its shared
// memory and registers are the largest). Each waits for the kernel before it (PDL: launched
// early, they wait before touching global memory; split, before touching count's).
#pragma once

#include "../agent/agent_spread_topk.cuh"
#include "pdl.cuh"

namespace nsa::cuda {

enum class SpreadStage { Count, Split, Finish };

// The CTAs per SM each stage's registers are bounded for: finish one (a CTA per row, the largest),
// count three (40 registers without spills: a third more of its loads in flight), split two, or
// three where its grid is dense (kDense: 40 registers and 8-32 bytes of spills, which a grid of
// several waves repays and a lone wave pays for; kernel-notes, v6 step 20). kDense also picks the
// count and split instances of such grids' claimed slots and shortlists (agent_spread_topk.cuh).
template <class Policy, SpreadStage kStage, bool kDense>
constexpr int spread_min_ctas_per_sm() {
  if constexpr (kStage == SpreadStage::Finish) return 1;
  else if constexpr (kStage == SpreadStage::Count || kDense) return 3;
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
  const Timeline life(kTimelineMarks - 3 + int(kStage));
  if constexpr (kStage != SpreadStage::Split) wait();  // split waits where its agent says: its scores are count's input
  __shared__ typename Agent::TempStorage storage;
  if constexpr (kStage == SpreadStage::Count) Agent::template count<kDense>(storage, s);
  else if constexpr (kStage == SpreadStage::Split) Agent::template split<kDense>(storage, s, wait);
  else Agent::finish(storage, s);
}

}  // namespace nsa::cuda
