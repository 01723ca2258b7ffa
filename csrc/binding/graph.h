// Graph: a CUDA graph captured from one stream (Graph.capture), replayed with one launch.
#pragma once
#include <cuda_runtime_api.h>
#include <napi.h>

namespace nsa::binding {

class Graph : public Napi::ObjectWrap<Graph> {
 public:
  static constexpr const char* kJsName = "Graph";
  static Napi::Function Init(Napi::Env env);

  // Only from capture(), through an External<Spec>.
  explicit Graph(const Napi::CallbackInfo& info);
  ~Graph() override;

 private:
  struct Spec {
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    int device;
  };
  static Napi::Value Capture(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  void Replay(const Napi::CallbackInfo& info);
  void Dispose(const Napi::CallbackInfo& info);

  cudaError_t release();

  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
  int device_ = 0;
  bool disposed_ = false;
};

}  // namespace nsa::binding
