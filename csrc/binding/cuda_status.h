// What the addon was built with and what it finds at run time: buildInfo(), cudaStatus(),
// tuning(), errorCodes(). Available in every build; CUDA-only parts say so.
#pragma once
#include <napi.h>

namespace nsa::binding {

Napi::Value BuildInfo(const Napi::CallbackInfo& info);
Napi::Value CudaStatus(const Napi::CallbackInfo& info);
Napi::Value Tuning(const Napi::CallbackInfo& info);
Napi::Value ErrorCodes(const Napi::CallbackInfo& info);

}  // namespace nsa::binding
