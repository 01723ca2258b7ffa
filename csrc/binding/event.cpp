// The CUDA classes exist only in CUDA builds; CPU-only builds compile this file to nothing.
#if NSA_TOPK_WITH_CUDA
#include "event.h"

#include "addon.h"
#include "device_guard.h"
#include "stream.h"

namespace nsa::binding {

const napi_type_tag Event::kTypeTag = {0x6e73612d746f706bULL, 0x6576656e74000003ULL};

Napi::Function Event::Init(Napi::Env env) {
  return DefineClass(env, kJsName,
                     {InstanceMethod<&Event::Record>("record"),
                      InstanceMethod<&Event::Synchronize>("synchronize"),
                      InstanceMethod<&Event::Query>("query"),
                      InstanceMethod<&Event::ElapsedSince>("elapsedSince"),
                      InstanceMethod<&Event::Dispose>("dispose")});
}

Event::Event(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Event>(info) {
  Napi::Env env = info.Env();
  device_ = int(int_arg(info[0], "device", 0, 1 << 16));
  DeviceGuard guard(device_);
  check_cuda(env, guard.error(), "selecting device " + std::to_string(device_));
  check_cuda(env, cudaEventCreate(&event_), "creating an event");
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
}

Event::~Event() { release(); }

cudaError_t Event::release() {
  if (disposed_) return cudaSuccess;
  disposed_ = true;
  return cudaEventDestroy(event_);
}

void Event::Record(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  check_not_disposed(env, disposed_, kJsName);
  Stream& stream = unwrap_arg<Stream>(info[0], "stream");
  stream.check_device(env, device_, "stream");
  DeviceGuard guard(device_);
  check_cuda(env, guard.error(), "recording an event");
  check_cuda(env, cudaEventRecord(event_, stream.handle()), "recording an event");
}

void Event::Synchronize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  check_not_disposed(env, disposed_, kJsName);
  check_cuda(env, cudaEventSynchronize(event_), "synchronizing an event");
}

Napi::Value Event::Query(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  check_not_disposed(env, disposed_, kJsName);
  const cudaError_t err = cudaEventQuery(event_);
  if (err == cudaErrorNotReady) return Napi::Boolean::New(env, false);
  check_cuda(env, err, "querying an event");
  return Napi::Boolean::New(env, true);
}

Napi::Value Event::ElapsedSince(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  check_not_disposed(env, disposed_, kJsName);
  Event& start = unwrap_arg<Event>(info[0], "start");
  float ms = 0;
  check_cuda(env, cudaEventElapsedTime(&ms, start.event_, event_), "reading the time between two events");
  return Napi::Number::New(env, ms);
}

void Event::Dispose(const Napi::CallbackInfo& info) { check_cuda(info.Env(), release(), "destroying an event"); }

}  // namespace nsa::binding

#endif  // NSA_TOPK_WITH_CUDA
