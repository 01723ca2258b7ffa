// The CPU entry points: cpuTopk (synchronous) and cpuTopkAsync (libuv worker, Promise). The JS
// call object is unpacked into plain structs on the main thread, before any work starts.
#pragma once
#include <napi.h>

#include <string>

#include "../common/problem.h"

namespace nsa::binding {

// NativeConfig -> TopKConfig (also used by TopKOp); `name` prefixes the field names in errors.
TopKConfig unpack_config(Napi::Value v, const std::string& name);

Napi::Value CpuTopk(const Napi::CallbackInfo& info);
Napi::Value CpuTopkAsync(const Napi::CallbackInfo& info);

}  // namespace nsa::binding
