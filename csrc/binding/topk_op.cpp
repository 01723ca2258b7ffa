// The CUDA classes exist only in CUDA builds; CPU-only builds compile this file to nothing.
#if NSA_TOPK_WITH_CUDA
#include "topk_op.h"

#include "addon.h"
#include "device_buffer.h"
#include "device_guard.h"
#include "graph.h"
#include "host_call.h"
#include "stream.h"

namespace nsa::binding {
namespace {

// One device-buffer argument of run(): on the op's device, alive, and at least `need` bytes; its
// range is appended to `ranges` (empty when absent), in the order the fields are read. Absent
// optional arguments are nullptr.
template <typename P>
P* buffer_arg(Napi::Object args, const char* field, int device, int64_t need, bool required,
              std::vector<BufferRange>& ranges) {
  Napi::Value v = args.Get(field);
  if (!required && v.IsUndefined()) {
    ranges.push_back({});
    return nullptr;
  }
  const std::string name = std::string("args.") + field;
  DeviceBuffer& buf = unwrap_arg<DeviceBuffer>(v, name);
  Napi::Env env = args.Env();
  if (buf.device() != device) {
    throw_error(env, ErrorCode::DeviceMismatch,
                "Expected " + name + " on device " + std::to_string(device) + " (the op's) but it is on device " +
                    std::to_string(buf.device()));
  }
  if (int64_t(buf.bytes()) < need) {
    throw_error(env, ErrorCode::InvalidArgument,
                "Expected a DeviceBuffer of at least " + std::to_string(need) + " bytes for " + name +
                    " but received one of " + std::to_string(buf.bytes()) + " bytes");
  }
  ranges.push_back({uintptr_t(buf.data())});
  return static_cast<P*>(buf.data());
}

}  // namespace

Napi::Function TopKOp::Init(Napi::Env env) {
  return DefineClass(env, kJsName,
                     {InstanceAccessor<&TopKOp::Device>("device"),
                      InstanceAccessor<&TopKOp::WorkspaceBytes>("workspaceBytes"),
                      InstanceAccessor<&TopKOp::Disposed>("disposed"),
                      InstanceMethod<&TopKOp::Run>("run"),
                      InstanceMethod<&TopKOp::Capture>("capture"),
                      InstanceMethod<&TopKOp::Rebind>("rebind"),
                      InstanceMethod<&TopKOp::Dispose>("dispose")});
}

TopKOp::TopKOp(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TopKOp>(info) {
  Napi::Env env = info.Env();
  // TopK checked the maxima. The workspace and launch shapes take at least 1 of each and runs are
  // held to them (rows in Run, sort strides in run_topk), so unpack_config's ranges suffice.
  const TopKConfig cfg = unpack_config(info[0], "config");
  const Backend backend = Backend(int_arg(info[1], "backend (Radix = 1 or Sort = 2)", 1, 2));
  const int device = int(int_arg(info[2], "device", 0, 1 << 16));
  const cuda::RadixPath path = cuda::RadixPath(int_arg(info[3], "path", 0, 6));
  DeviceGuard guard(device);
  check_cuda(env, guard.error(), "selecting device " + std::to_string(device));
  if (const std::string why = cuda::unfit_reason(backend, cfg, path, device); !why.empty())
    throw_error(env, ErrorCode::CudaUnavailable, why);
  plan_ = cuda::plan_op(backend, cfg, path, device);
  // A constructor that throws gets no destructor: what was made is released first.
  const auto check = [&](cudaError_t err, const std::string& what) {
    if (err != cudaSuccess) release();
    check_cuda(env, err, what);
  };
  const size_t bytes = plan_.layout.total;
  check(cudaMalloc(&workspace_, bytes), "allocating a " + std::to_string(bytes) + "-byte workspace");
  if (plan_.layout.zeroed) check(cudaMemset(workspace_, 0, plan_.layout.zeroed), "clearing the workspace");
  if (plan_.layout.regions.branches) check(cuda::open_branch(branch_), "making the op's branch stream and events");
}

TopKOp::~TopKOp() { release(); }

cudaError_t TopKOp::release() {
  if (disposed_) return cudaSuccess;
  disposed_ = true;
  if (!workspace_ && !branch_.stream) return cudaSuccess;
  DeviceGuard guard(plan_.device);
  if (guard.error() != cudaSuccess) return guard.error();
  const cudaError_t branch = cuda::close_branch(branch_);
  const cudaError_t freed = workspace_ ? cudaFree(workspace_) : cudaSuccess;
  return freed != cudaSuccess ? freed : branch;
}

Napi::Value TopKOp::Device(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), plan_.device); }
Napi::Value TopKOp::WorkspaceBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(plan_.layout.total));
}
Napi::Value TopKOp::Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_); }

TopKOp::Call TopKOp::unpack_run(Napi::Value value) const {
  Napi::Env env = value.Env();
  check_not_disposed(env, disposed_, kJsName);
  const TopKConfig& cfg = plan_.cfg;
  const int device = plan_.device;
  Napi::Object o = object_arg(value, "args");
  Call call;
  TopKArgs& a = call.args;
  std::vector<BufferRange>& r = call.buffers;
  a.rows = int_arg(o.Get("rows"), "args.rows", 1, cfg.max_rows);
  a.stride = int_arg(o.Get("stride"), "args.stride", 1, INT32_MAX);
  const int64_t rows = a.rows;
  const int64_t dsize = int64_t(dtype_size(cfg.dtype));
  const int64_t row_ints = rows * 4;
  a.scores = buffer_arg<const void>(o, "scores", device, rows * a.stride * dsize, true, r);
  a.lengths = buffer_arg<const int32_t>(o, "lengths", device, row_ints, false, r);
  a.row_starts = buffer_arg<const int32_t>(o, "rowStarts", device, row_ints, false, r);
  a.out_indices = buffer_arg<int32_t>(o, "out", device, rows * cfg.k * 4, true, r);
  if (cfg.write_values) a.out_values = buffer_arg<void>(o, "values", device, rows * cfg.k * dsize, true, r);
  if (cfg.transform == Transform::Ragged) a.offsets = buffer_arg<const int32_t>(o, "offsets", device, row_ints, true, r);
  if (cfg.transform == Transform::PageTable) {
    a.page_table_stride = int_arg(o.Get("pageTableStride"), "args.pageTableStride", 1, INT32_MAX);
    a.page_table_rows = int_arg(o.Get("pageTableRows"), "args.pageTableRows", 1, INT32_MAX);
    a.page_table = buffer_arg<const int32_t>(o, "pageTable", device, a.page_table_rows * a.page_table_stride * 4, true, r);
    a.row_to_batch = buffer_arg<const int32_t>(o, "rowToBatch", device, row_ints, false, r);
    a.page_table_starts = buffer_arg<const int32_t>(o, "pageTableStarts", device, row_ints, false, r);
  }
  call.stream = &unwrap_arg<Stream>(o.Get("stream"), "args.stream");
  call.stream->check_device(env, device, "args.stream");
  return call;
}

void TopKOp::enqueue(Napi::Env env, const Call& call) const {
  DeviceGuard guard(plan_.device);
  check_cuda(env, guard.error(), "selecting device " + std::to_string(plan_.device));
  check_cuda(env,
             cuda::run_topk(plan_, call.args, workspace_, plan_.layout.total, call.stream->handle(),
                            branch_.stream ? &branch_ : nullptr),
             "running top-k");
}

void TopKOp::Run(const Napi::CallbackInfo& info) { enqueue(info.Env(), unpack_run(info[0])); }

Napi::Value TopKOp::Capture(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Call call = unpack_run(info[0]);
  return Graph::capture(env, *call.stream, [&] { enqueue(env, call); }, &call.buffers);
}

Napi::Value TopKOp::Rebind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Graph& graph = unwrap_arg<Graph>(info[0], "graph");
  return Napi::Boolean::New(env, graph.rebind(env, unpack_run(info[1]).buffers));
}

void TopKOp::Dispose(const Napi::CallbackInfo& info) {
  check_cuda(info.Env(), release(), "freeing an op's workspace");
}

}  // namespace nsa::binding

#endif  // NSA_TOPK_WITH_CUDA
