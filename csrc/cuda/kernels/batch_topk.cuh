// The batch top-k kernel: one CTA per row, the work in AgentBatchTopK (agent/agent_batch_topk.cuh).
#pragma once
#include <cstdint>

#include "../agent/agent_batch_topk.cuh"
#include "pdl.cuh"

namespace nsa::cuda {

template <class Policy, class Traits, bool kLarge>
__global__ void __launch_bounds__(Policy::kThreads, Policy::kMinCtasPerSm) batch_topk_kernel(const BatchTopKParams p) {
  using Agent = AgentBatchTopK<Policy, Traits, kLarge>;
  __shared__ typename Agent::TempStorage storage;
  // Before the agent: its constructor already reads lengths and row starts (pdl.cuh).
  pdl_wait();
  pdl_launch_dependents();
  if (int64_t(blockIdx.x) >= p.a.rows << p.chunk.shift) return;
  Agent(storage, p, int64_t(blockIdx.x)).run();
  // After the row: published before it, the count held registers through the stream (spills).
  p.publish_candidates(int64_t(blockIdx.x));
}

}  // namespace nsa::cuda
