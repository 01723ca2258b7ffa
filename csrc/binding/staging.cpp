// Only CUDA builds copy to devices; CPU-only builds compile this file to nothing.
#if NSA_TOPK_WITH_CUDA
#include "staging.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <vector>

namespace nsa::binding {

// Pieces of a copy: large enough that a 1 GiB copy enqueues a few hundred steps, small enough
// that a new chunk is a quick allocation.
constexpr size_t kChunkBytes = size_t(8) << 20;

struct StagingPool::Shared {
  std::mutex mutex;
  std::vector<void*> idle;
  // The pool is gone: chunks given back after that are left alone (a host function may not call
  // CUDA, so it cannot free them; the environment is being torn down).
  bool closed = false;

  void give_back(void* chunk) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!closed) idle.push_back(chunk);
  }
};

namespace {

// A step of a copy run by CUDA in stream order: a memcpy between host memory and the chunk and,
// at the copy's end, the chunk given back.
struct Step {
  std::shared_ptr<StagingPool::Shared> shared;
  void* dst;
  const void* src;
  size_t bytes;
  void* release;  // the chunk to give back after the memcpy, or null
};

void CUDART_CB run_step(void* data) {
  std::unique_ptr<Step> step(static_cast<Step*>(data));
  if (step->bytes) std::memcpy(step->dst, step->src, step->bytes);
  if (step->release) step->shared->give_back(step->release);
}

}  // namespace

StagingPool::StagingPool() : shared_(std::make_shared<Shared>()) {}

StagingPool::~StagingPool() {
  std::vector<void*> idle;
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->closed = true;
    idle.swap(shared_->idle);
  }
  for (void* chunk : idle) cudaFreeHost(chunk);
}

cudaError_t StagingPool::enqueue(cudaStream_t stream, void* dev, void* host, size_t bytes, bool to_device) {
  if (bytes == 0) return cudaSuccess;
  void* chunk = nullptr;
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    if (!shared_->idle.empty()) {
      chunk = shared_->idle.back();
      shared_->idle.pop_back();
    }
  }
  // Portable: a chunk serves copies to any device.
  if (!chunk) {
    if (cudaError_t err = cudaHostAlloc(&chunk, kChunkBytes, cudaHostAllocPortable); err != cudaSuccess) return err;
  }
  auto step = [&](void* dst, const void* src, size_t n, bool last) {
    auto* s = new Step{shared_, dst, src, n, last ? chunk : nullptr};
    cudaError_t err = cudaLaunchHostFunc(stream, run_step, s);
    if (err != cudaSuccess) delete s;
    return err;
  };
  // One chunk for every piece: the stream runs each step after the one before, so a piece is in
  // the chunk only once the previous one has left it.
  cudaError_t err = cudaSuccess;
  for (size_t off = 0; off < bytes && err == cudaSuccess; off += kChunkBytes) {
    const size_t n = std::min(kChunkBytes, bytes - off);
    uint8_t* h = static_cast<uint8_t*>(host) + off;
    uint8_t* d = static_cast<uint8_t*>(dev) + off;
    if (to_device) {
      err = step(chunk, h, n, false);
      if (err == cudaSuccess) err = cudaMemcpyAsync(d, chunk, n, cudaMemcpyHostToDevice, stream);
    } else {
      err = cudaMemcpyAsync(chunk, d, n, cudaMemcpyDeviceToHost, stream);
      if (err == cudaSuccess) err = step(h, chunk, n, off + n == bytes);
    }
  }
  // Host -> device: the chunk is free once the last DMA out of it is done.
  if (err == cudaSuccess && to_device) err = step(nullptr, nullptr, 0, true);
  if (err != cudaSuccess) {
    // The steps enqueued use the chunk until they have run.
    cudaStreamSynchronize(stream);
    shared_->give_back(chunk);
  }
  return err;
}

}  // namespace nsa::binding

#endif  // NSA_TOPK_WITH_CUDA
