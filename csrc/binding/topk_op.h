// TopKOp: one configuration on one device with its workspace, allocated once; run() only
// enqueues (no allocation, no synchronization), so it is safe inside a graph capture. capture()
// and rebind() make and move the graphs a graph-safe TopK caches.
#pragma once
#include <napi.h>

#include <vector>

#include "../common/problem.h"
#include "../cuda/topk_cuda.h"
#include "kernel_relocations.h"

namespace nsa::binding {

class Stream;

class TopKOp : public Napi::ObjectWrap<TopKOp> {
 public:
  static constexpr const char* kJsName = "TopKOp";
  static Napi::Function Init(Napi::Env env);

  // (config, backend, device, path)
  explicit TopKOp(const Napi::CallbackInfo& info);
  ~TopKOp() override;

 private:
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value WorkspaceBytes(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  void Run(const Napi::CallbackInfo& info);
  // (args) -> Graph: captures one run, knowing where its kernels hold args' buffer addresses.
  Napi::Value Capture(const Napi::CallbackInfo& info);
  // (graph, args) -> boolean: moves a graph capture() made onto args' buffers (same shape).
  Napi::Value Rebind(const Napi::CallbackInfo& info);
  void Dispose(const Napi::CallbackInfo& info);

  // One run's arguments, checked against the op: the native arguments, the stream, and the range
  // of every buffer in the order unpack_run reads them (fixed per op; absent ones empty).
  struct Call {
    TopKArgs args;
    Stream* stream = nullptr;
    std::vector<BufferRange> buffers;
  };
  Call unpack_run(Napi::Value value) const;
  void enqueue(Napi::Env env, const Call& call) const;

  cudaError_t release();

  cuda::OpPlan plan_;  // made once: each run takes it as it is
  void* workspace_ = nullptr;
  cuda::Branch branch_;  // where calls may split their rows by length (plan_.layout.regions.branches); else empty
  bool disposed_ = false;
};

}  // namespace nsa::binding
