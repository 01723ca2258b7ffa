// Host API of the CUDA backends: the only header the N-API layer includes from csrc/cuda.
// Everything here is plain C++ (no CUDA syntax), so the binding compiles with the host compiler.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../common/problem.h"

namespace nsa::cuda {

// Which kernel covers a row. Auto is the documented heuristic (use_batch_path, then
// choose_radix_plan); Block forces the radix kernel with one CTA per row streaming from global
// memory, Cluster its largest cluster of CTAs with shared-memory caching, and Batch the batch
// kernel (one CTA per row, each score read once; where it cannot run, for k above its policy's
// maximum or a device with too little shared memory per CTA, Auto), for benchmarking and tests.
enum class RadixPath : int32_t { Auto = 0, Block = 1, Cluster = 2, Batch = 3 };

// A radix launch: CTAs per row (1, 2, 4 or 8) and whether CTAs cache their chunk of the row.
struct RadixPlan {
  int cluster;
  bool cache;
};

// Whether the batch kernel takes a call (dispatch.cu): from the host-known row count (maxRows in
// graph-safe mode), the op's maxLen, k and the device's SM count and shared memory per CTA; never
// from device data.
bool use_batch_path(int64_t rows, int64_t max_len, int32_t k, int sm_count, int smem_optin);

// The documented path heuristic (dispatch.cu), from the host-known row count (maxRows in
// graph-safe mode), the op's maxLen, k and the device's SM count; never from device data.
RadixPlan choose_radix_plan(int64_t rows, int64_t max_len, int32_t k, int sm_count);

// Bytes of device workspace an op needs for its configured maxima. Allocated once per op.
size_t workspace_bytes(Backend backend, const TopKConfig& cfg, int device);

// Enqueue one top-k on `stream`. No host synchronization, no allocation, no host read of device
// data: safe inside a CUDA graph capture. Returns the first CUDA error met (launch or config).
cudaError_t run_topk(Backend backend, const TopKConfig& cfg, RadixPath path, const TopKArgs& args,
                     void* workspace, size_t workspace_size, cudaStream_t stream);

// Enqueue a plain read of `bytes` bytes at `data` (sum into a tiny device sink inside
// `workspace`, at least 256 bytes): the memory-bandwidth reference that `nsa-topk bench` times
// beside each top-k.
cudaError_t run_read_probe(const void* data, size_t bytes, void* workspace, cudaStream_t stream);

// Enqueue a GPU-side wait of `nanoseconds` on `stream` (bench: lets the host enqueue a batch of
// timed calls before the GPU starts on them).
cudaError_t run_hold(uint64_t nanoseconds, cudaStream_t stream);

// The tuning constants in force, for `nsa-topk info` (name, value).
std::vector<std::pair<std::string, long long>> tuning_constants();

}  // namespace nsa::cuda
