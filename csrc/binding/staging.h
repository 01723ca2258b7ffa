// Asynchronous copies between pageable host arrays and device memory that never make the calling
// thread wait. cudaMemcpyAsync with pageable host memory waits on the caller (device -> host for
// the whole stream, host -> device for its staging), so the bytes go through a pinned chunk
// instead: between the host array and the chunk in host functions that run in stream order (on
// CUDA's callback thread), between the chunk and the device by DMA. A copy holds one chunk from
// enqueue until its last step has run; chunks are pooled per environment.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <memory>

namespace nsa::binding {

class StagingPool {
 public:
  StagingPool();
  // Frees the idle chunks; chunks still held by copies in flight are left to them (never reused).
  ~StagingPool();
  StagingPool(const StagingPool&) = delete;
  StagingPool& operator=(const StagingPool&) = delete;

  // Enqueues on `stream` the copy of `bytes` between `host` and `dev` (to_device: host -> dev),
  // in pieces of one chunk. `host` must stay alive until the stream has done it. After a failure,
  // what was enqueued has been waited for.
  cudaError_t enqueue(cudaStream_t stream, void* dev, void* host, size_t bytes, bool to_device);

  // The idle chunks, shared with the host functions of copies in flight (which give theirs back).
  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace nsa::binding
