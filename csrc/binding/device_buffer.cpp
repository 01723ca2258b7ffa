// The CUDA classes exist only in CUDA builds; CPU-only builds compile this file to nothing.
#if NSA_TOPK_WITH_CUDA
#include "device_buffer.h"

#include <cstdio>
#include <memory>
#include <string>

#include "addon.h"
#include "device_guard.h"
#include "staging.h"
#include "stream.h"

namespace nsa::binding {
namespace {

// The optional `stream` argument of a copy or fill: absent, or a live stream of the buffer's device.
Stream* optional_stream(Napi::Value v, int device) {
  if (v.IsUndefined()) return nullptr;
  Stream& stream = unwrap_arg<Stream>(v, "stream");
  stream.check_device(v.Env(), device, "stream");
  return &stream;
}

std::string hex(const void* p) {
  char text[2 + 16 + 1];
  std::snprintf(text, sizeof(text), "0x%llx", static_cast<unsigned long long>(uintptr_t(p)));
  return text;
}

// What CUDA knows of the byte at `p`: an address it does not know is cudaMemoryTypeUnregistered
// (cudaErrorInvalidValue says the same on drivers that refuse the query). Any other failure (a
// broken context, say) is a CUDA error, not an answer about the memory.
cudaPointerAttributes attributes_of(Napi::Env env, const void* p) {
  cudaPointerAttributes a{};
  const cudaError_t err = cudaPointerGetAttributes(&a, p);
  if (err == cudaErrorInvalidValue) {
    cudaGetLastError();
    a.type = cudaMemoryTypeUnregistered;
    return a;
  }
  check_cuda(env, err, "cudaPointerGetAttributes");
  return a;
}

// The device whose memory [ptr, ptr + bytes) is, checked before wrap() adopts it: kernels given
// host memory or another device's memory would fault (or read the wrong data) long after the
// call that made the mistake. Device memory must be on `device` (-1: wherever it is); managed
// memory is reachable from every device, so it takes `device` (-1: where it was allocated).
// Both ends are asked, so a size past the end of the memory the first byte lies in is caught
// (a range over two adjacent allocations of the same kind and device is not). An empty range
// reads nothing and is taken as is (frameworks give empty tensors a null pointer).
int memory_device(Napi::Env env, void* ptr, size_t bytes, int device) {
  if (bytes == 0) return device < 0 ? 0 : device;
  const cudaPointerAttributes first = attributes_of(env, ptr);
  if (first.type != cudaMemoryTypeDevice && first.type != cudaMemoryTypeManaged) {
    const char* what = first.type == cudaMemoryTypeHost ? "page-locked host memory" : "no device allocation";
    throw_error(env, ErrorCode::NotDeviceMemory,
                "Expected device memory for ptr but received " + hex(ptr) + ", which is " + what);
  }
  if (first.type == cudaMemoryTypeDevice && device >= 0 && first.device != device) {
    throw_error(env, ErrorCode::DeviceMismatch,
                "Expected memory of device " + std::to_string(device) + " (opts.device) for ptr but received " +
                    hex(ptr) + ", memory of device " + std::to_string(first.device));
  }
  const void* last_byte = static_cast<const uint8_t*>(ptr) + (bytes - 1);
  const cudaPointerAttributes last = attributes_of(env, last_byte);
  if (last.type != first.type || last.device != first.device) {
    throw_error(env, ErrorCode::InvalidArgument,
                "Expected bytes to stay within the memory at ptr but received " + std::to_string(bytes) +
                    ": its last byte, " + hex(last_byte) + ", is not in memory of the same kind and device");
  }
  return device >= 0 ? device : first.device;
}

}  // namespace

const napi_type_tag DeviceBuffer::kTypeTag = {0x6e73612d746f706bULL, 0x6465766275660001ULL};

Napi::Function DeviceBuffer::Init(Napi::Env env) {
  return DefineClass(env, kJsName,
                     {StaticMethod<&DeviceBuffer::Wrap>("wrap"),
                      InstanceAccessor<&DeviceBuffer::Ptr>("ptr"),
                      InstanceAccessor<&DeviceBuffer::Bytes>("bytes"),
                      InstanceAccessor<&DeviceBuffer::Device>("device"),
                      InstanceAccessor<&DeviceBuffer::Owned>("owned"),
                      InstanceAccessor<&DeviceBuffer::Disposed>("disposed"),
                      InstanceMethod<&DeviceBuffer::CopyFromHost>("copyFromHost"),
                      InstanceMethod<&DeviceBuffer::CopyToHost>("copyToHost"),
                      InstanceMethod<&DeviceBuffer::Fill>("fill"),
                      InstanceMethod<&DeviceBuffer::Dispose>("dispose")});
}

DeviceBuffer::DeviceBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceBuffer>(info) {
  Napi::Env env = info.Env();
  if (info[0].IsExternal()) {
    const Spec& spec = *info[0].As<Napi::External<Spec>>().Data();
    ptr_ = spec.ptr;
    bytes_ = spec.bytes;
    device_ = spec.device;
  } else {
    bytes_ = size_t(int_arg(info[0], "bytes"));
    device_ = int(int_arg(info[1], "device", 0, 1 << 16));
    DeviceGuard guard(device_);
    check_cuda(env, guard.error(), "selecting device " + std::to_string(device_));
    check_cuda(env, cudaMalloc(&ptr_, bytes_), "allocating " + std::to_string(bytes_) + " bytes");
    owned_ = true;
  }
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
}

DeviceBuffer::~DeviceBuffer() { release(); }  // the finalizer backstop; nobody to tell of an error

cudaError_t DeviceBuffer::release() {
  if (disposed_) return cudaSuccess;
  disposed_ = true;
  if (!owned_ || !ptr_) return cudaSuccess;
  DeviceGuard guard(device_);
  return guard.error() != cudaSuccess ? guard.error() : cudaFree(ptr_);
}

Napi::Value DeviceBuffer::Wrap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Spec spec{reinterpret_cast<void*>(uintptr_t(bigint_arg(info[0], "ptr"))), size_t(int_arg(info[1], "bytes")),
            int(int_arg(info[2], "device", -1, 1 << 16))};
  spec.device = memory_device(env, spec.ptr, spec.bytes, spec.device);
  return addon_data(env).device_buffer.New({Napi::External<Spec>::New(env, &spec)});
}

Napi::Value DeviceBuffer::Ptr(const Napi::CallbackInfo& info) {
  check_not_disposed(info.Env(), disposed_, kJsName);
  return Napi::BigInt::New(info.Env(), uint64_t(uintptr_t(ptr_)));
}
Napi::Value DeviceBuffer::Bytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(bytes_)); }
Napi::Value DeviceBuffer::Device(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), device_); }
Napi::Value DeviceBuffer::Owned(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), owned_); }
Napi::Value DeviceBuffer::Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_); }

void DeviceBuffer::copy(const Napi::CallbackInfo& info, bool to_device) {
  Napi::Env env = info.Env();
  check_not_disposed(env, disposed_, kJsName);
  const char* host_name = to_device ? "src" : "dst";
  HostBytes host = host_bytes_arg(info[0], host_name);
  size_t offset = size_t(int_arg(info[1], "byteOffset"));
  if (offset > bytes_ || host.bytes > bytes_ - offset) {
    throw_error(env, ErrorCode::InvalidArgument,
                "Expected byteOffset + " + std::string(host_name) + ".byteLength <= " + std::to_string(bytes_) +
                    " (the buffer's size) but received " + std::to_string(offset) + " + " + std::to_string(host.bytes));
  }
  // Arguments first, so a wrong one is reported as such rather than as a CUDA failure.
  Stream* stream = optional_stream(info[2], device_);
  if (host.bytes == 0) return;
  void* dev = static_cast<uint8_t*>(ptr_) + offset;
  void* dst = to_device ? dev : host.data;
  const void* src = to_device ? static_cast<const void*>(host.data) : dev;
  const cudaMemcpyKind kind = to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost;
  const std::string what = std::string("copying ") + std::to_string(host.bytes) + " bytes " +
                           (to_device ? "to" : "from") + " device " + std::to_string(device_);
  DeviceGuard guard(device_);
  check_cuda(env, guard.error(), what);
  if (stream) {
    // Into a caller's graph capture, a plain copy node. Otherwise staged, since a cudaMemcpyAsync
    // with pageable memory would wait on this (the main) thread for the stream's earlier work.
    cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    check_cuda(env, cudaStreamIsCapturing(stream->handle(), &capture), what);
    if (capture != cudaStreamCaptureStatusNone) {
      check_cuda(env, cudaMemcpyAsync(dst, src, host.bytes, kind, stream->handle()), what);
      return;
    }
    std::unique_ptr<StagingPool>& staging = addon_data(env).staging;
    if (!staging) staging = std::make_unique<StagingPool>();
    check_cuda(env, staging->enqueue(stream->handle(), dev, host.data, host.bytes, to_device), what);
    return;
  }
  // A plain cudaMemcpy from pageable memory may return before the DMA lands, and our streams are
  // non-blocking (they do not wait for the legacy stream): synchronous must mean complete.
  check_cuda(env, cudaMemcpyAsync(dst, src, host.bytes, kind, cudaStreamLegacy), what);
  check_cuda(env, cudaStreamSynchronize(cudaStreamLegacy), what);
}

void DeviceBuffer::CopyFromHost(const Napi::CallbackInfo& info) { copy(info, true); }
void DeviceBuffer::CopyToHost(const Napi::CallbackInfo& info) { copy(info, false); }

void DeviceBuffer::Fill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  check_not_disposed(env, disposed_, kJsName);
  int byte = int(int_arg(info[0], "byte", 0, 255));
  Stream* stream = optional_stream(info[1], device_);
  const std::string what = "filling " + std::to_string(bytes_) + " bytes";
  DeviceGuard guard(device_);
  check_cuda(env, guard.error(), what);
  check_cuda(env, cudaMemsetAsync(ptr_, byte, bytes_, stream ? stream->handle() : nullptr), what);
  // Without a stream, finished on return, like the copies.
  if (!stream) check_cuda(env, cudaStreamSynchronize(nullptr), what);
}

void DeviceBuffer::Dispose(const Napi::CallbackInfo& info) {
  check_cuda(info.Env(), release(), "freeing " + std::to_string(bytes_) + " bytes");
}

}  // namespace nsa::binding

#endif  // NSA_TOPK_WITH_CUDA
