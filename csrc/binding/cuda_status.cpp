#include "cuda_status.h"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../common/error_codes.h"

#if NSA_TOPK_WITH_CUDA
#include <cuda_runtime_api.h>

#include "../cuda/topk_cuda.h"
#include "args.h"
#include "errors.h"
constexpr bool kCompiledWithCuda = true;
#else
#define NSA_TOPK_CUDA_ARCHS ""
constexpr bool kCompiledWithCuda = false;
#endif

#ifndef NSA_TOPK_BUILD_TYPE
#define NSA_TOPK_BUILD_TYPE "unknown"
#endif
// node-gyp does not pass the compiler's name, so describe it from its own macros there.
#ifndef NSA_TOPK_COMPILER
#if defined(__clang__)
#define NSA_TOPK_COMPILER "Clang " __clang_version__
#elif defined(__GNUC__)
#define NSA_TOPK_COMPILER "GNU " __VERSION__
#else
#define NSA_TOPK_COMPILER "unknown"
#endif
#endif

namespace nsa::binding {

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("napiVersion", NAPI_VERSION);
  o.Set("cuda", kCompiledWithCuda);
  o.Set("cudaArchs", NSA_TOPK_CUDA_ARCHS);
  o.Set("compiler", NSA_TOPK_COMPILER);
  o.Set("buildType", NSA_TOPK_BUILD_TYPE);
  return o;
}

Napi::Value ErrorCodes(const Napi::CallbackInfo& info) {
  Napi::Array codes = Napi::Array::New(info.Env());
  uint32_t i = 0;
#define NSA_X(name, str) codes.Set(i++, str);
  NSA_TOPK_ERROR_CODES(NSA_X)
#undef NSA_X
  return codes;
}

#if NSA_TOPK_WITH_CUDA
namespace {

// Whether the kernels built for NSA_TOPK_CUDA_ARCHS (CMake entries: "90" machine code and PTX,
// "90-real" machine code, "90-virtual" PTX) run on a device of compute capability `cc` (major * 10
// + minor): machine code runs on its own major version at the same or a higher minor, PTX on any
// later device; "90a" entries on their own compute capability only, "100f" ones within their major
// version. lib/archs.ts applies the same rule for `nsa-topk info`.
bool built_for(int cc) {
  for (const char* p = NSA_TOPK_CUDA_ARCHS; *p;) {
    char* end = nullptr;
    const long arch = std::strtol(p, &end, 10);
    if (end == p) {
      ++p;
      continue;
    }
    const char suffix = std::isalpha(static_cast<unsigned char>(*end)) ? *end++ : '\0';
    const bool sass = std::strncmp(end, "-virtual", 8) != 0;
    const bool ptx = std::strncmp(end, "-real", 5) != 0;
    const bool same_major = arch / 10 == cc / 10;
    if (arch <= cc && (suffix == 'a' ? arch == cc : (sass && same_major) || (ptx && (suffix != 'f' || same_major))))
      return true;
    p = end;
  }
  return false;
}

Napi::Object device_info(Napi::Env env, int ordinal, const cudaDeviceProp& p) {
  int cluster = 0;
  cudaDeviceGetAttribute(&cluster, cudaDevAttrClusterLaunch, ordinal);
  Napi::Object d = Napi::Object::New(env);
  d.Set("ordinal", ordinal);
  d.Set("name", p.name);
  d.Set("computeCapability", std::to_string(p.major) + "." + std::to_string(p.minor));
  d.Set("multiProcessors", p.multiProcessorCount);
  d.Set("totalMemory", double(p.totalGlobalMem));
  d.Set("l2CacheBytes", p.l2CacheSize);
  d.Set("maxSharedMemoryPerBlockOptin", double(p.sharedMemPerBlockOptin));
  d.Set("clusterLaunch", cluster != 0);
  return d;
}

}  // namespace

Napi::Value CudaStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object s = Napi::Object::New(env);
  Napi::Array devices = Napi::Array::New(env);
  s.Set("compiled", true);
  s.Set("devices", devices);
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);  // 0 when no driver is installed
  s.Set("runtimeVersion", runtime);
  s.Set("driverVersion", driver);

  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  std::string reason;
  if (err == cudaErrorInsufficientDriver && driver == 0) {
    reason = "no CUDA driver (" + cuda_error_message(err) + ")";
  } else if (err == cudaErrorInsufficientDriver) {
    reason = "driver too old (" + cuda_error_message(err) + ")";
  } else if (err == cudaErrorNoDevice) {
    reason = "no CUDA device (" + cuda_error_message(err) + ")";
  } else if (err != cudaSuccess) {
    reason = cuda_error_message(err);
  }
  cudaGetLastError();  // a failed probe must not leak into the next CUDA call

  bool usable = false;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    cudaError_t perr = cudaGetDeviceProperties(&p, i);
    if (perr != cudaSuccess) {
      reason = cuda_error_message(perr);
      cudaGetLastError();
      continue;
    }
    devices.Set(uint32_t(devices.Length()), device_info(env, i, p));
    usable = usable || built_for(p.major * 10 + p.minor);
  }
  if (count > 0 && !usable && reason.empty()) {
    reason = "no device the kernels were built for (CUDA architectures " NSA_TOPK_CUDA_ARCHS
             "; NSA_TOPK_CUDA_ARCHS picks them at build time)";
  }
  s.Set("usable", usable);
  if (!usable) s.Set("reason", reason);
  return s;
}

Napi::Value Tuning(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  for (const auto& [name, value] : cuda::tuning_constants()) o.Set(name, double(value));
  return o;
}

namespace {

// A device as the path choice knows it: { computeCapability: "9.0", multiProcessors,
// maxSharedMemoryPerBlockOptin, clusterLaunch } (cudaStatus().devices' fields), and optionally
// clustersAtOnce (deviceCaps(): the most clusters of 1, 2, 4, 8 and 16 CTAs at once; -1, or
// absent: not known).
cuda::DeviceCaps caps_arg(Napi::Value value) {
  Napi::Env env = value.Env();
  const Napi::Object d = object_arg(value, "device");
  const Napi::Value cc = d.Get("computeCapability");
  int major = 0, minor = 0;
  if (!cc.IsString() || std::sscanf(cc.As<Napi::String>().Utf8Value().c_str(), "%d.%d", &major, &minor) != 2)
    throw_invalid(env, "a string like \"9.0\"", "device.computeCapability", cc);
  cuda::DeviceCaps caps;
  caps.cc = major * 10 + minor;
  caps.sms = int(int_arg(d.Get("multiProcessors"), "device.multiProcessors", 1, 1 << 20));
  caps.smem_optin = int(int_arg(d.Get("maxSharedMemoryPerBlockOptin"), "device.maxSharedMemoryPerBlockOptin", 0, 1 << 30));
  caps.clusters = bool_arg(d.Get("clusterLaunch"), "device.clusterLaunch");
  if (d.Has("clustersAtOnce") && !d.Get("clustersAtOnce").IsUndefined()) {
    const Napi::Value v = d.Get("clustersAtOnce");
    if (!v.IsArray() || v.As<Napi::Array>().Length() > uint32_t(cuda::DeviceCaps::kClusterSizes))
      throw_invalid(env, "an array of at most 5 counts", "device.clustersAtOnce", v);
    const Napi::Array a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i)
      caps.clusters_at_once[i] = int(int_arg(a.Get(i), "device.clustersAtOnce[" + std::to_string(i) + "]", -1, 1 << 20));
  }
  return caps;
}

// An op's shape as the path choice takes it: { maxRows, maxLen, k, sorted?, graphSafe? }.
TopKConfig op_arg(Napi::Value value) {
  const Napi::Object op = object_arg(value, "op");
  TopKConfig cfg;
  cfg.max_rows = int_arg(op.Get("maxRows"), "op.maxRows", 1, INT32_MAX);
  cfg.max_len = int_arg(op.Get("maxLen"), "op.maxLen", 1, INT32_MAX);
  cfg.k = int32_t(int_arg(op.Get("k"), "op.k", 1, INT32_MAX));
  cfg.sorted = op.Has("sorted") && bool_arg(op.Get("sorted"), "op.sorted");
  cfg.graph_safe = op.Has("graphSafe") && bool_arg(op.Get("graphSafe"), "op.graphSafe");
  return cfg;
}

cuda::RadixPath path_arg(Napi::Value value) { return cuda::RadixPath(int_arg(value, "path", 0, 6)); }

Napi::Object path_choice(Napi::Env env, const cuda::PathChoice& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("kernel", int32_t(c.kernel));
  o.Set("ctasPerRow", c.plan.cluster);
  o.Set("threads", c.threads);
  o.Set("regionWords", c.region_words);
  o.Set("chunkCap", c.chunk_cap);
  o.Set("candCap", c.cand_cap);
  o.Set("smemBytes", double(c.smem_bytes));
  o.Set("splitLength", double(c.split_length));
  o.Set("chunks", c.chunks);
  return o;
}

}  // namespace

Napi::Value DeviceCapsOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  cudaGetLastError();
  if (err != cudaSuccess || count == 0)
    throw_error(env, ErrorCode::CudaUnavailable, "deviceCaps: no CUDA device (" + cuda_error_message(err) + ")");
  const int ordinal = int(int_arg(info[0], "ordinal", 0, count - 1));
  const cuda::DeviceCaps& c = cuda::device_caps(ordinal);
  if (c.cc == 0) throw_error(env, ErrorCode::Cuda, "deviceCaps: device " + std::to_string(ordinal) + " could not be queried");
  Napi::Object d = Napi::Object::New(env);
  d.Set("computeCapability", std::to_string(c.cc / 10) + "." + std::to_string(c.cc % 10));
  d.Set("multiProcessors", c.sms);
  d.Set("maxSharedMemoryPerBlockOptin", c.smem_optin);
  d.Set("clusterLaunch", c.clusters);
  Napi::Array at_once = Napi::Array::New(env, cuda::DeviceCaps::kClusterSizes);
  for (uint32_t i = 0; i < uint32_t(cuda::DeviceCaps::kClusterSizes); ++i) at_once.Set(i, c.clusters_at_once[i]);
  d.Set("clustersAtOnce", at_once);
  return d;
}

Napi::Value ChoosePath(const Napi::CallbackInfo& info) {
  const cuda::DeviceCaps caps = caps_arg(info[0]);
  const Napi::Object shape = object_arg(info[1], "shape");
  const cuda::PathChoice c = cuda::choose_path(path_arg(info[2]), int_arg(shape.Get("rows"), "shape.rows", 1),
                                               int_arg(shape.Get("maxLen"), "shape.maxLen", 1, INT32_MAX),
                                               int32_t(int_arg(shape.Get("k"), "shape.k", 1, INT32_MAX)),
                                               shape.Has("sorted") && bool_arg(shape.Get("sorted"), "shape.sorted"), caps);
  return path_choice(info.Env(), c);
}

Napi::Value CallPath(const Napi::CallbackInfo& info) {
  const cuda::DeviceCaps caps = caps_arg(info[0]);
  const TopKConfig cfg = op_arg(info[1]);
  const int64_t rows = int_arg(info[3], "rows", 1, cfg.max_rows);
  const int64_t stride = int_arg(info[4], "stride", 1, INT32_MAX);
  return path_choice(info.Env(), cuda::call_path(cfg, path_arg(info[2]), rows, stride, caps));
}

Napi::Value OpRegions(const Napi::CallbackInfo& info) {
  const cuda::OpRegions r = cuda::op_regions(Backend::Radix, op_arg(info[1]), path_arg(info[2]), caps_arg(info[0]));
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("spreadRows", double(r.spread_rows));
  o.Set("chunkSlots", double(r.chunk_slots));
  o.Set("branches", r.branches);
  return o;
}

#else

Napi::Value CudaStatus(const Napi::CallbackInfo& info) {
  Napi::Object s = Napi::Object::New(info.Env());
  s.Set("compiled", false);
  s.Set("usable", false);
  s.Set("reason", "built without CUDA");
  s.Set("devices", Napi::Array::New(info.Env()));
  return s;
}

Napi::Value Tuning(const Napi::CallbackInfo& info) { return Napi::Object::New(info.Env()); }

#endif

}  // namespace nsa::binding
