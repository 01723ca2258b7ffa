// What the addon was built with and what it finds at run time: buildInfo(), cudaStatus(),
// tuning(), errorCodes(), and (CUDA builds) choosePath(). Available in every build; CUDA-only
// parts say so.
#pragma once
#include <napi.h>

namespace nsa::binding {

Napi::Value BuildInfo(const Napi::CallbackInfo& info);
Napi::Value CudaStatus(const Napi::CallbackInfo& info);
Napi::Value Tuning(const Napi::CallbackInfo& info);
Napi::Value ErrorCodes(const Napi::CallbackInfo& info);

#if NSA_TOPK_WITH_CUDA
// choosePath(device, shape, path): the kernel and CTA shape choose_path picks for a shape on a
// device described by its capabilities (tests of the choice on every GPU class, on any machine).
Napi::Value ChoosePath(const Napi::CallbackInfo& info);
#endif

}  // namespace nsa::binding
