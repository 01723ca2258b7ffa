// The register top-k kernel: one CTA per row; rows that fit its registers (the policy's
// kThreads x kItems scores) take AgentRegisterTopK, longer ones (device lengths past the op's
// maxLen, or any row under the forced `register` path) the batch agent of the policy's Fallback,
// so that the kernel is exact for any length the device data gives.
#pragma once
#include <cstdint>

#include "../agent/agent_batch_topk.cuh"
#include "../agent/agent_register_topk.cuh"
#include "pdl.cuh"

namespace nsa::cuda {

template <class Policy, class Traits, bool kLarge>
struct RegisterTopKAgents {
  using Register = AgentRegisterTopK<Policy, Traits, kLarge>;
  using Fallback = AgentBatchTopK<typename Policy::Fallback, Traits, kLarge>;
  union TempStorage {
    typename Register::TempStorage reg;
    typename Fallback::TempStorage batch;
  };
  static constexpr size_t kDynamicSmemBytes = Register::kDynamicSmemBytes > Fallback::kDynamicSmemBytes
                                                  ? Register::kDynamicSmemBytes
                                                  : Fallback::kDynamicSmemBytes;
};

template <class Policy, class Traits, bool kLarge>
__global__ void __launch_bounds__(Policy::kThreads, Policy::kMinCtasPerSm) register_topk_kernel(const BatchTopKParams p) {
  using Agents = RegisterTopKAgents<Policy, Traits, kLarge>;
  __shared__ typename Agents::TempStorage storage;
  // Before the agents: their constructors already read lengths and row starts (pdl.cuh).
  pdl_wait();
  pdl_launch_dependents();
  const int64_t r = int64_t(blockIdx.x);
  if (r >= p.a.rows) return;
  const Window w = clamp_window(p.a.stride, p.a.row_starts, p.a.lengths, r);
  if (Agents::Register::fits(w.length)) {
    typename Agents::Register agent(storage.reg, p, r, w);
    agent.run();
  } else {
    typename Agents::Fallback agent(storage.batch, p, r);
    agent.run();
  }
}

}  // namespace nsa::cuda
