// Stream: a non-blocking CUDA stream we create and destroy, or a wrapped external one (including
// 0n, the legacy default stream) that is never destroyed by us.
#pragma once
#include <cuda_runtime_api.h>
#include <napi.h>

#include <string>

namespace nsa::binding {

class Stream : public Napi::ObjectWrap<Stream> {
 public:
  static constexpr const char* kJsName = "Stream";
  static const napi_type_tag kTypeTag;
  static Napi::Function Init(Napi::Env env);

  // (device) creates; (External<Spec>) adopts, for wrap().
  explicit Stream(const Napi::CallbackInfo& info);
  ~Stream() override;

  bool disposed() const { return disposed_; }
  cudaStream_t handle() const { return stream_; }
  int device() const { return device_; }
  // Refuses with ERR_NSA_TOPK_DEVICE_MISMATCH, naming the argument, a stream of another device.
  void check_device(Napi::Env env, int device, const std::string& name) const;

 private:
  struct Spec {
    cudaStream_t stream;
    int device;
  };
  static Napi::Value Wrap(const Napi::CallbackInfo& info);
  Napi::Value Handle(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  void Synchronize(const Napi::CallbackInfo& info);
  Napi::Value SynchronizeAsync(const Napi::CallbackInfo& info);
  Napi::Value IsCapturing(const Napi::CallbackInfo& info);
  void Dispose(const Napi::CallbackInfo& info);

  cudaError_t release();

  cudaStream_t stream_ = nullptr;
  int device_ = 0;
  bool owned_ = false;
  bool disposed_ = false;
};

}  // namespace nsa::binding
