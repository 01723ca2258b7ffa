// The CPU entry points: cpuTopk (synchronous) and cpuTopkAsync (libuv worker, Promise). The JS
// call object is unpacked into plain structs on the main thread, before any work starts (the CUDA
// backends' host-array calls, device_call, unpack it the same way).
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "../common/problem.h"

namespace nsa::binding {

// One NativeHostCall, unpacked. `keep` holds the typed arrays whose memory `args` points into, so
// an async call keeps them alive until it settles (released on the main thread with the worker).
struct HostCall {
  TopKConfig cfg;
  TopKArgs args;
  int threads = 0;
  bool baseline = false;
  std::vector<Napi::ObjectReference> keep;
};

// NativeHostCall -> HostCall, every field checked against the config (sizes, element types).
HostCall unpack_call(Napi::Value value);

// NativeConfig -> TopKConfig (also used by TopKOp); `name` prefixes the field names in errors.
TopKConfig unpack_config(Napi::Value v, const std::string& name);

Napi::Value CpuTopk(const Napi::CallbackInfo& info);
Napi::Value CpuTopkAsync(const Napi::CallbackInfo& info);

}  // namespace nsa::binding
