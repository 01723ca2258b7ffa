// A GPU-side wait of a given duration: `nsa-topk bench` enqueues it ahead of a batch of timed
// calls so the host can enqueue the whole batch before the GPU reaches it. The event pairs then
// time GPU work alone, not the host's enqueue gaps (the role of nvbench's blocking kernel).
#pragma once
#include <cstdint>

namespace nsa::cuda {

__global__ void hold_kernel(uint64_t nanoseconds) {
  uint64_t start, now;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  do {
    __nanosleep(1000);
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
  } while (now - start < nanoseconds);
}

}  // namespace nsa::cuda
