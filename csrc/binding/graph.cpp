// The CUDA classes exist only in CUDA builds; CPU-only builds compile this file to nothing.
#if NSA_TOPK_WITH_CUDA
#include "graph.h"

#include "addon.h"
#include "device_guard.h"
#include "stream.h"

namespace nsa::binding {

const napi_type_tag Graph::kTypeTag = {0x6e73612d746f706bULL, 0x6772617068000003ULL};

Napi::Function Graph::Init(Napi::Env env) {
  return DefineClass(env, kJsName,
                     {StaticMethod<&Graph::Capture>("capture"),
                      InstanceAccessor<&Graph::Disposed>("disposed"),
                      InstanceMethod<&Graph::Replay>("replay"),
                      InstanceMethod<&Graph::Dispose>("dispose")});
}

Graph::Graph(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Graph>(info) {
  if (!info[0].IsExternal()) {
    throw_error(info.Env(), ErrorCode::InvalidArgument, "Graph has no public constructor: use Graph.capture()");
  }
  Spec& spec = *info[0].As<Napi::External<Spec>>().Data();
  graph_ = spec.graph;
  exec_ = spec.exec;
  device_ = spec.device;
  relocations_ = std::move(spec.relocations);
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
}

Graph::~Graph() { release(); }

cudaError_t Graph::release() {
  if (disposed_) return cudaSuccess;
  disposed_ = true;
  cudaError_t exec_err = cudaGraphExecDestroy(exec_);
  cudaError_t graph_err = cudaGraphDestroy(graph_);
  return exec_err != cudaSuccess ? exec_err : graph_err;
}

Napi::Value Graph::Capture(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Stream& stream = unwrap_arg<Stream>(info[0], "stream");
  if (!info[1].IsFunction()) throw_invalid(env, "a function", "body", info[1]);
  Napi::Function body = info[1].As<Napi::Function>();
  return capture(env, stream, [&] { body.Call({}); }, nullptr);
}

Napi::Value Graph::capture(Napi::Env env, Stream& stream, const std::function<void()>& enqueue,
                           const std::vector<BufferRange>* buffers) {
  const int device = stream.device();
  DeviceGuard guard(device);
  check_cuda(env, guard.error(), "selecting device " + std::to_string(device));
  // Thread-local: only this thread's unsafe calls break the capture, not another Node thread's.
  check_cuda(env, cudaStreamBeginCapture(stream.handle(), cudaStreamCaptureModeThreadLocal),
             "beginning a graph capture", ErrorCode::Capture);
  cudaGraph_t graph = nullptr;
  try {
    enqueue();
  } catch (const Napi::Error&) {
    // Leave the stream usable, drop what was captured, report the body's own error.
    if (cudaStreamEndCapture(stream.handle(), &graph) == cudaSuccess && graph) cudaGraphDestroy(graph);
    cudaGetLastError();
    throw;
  }
  check_cuda(env, cudaStreamEndCapture(stream.handle(), &graph), "ending a graph capture", ErrorCode::Capture);
  cudaGraphExec_t exec = nullptr;
  cudaError_t err = cudaGraphInstantiate(&exec, graph, 0);
  if (err != cudaSuccess) {
    cudaGraphDestroy(graph);
    check_cuda(env, err, "instantiating a captured graph", ErrorCode::Capture);
  }
  Spec spec{graph, exec, device, nullptr};
  if (buffers) {
    spec.relocations = std::make_unique<KernelRelocations>();
    err = spec.relocations->find(graph, *buffers);
    if (err != cudaSuccess) {
      cudaGraphExecDestroy(exec);
      cudaGraphDestroy(graph);
      check_cuda(env, err, "reading a captured graph's kernel parameters", ErrorCode::Capture);
    }
  }
  return addon_data(env).graph.New({Napi::External<Spec>::New(env, &spec)});
}

bool Graph::rebind(Napi::Env env, const std::vector<BufferRange>& buffers) {
  check_not_disposed(env, disposed_, kJsName);
  if (!relocations_ || !relocations_->relocatable() || !relocations_->fits(buffers)) return false;
  DeviceGuard guard(device_);
  check_cuda(env, guard.error(), "selecting device " + std::to_string(device_));
  check_cuda(env, relocations_->apply(exec_, buffers), "moving a graph's kernel parameters to new buffers");
  return true;
}

Napi::Value Graph::Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_); }

void Graph::Replay(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  check_not_disposed(env, disposed_, kJsName);
  Stream& stream = unwrap_arg<Stream>(info[0], "stream");
  stream.check_device(env, device_, "stream");
  DeviceGuard guard(device_);
  check_cuda(env, guard.error(), "replaying a graph");
  check_cuda(env, cudaGraphLaunch(exec_, stream.handle()), "replaying a graph");
}

void Graph::Dispose(const Napi::CallbackInfo& info) { check_cuda(info.Env(), release(), "destroying a graph"); }

}  // namespace nsa::binding

#endif  // NSA_TOPK_WITH_CUDA
