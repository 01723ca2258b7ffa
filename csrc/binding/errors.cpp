#include "errors.h"

#include "addon.h"

namespace nsa::binding {

Napi::Error make_error(Napi::Env env, ErrorCode code, const std::string& message) {
  const char* code_string = error_code_string(code);
  AddonData& data = addon_data(env);
  if (!data.error_class.IsEmpty()) {
    Napi::Object err = data.error_class.New({Napi::String::New(env, message), Napi::String::New(env, code_string)});
    return Napi::Error(env, err);
  }
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code_string));
  return err;
}

void throw_error(Napi::Env env, ErrorCode code, const std::string& message) {
  throw make_error(env, code, message);
}

void check_not_disposed(Napi::Env env, bool disposed, const std::string& what) {
  if (disposed) throw_error(env, ErrorCode::Disposed, what + " has been disposed");
}

#if NSA_TOPK_WITH_CUDA
std::string cuda_error_message(cudaError_t err) {
  return std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
}

std::string cuda_failure_message(cudaError_t err, const std::string& what) {
  return cuda_error_message(err) + " (while " + what + ")";
}

void check_cuda(Napi::Env env, cudaError_t err, const std::string& what, ErrorCode code) {
  if (err == cudaSuccess) return;
  // Reported now, so clear a non-sticky error rather than let the next unrelated call see it.
  cudaGetLastError();
  throw_error(env, code, cuda_failure_message(err, what));
}
#endif

}  // namespace nsa::binding
