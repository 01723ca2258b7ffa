// DeviceBuffer: device memory, owned (cudaMalloc, freed by dispose() or the finalizer) or wrapped
// (an external allocation, never freed by us, checked to be memory of the device it claims).
#pragma once
#include <cuda_runtime_api.h>
#include <napi.h>

#include <cstddef>

namespace nsa::binding {

class DeviceBuffer : public Napi::ObjectWrap<DeviceBuffer> {
 public:
  static constexpr const char* kJsName = "DeviceBuffer";
  static const napi_type_tag kTypeTag;
  static Napi::Function Init(Napi::Env env);

  // (bytes, device) allocates; (External<Spec>) adopts, for wrap().
  explicit DeviceBuffer(const Napi::CallbackInfo& info);
  ~DeviceBuffer() override;

  bool disposed() const { return disposed_; }
  void* data() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  int device() const { return device_; }

 private:
  struct Spec {
    void* ptr;
    size_t bytes;
    int device;
  };
  static Napi::Value Wrap(const Napi::CallbackInfo& info);
  Napi::Value Ptr(const Napi::CallbackInfo& info);
  Napi::Value Bytes(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value Owned(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  void CopyFromHost(const Napi::CallbackInfo& info);
  void CopyToHost(const Napi::CallbackInfo& info);
  void Fill(const Napi::CallbackInfo& info);
  void Dispose(const Napi::CallbackInfo& info);

  // Shared by both copies: checks the range and the stream, then enqueues (or runs) the copy.
  void copy(const Napi::CallbackInfo& info, bool to_device);
  // Frees an owned allocation once (dispose() or the finalizer).
  cudaError_t release();

  void* ptr_ = nullptr;
  size_t bytes_ = 0;
  int device_ = 0;
  bool owned_ = false;
  bool disposed_ = false;
};

}  // namespace nsa::binding
