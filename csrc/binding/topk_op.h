// TopKOp: one configuration on one device with its workspace, allocated once; run() only
// enqueues (no allocation, no synchronization), so it is safe inside a graph capture.
#pragma once
#include <napi.h>

#include "../common/problem.h"
#include "../cuda/topk_cuda.h"

namespace nsa::binding {

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
  void Dispose(const Napi::CallbackInfo& info);

  cudaError_t release();

  TopKConfig cfg_;
  Backend backend_ = Backend::Radix;
  cuda::RadixPath path_ = cuda::RadixPath::Auto;
  int device_ = 0;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 0;
  bool disposed_ = false;
};

}  // namespace nsa::binding
