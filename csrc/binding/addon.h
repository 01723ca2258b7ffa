// Per-environment state of the addon (worker threads load it once each, so nothing is global) and
// the one way a wrapped native object is taken from an argument.
#pragma once
#include <napi.h>

#include <map>
#include <memory>
#include <string>

#include "args.h"
#include "errors.h"

#if NSA_TOPK_WITH_CUDA
#include "device_call.h"
#include "staging.h"
#endif

namespace nsa::binding {

struct AddonData {
  Napi::FunctionReference error_class;  // NsaTopkError, from init()
#if NSA_TOPK_WITH_CUDA
  // Constructors used from native code (wrap(), Graph.capture()).
  Napi::FunctionReference device_buffer;
  Napi::FunctionReference stream;
  Napi::FunctionReference graph;
  // readProbe's 256-byte device sink per device ordinal, allocated on first use.
  std::map<int, void*> probe_sinks;
  // The lanes of topk()/topkSync() on CUDA backends, made on first use, shared with jobs in flight.
  std::shared_ptr<LanePool> lanes;
  // The pinned chunks of copyFromAsync/copyToAsync, made on first use.
  std::unique_ptr<StagingPool> staging;
  ~AddonData();  // frees the sinks when the environment is torn down
#endif
};

AddonData& addon_data(Napi::Env env);

// The wrapped T behind argument `v`, refused with INVALID_ARGUMENT when `v` is not a T (by its type
// tag) and with DISPOSED when it was disposed; `name` names the argument in both messages.
template <typename T>
T& unwrap_arg(Napi::Value v, const std::string& name) {
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&T::kTypeTag)) {
    throw_invalid(v.Env(), std::string("a ") + T::kJsName, name, v);
  }
  T& self = *T::Unwrap(v.As<Napi::Object>());
  check_not_disposed(v.Env(), self.disposed(), std::string(T::kJsName) + " " + name);
  return self;
}

}  // namespace nsa::binding
