// NsaTopkError from native code: the JS class handed over by init(), codes from the one table
// (csrc/common/error_codes.h), CUDA failures named by their cudaError_t.
#pragma once
#include <napi.h>

#include <string>

#include "../common/error_codes.h"

#if NSA_TOPK_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace nsa::binding {

// new NsaTopkError(message, code); a plain Error with `code` before init() was called.
Napi::Error make_error(Napi::Env env, ErrorCode code, const std::string& message);
[[noreturn]] void throw_error(Napi::Env env, ErrorCode code, const std::string& message);

// Every method of a disposed object refuses with ERR_NSA_TOPK_DISPOSED; `what` names it.
void check_not_disposed(Napi::Env env, bool disposed, const std::string& what);

#if NSA_TOPK_WITH_CUDA
// "cudaErrorMemoryAllocation: out of memory"
std::string cuda_error_message(cudaError_t err);
// "cudaErrorMemoryAllocation: out of memory (while <what>)": how every CUDA failure is reported.
std::string cuda_failure_message(cudaError_t err, const std::string& what);
// Throws `code` (ERR_NSA_TOPK_CUDA unless told) with the CUDA error name and "(while <what>)".
void check_cuda(Napi::Env env, cudaError_t err, const std::string& what, ErrorCode code = ErrorCode::Cuda);
#endif

}  // namespace nsa::binding
