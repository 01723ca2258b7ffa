// Module init: the exports of lib/native.ts, and the per-environment state behind them.
#include "addon.h"

#include "cuda_status.h"
#include "host_call.h"

#if NSA_TOPK_WITH_CUDA
#include "../cuda/topk_cuda.h"
#include "device_buffer.h"
#include "device_guard.h"
#include "event.h"
#include "graph.h"
#include "stream.h"
#include "topk_op.h"
#endif

namespace nsa::binding {

AddonData& addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

namespace {

void Init(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw_invalid(info.Env(), "a class", "errorClass", info[0]);
  addon_data(info.Env()).error_class = Napi::Persistent(info[0].As<Napi::Function>());
}

#if NSA_TOPK_WITH_CUDA
constexpr size_t kProbeSinkBytes = 256;

void ReadProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceBuffer& buffer = unwrap_arg<DeviceBuffer>(info[0], "buffer");
  int64_t bytes = int_arg(info[1], "bytes", 0, int64_t(buffer.bytes()));
  Stream& stream = unwrap_arg<Stream>(info[2], "stream");
  stream.check_device(env, buffer.device(), "stream");
  DeviceGuard guard(buffer.device());
  check_cuda(env, guard.error(), "selecting device " + std::to_string(buffer.device()));
  void*& sink = addon_data(env).probe_sinks[buffer.device()];
  if (!sink) check_cuda(env, cudaMalloc(&sink, kProbeSinkBytes), "allocating the read probe's sink");
  check_cuda(env, cuda::run_read_probe(buffer.data(), size_t(bytes), sink, stream.handle()), "running the read probe");
}

void Hold(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Stream& stream = unwrap_arg<Stream>(info[0], "stream");
  const int64_t us = int_arg(info[1], "microseconds", 0, int64_t(60) * 1000 * 1000);
  DeviceGuard guard(stream.device());
  check_cuda(env, guard.error(), "selecting device " + std::to_string(stream.device()));
  check_cuda(env, cuda::run_hold(uint64_t(us) * 1000, stream.handle()), "enqueuing a GPU hold");
}
#endif

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  // Deleted, with everything it holds, when this environment (main thread or worker) is torn down.
  auto* data = new AddonData();
  env.SetInstanceData(data);
  exports.Set("init", Napi::Function::New<Init>(env, "init"));
  exports.Set("errorCodes", Napi::Function::New<ErrorCodes>(env, "errorCodes"));
  exports.Set("buildInfo", Napi::Function::New<BuildInfo>(env, "buildInfo"));
  exports.Set("cudaStatus", Napi::Function::New<CudaStatus>(env, "cudaStatus"));
  exports.Set("tuning", Napi::Function::New<Tuning>(env, "tuning"));
  exports.Set("cpuTopk", Napi::Function::New<CpuTopk>(env, "cpuTopk"));
  exports.Set("cpuTopkAsync", Napi::Function::New<CpuTopkAsync>(env, "cpuTopkAsync"));
#if NSA_TOPK_WITH_CUDA
  Napi::Function device_buffer = DeviceBuffer::Init(env);
  Napi::Function stream = Stream::Init(env);
  Napi::Function graph = Graph::Init(env);
  data->device_buffer = Napi::Persistent(device_buffer);
  data->stream = Napi::Persistent(stream);
  data->graph = Napi::Persistent(graph);
  exports.Set("DeviceBuffer", device_buffer);
  exports.Set("Stream", stream);
  exports.Set("Graph", graph);
  exports.Set("TopKOp", TopKOp::Init(env));
  exports.Set("Event", Event::Init(env));
  exports.Set("cudaTopk", Napi::Function::New<CudaTopk>(env, "cudaTopk"));
  exports.Set("cudaTopkAsync", Napi::Function::New<CudaTopkAsync>(env, "cudaTopkAsync"));
  exports.Set("readProbe", Napi::Function::New<ReadProbe>(env, "readProbe"));
  exports.Set("hold", Napi::Function::New<Hold>(env, "hold"));
  exports.Set("deviceCaps", Napi::Function::New<DeviceCapsOf>(env, "deviceCaps"));
  exports.Set("choosePath", Napi::Function::New<ChoosePath>(env, "choosePath"));
  exports.Set("callPath", Napi::Function::New<CallPath>(env, "callPath"));
  exports.Set("opRegions", Napi::Function::New<OpRegions>(env, "opRegions"));
#endif
  return exports;
}

}  // namespace

#if NSA_TOPK_WITH_CUDA
AddonData::~AddonData() {
  for (auto& [device, sink] : probe_sinks) {
    DeviceGuard guard(device);
    cudaFree(sink);
  }
}
#endif

}  // namespace nsa::binding

using nsa::binding::InitModule;  // the macro wants an unqualified name
NODE_API_MODULE(nsa_topk, InitModule)
