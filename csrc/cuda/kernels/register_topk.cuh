// The register top-k kernel: one CTA per row, or one cluster of CTAs per row (kCluster: the
// cluster's size is the launch's, a chunk of the row per CTA); rows that fit their registers (the
// policy's kThreads x kItems scores a CTA) take AgentRegisterTopK, longer ones (device lengths
// past the op's maxLen, or any row under the forced `register` path) the batch agent of the
// policy's Fallback on the cluster's first CTA, so that the kernel is exact for any length the
// device data gives.
#pragma once
#include <cstdint>

#include "../agent/agent_batch_topk.cuh"
#include "../agent/agent_register_topk.cuh"
#include "../block/row_exchange.cuh"
#include "pdl.cuh"

namespace nsa::cuda {

template <class Policy, class Traits, bool kLarge, class Row = SoloRow, bool kAnyOrder = false>
struct RegisterTopKAgents {
  using Register = AgentRegisterTopK<Policy, Traits, kLarge, Row, kAnyOrder>;
  using Fallback = AgentBatchTopK<typename Policy::Fallback, Traits, kLarge>;
  union TempStorage {
    typename Register::TempStorage reg;
    typename Fallback::TempStorage batch;
  };
  static constexpr size_t kDynamicSmemBytes = Register::kDynamicSmemBytes > Fallback::kDynamicSmemBytes
                                                  ? Register::kDynamicSmemBytes
                                                  : Fallback::kDynamicSmemBytes;
};

// Row r on its CTA (SoloRow) or cluster (ClusterRow): the register agent when the row fits the
// row's CTAs, else the Fallback batch agent on the first CTA (the others leave: no CTA touches
// another's shared memory on that path).
template <class Agents, class Row>
__device__ void register_topk_row(typename Agents::TempStorage& storage, const BatchTopKParams& p, int64_t r,
                                  const Row& row) {
  if (r >= p.a.rows) return;  // the whole cluster (a cluster's CTAs share their row)
  const Window w = clamp_window(p.a.stride, p.a.row_starts, p.a.lengths, r);
  if (Agents::Register::fits(w.length, row.size())) {
    typename Agents::Register agent(storage.reg, p, r, w, row);
    agent.run();
  } else if (row.rank() == 0) {
    typename Agents::Fallback agent(storage.batch, p, r);
    agent.template run<false>();
  }
}

// kAnyOrder: unsorted output in no particular order (AgentRegisterTopK::place()); a CTA a row.
template <class Policy, class Traits, bool kLarge, bool kCluster, bool kAnyOrder = false>
__global__ void __launch_bounds__(Policy::kThreads, Policy::kMinCtasPerSm) register_topk_kernel(const BatchTopKParams p) {
  // Before the agents: their constructors already read lengths and row starts (pdl.cuh).
  pdl_wait();
  pdl_launch_dependents();
  if constexpr (!kCluster) {
    using Agents = RegisterTopKAgents<Policy, Traits, kLarge, SoloRow, kAnyOrder>;
    __shared__ typename Agents::TempStorage storage;
    register_topk_row<Agents>(storage, p, int64_t(blockIdx.x), SoloRow{});
  } else {
#if NSA_TOPK_HAS_CLUSTERS
    using Row = ClusterRow<Policy::kThreads>;
    using Agents = RegisterTopKAgents<Policy, Traits, kLarge, Row>;
    static_assert(Policy::kMaxCluster <= ClusterRowStorage::kMaxCtas &&
                      Agents::Register::kGatherCapacity >= Agents::Register::Bins::kBins + ClusterRowStorage::kMaxCtas,
                  "the exchange's counts, and merge_hist's receiving area in the gather's");
    __shared__ typename Agents::TempStorage storage;
    __shared__ typename Row::Storage exchange;
    const Row row(exchange, Agents::Register::gathered());
    register_topk_row<Agents>(storage, p, int64_t(blockIdx.x / row.size()), row);
#else
    __trap();  // never launched without clusters (dispatch.cu)
#endif
  }
}

}  // namespace nsa::cuda
