// Event: a CUDA timing event, for measuring enqueued work (bench).
#pragma once
#include <cuda_runtime_api.h>
#include <napi.h>

namespace nsa::binding {

class Event : public Napi::ObjectWrap<Event> {
 public:
  static constexpr const char* kJsName = "Event";
  static const napi_type_tag kTypeTag;
  static Napi::Function Init(Napi::Env env);

  explicit Event(const Napi::CallbackInfo& info);
  ~Event() override;

  bool disposed() const { return disposed_; }

 private:
  void Record(const Napi::CallbackInfo& info);
  void Synchronize(const Napi::CallbackInfo& info);
  Napi::Value Query(const Napi::CallbackInfo& info);
  Napi::Value ElapsedSince(const Napi::CallbackInfo& info);
  void Dispose(const Napi::CallbackInfo& info);

  cudaError_t release();

  cudaEvent_t event_ = nullptr;
  int device_ = 0;
  bool disposed_ = false;
};

}  // namespace nsa::binding
