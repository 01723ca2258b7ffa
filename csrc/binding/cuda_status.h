// What the addon was built with and what it finds at run time: buildInfo(), cudaStatus(),
// tuning(), errorCodes(), and (CUDA builds) deviceCaps(), choosePath(), callPath() and
// opRegions(). Available in every build; CUDA-only parts say so.
#pragma once
#include <napi.h>

namespace nsa::binding {

Napi::Value BuildInfo(const Napi::CallbackInfo& info);
Napi::Value CudaStatus(const Napi::CallbackInfo& info);
Napi::Value Tuning(const Napi::CallbackInfo& info);
Napi::Value ErrorCodes(const Napi::CallbackInfo& info);

#if NSA_TOPK_WITH_CUDA
// deviceCaps(ordinal): what the path choice knows of a device (choosePath's first argument), with
// clustersAtOnce; the first query of a device with clusters creates its context.
Napi::Value DeviceCapsOf(const Napi::CallbackInfo& info);
// choosePath(device, shape, path): the kernel and CTA shape choose_path picks for a shape on a
// device described by its capabilities (tests of the choice on every GPU class, on any machine).
Napi::Value ChoosePath(const Napi::CallbackInfo& info);
// callPath(device, op, path, rows, stride): the path a call of `rows` rows at `stride` takes on a
// radix op of `op` ({ maxRows, maxLen, k, sorted?, graphSafe? }); opRegions(device, op, path):
// what that op's workspace holds ({ spreadRows, chunkSlots, branches }). Tests hold every call to
// its op's regions.
Napi::Value CallPath(const Napi::CallbackInfo& info);
Napi::Value OpRegions(const Napi::CallbackInfo& info);
#endif

}  // namespace nsa::binding
