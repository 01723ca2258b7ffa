// Graph: a CUDA graph captured from one stream (Graph.capture, or TopKOp.capture for an op's own
// cached graphs), replayed with one launch. An op's graph also knows where its kernels hold the
// call's buffer addresses, so that a call of the same shape on other buffers rewrites them.
#pragma once
#include <cuda_runtime_api.h>
#include <napi.h>

#include <functional>
#include <memory>
#include <vector>

#include "kernel_relocations.h"

namespace nsa::binding {

class Stream;

class Graph : public Napi::ObjectWrap<Graph> {
 public:
  static constexpr const char* kJsName = "Graph";
  static const napi_type_tag kTypeTag;
  static Napi::Function Init(Napi::Env env);

  // Only from capture(), through an External<Spec>.
  explicit Graph(const Napi::CallbackInfo& info);
  ~Graph() override;

  bool disposed() const { return disposed_; }

  // Captures what `enqueue` puts on `stream` (thread-local mode), instantiates it and returns the
  // JS Graph. With `buffers`, also finds where its kernels hold their addresses (for rebind()).
  // A throw from `enqueue` ends the capture, leaves the stream usable and is rethrown.
  static Napi::Value capture(Napi::Env env, Stream& stream, const std::function<void()>& enqueue,
                             const std::vector<BufferRange>* buffers);

  // Moves the captured call onto `buffers` (same shape, other addresses) for the next replays.
  // False, with nothing changed, where that cannot be done: then capture the call again.
  bool rebind(Napi::Env env, const std::vector<BufferRange>& buffers);

 private:
  struct Spec {
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    int device;
    std::unique_ptr<KernelRelocations> relocations;
  };
  static Napi::Value Capture(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  void Replay(const Napi::CallbackInfo& info);
  void Dispose(const Napi::CallbackInfo& info);

  cudaError_t release();

  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
  int device_ = 0;
  std::unique_ptr<KernelRelocations> relocations_;  // op graphs only
  bool disposed_ = false;
};

}  // namespace nsa::binding
