// A plain read of a buffer at full width: the memory-bandwidth reference `nsa-topk bench` times
// beside each top-k, over the same bytes.
#pragma once
#include <cstdint>

namespace nsa::cuda {

__global__ void read_probe_kernel(const uint4* data, size_t n16, const uint8_t* tail, int ntail, uint32_t* sink) {
  uint32_t acc = 0;
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n16; i += size_t(gridDim.x) * blockDim.x) {
    const uint4 v = data[i];
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (blockIdx.x == 0 && int(threadIdx.x) < ntail) acc ^= tail[threadIdx.x];
  // A store the compiler cannot prove dead keeps every load; it almost never happens.
  if (acc == 0x9e3779b9u) *sink = acc;
}

}  // namespace nsa::cuda
