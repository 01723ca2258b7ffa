// The CUDA classes exist only in CUDA builds; CPU-only builds compile this file to nothing.
#if NSA_TOPK_WITH_CUDA
#include "stream.h"

#include "addon.h"
#include "async_work.h"
#include "device_guard.h"

namespace nsa::binding {
namespace {

// Waits on a libuv worker for an event recorded on the stream, so the main thread stays free.
class EventWaitWorker : public PromiseWorker {
 public:
  EventWaitWorker(Napi::Env env, cudaEvent_t event) : PromiseWorker(env, "nsa-topk:synchronizeAsync"), event_(event) {}
  ~EventWaitWorker() override { cudaEventDestroy(event_); }

  void Execute() override {
    cudaError_t err = cudaEventSynchronize(event_);
    if (err != cudaSuccess) fail(ErrorCode::Cuda, cuda_error_message(err) + " (while synchronizing a stream)");
  }

 private:
  cudaEvent_t event_;
};

// The device of the stream `handle`, checked before wrap() adopts it: work enqueued on another
// device's stream fails at launch or, worse, runs against the wrong device's memory. The special
// handles (0: the legacy default stream, cudaStreamLegacy, cudaStreamPerThread) belong to
// whichever device is current, so they take `device` (-1: device 0).
int stream_device(Napi::Env env, cudaStream_t handle, int device) {
  if (handle == nullptr || handle == cudaStreamLegacy || handle == cudaStreamPerThread) return device < 0 ? 0 : device;
  int actual = -1;
  check_cuda(env, cudaStreamGetDevice(handle, &actual), "asking which device the stream handle belongs to",
             ErrorCode::InvalidArgument);
  if (device >= 0 && actual != device) {
    throw_error(env, ErrorCode::DeviceMismatch,
                "Expected a stream of device " + std::to_string(device) + " (opts.device) for handle but received one of device " +
                    std::to_string(actual));
  }
  return actual;
}

}  // namespace

const napi_type_tag Stream::kTypeTag = {0x6e73612d746f706bULL, 0x73747265616d0002ULL};

Napi::Function Stream::Init(Napi::Env env) {
  return DefineClass(env, kJsName,
                     {StaticMethod<&Stream::Wrap>("wrap"),
                      InstanceAccessor<&Stream::Handle>("handle"),
                      InstanceAccessor<&Stream::Device>("device"),
                      InstanceAccessor<&Stream::Disposed>("disposed"),
                      InstanceMethod<&Stream::Synchronize>("synchronize"),
                      InstanceMethod<&Stream::SynchronizeAsync>("synchronizeAsync"),
                      InstanceMethod<&Stream::IsCapturing>("isCapturing"),
                      InstanceMethod<&Stream::Dispose>("dispose")});
}

Stream::Stream(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Stream>(info) {
  Napi::Env env = info.Env();
  if (info[0].IsExternal()) {
    const Spec& spec = *info[0].As<Napi::External<Spec>>().Data();
    stream_ = spec.stream;
    device_ = spec.device;
  } else {
    device_ = int(int_arg(info[0], "device", 0, 1 << 16));
    DeviceGuard guard(device_);
    check_cuda(env, guard.error(), "selecting device " + std::to_string(device_));
    check_cuda(env, cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "creating a stream");
    owned_ = true;
  }
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
}

Stream::~Stream() { release(); }

cudaError_t Stream::release() {
  if (disposed_) return cudaSuccess;
  disposed_ = true;
  return owned_ ? cudaStreamDestroy(stream_) : cudaSuccess;
}

void Stream::check_device(Napi::Env env, int device, const std::string& name) const {
  if (device != device_) {
    throw_error(env, ErrorCode::DeviceMismatch,
                "Expected " + name + " on device " + std::to_string(device) + " but it is on device " +
                    std::to_string(device_));
  }
}

Napi::Value Stream::Wrap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Spec spec{reinterpret_cast<cudaStream_t>(uintptr_t(bigint_arg(info[0], "handle"))),
            int(int_arg(info[1], "device", -1, 1 << 16))};
  spec.device = stream_device(env, spec.stream, spec.device);
  return addon_data(env).stream.New({Napi::External<Spec>::New(env, &spec)});
}

Napi::Value Stream::Handle(const Napi::CallbackInfo& info) {
  return Napi::BigInt::New(info.Env(), uint64_t(uintptr_t(stream_)));
}
Napi::Value Stream::Device(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), device_); }
Napi::Value Stream::Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_); }

void Stream::Synchronize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  check_not_disposed(env, disposed_, kJsName);
  DeviceGuard guard(device_);  // the legacy default stream (0) is the current device's
  check_cuda(env, guard.error(), "synchronizing a stream");
  check_cuda(env, cudaStreamSynchronize(stream_), "synchronizing a stream");
}

Napi::Value Stream::SynchronizeAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  check_not_disposed(env, disposed_, kJsName);
  DeviceGuard guard(device_);
  check_cuda(env, guard.error(), "synchronizing a stream");
  cudaEvent_t event = nullptr;
  check_cuda(env, cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "creating an event");
  cudaError_t err = cudaEventRecord(event, stream_);
  if (err != cudaSuccess) {
    cudaEventDestroy(event);
    check_cuda(env, err, "recording an event");
  }
  return (new EventWaitWorker(env, event))->Start();
}

Napi::Value Stream::IsCapturing(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  check_not_disposed(env, disposed_, kJsName);
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  check_cuda(env, cudaStreamIsCapturing(stream_, &status), "querying a stream's capture status");
  // Invalidated still counts: the capture is open until someone ends it.
  return Napi::Boolean::New(env, status != cudaStreamCaptureStatusNone);
}

void Stream::Dispose(const Napi::CallbackInfo& info) { check_cuda(info.Env(), release(), "destroying a stream"); }

}  // namespace nsa::binding

#endif  // NSA_TOPK_WITH_CUDA
