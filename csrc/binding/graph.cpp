// The CUDA classes exist only in CUDA builds; CPU-only builds compile this file to nothing.
#if NSA_TOPK_WITH_CUDA
#include "graph.h"

#include "addon.h"
#include "device_guard.h"
#include "stream.h"

namespace nsa::binding {

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
  const Spec& spec = *info[0].As<Napi::External<Spec>>().Data();
  graph_ = spec.graph;
  exec_ = spec.exec;
  device_ = spec.device;
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
  const int device = stream.device();
  DeviceGuard guard(device);
  check_cuda(env, guard.error(), "selecting device " + std::to_string(device));
  // Thread-local: only this thread's unsafe calls break the capture, not another Node thread's.
  check_cuda(env, cudaStreamBeginCapture(stream.handle(), cudaStreamCaptureModeThreadLocal),
             "beginning a graph capture", ErrorCode::Capture);
  cudaGraph_t graph = nullptr;
  try {
    body.Call({});
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
  Spec spec{graph, exec, device};
  return addon_data(env).graph.New({Napi::External<Spec>::New(env, &spec)});
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
