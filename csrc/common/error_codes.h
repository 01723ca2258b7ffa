// The one table of stable error codes. lib/errors.ts mirrors it and a test checks that the two
// agree (native.errorCodes()). Add codes at the end; never rename one.
#pragma once

#define NSA_TOPK_ERROR_CODES(X)                                                          \
  X(InvalidArgument, "ERR_NSA_TOPK_INVALID_ARGUMENT")   /* a bad value for a named argument */ \
  X(UnknownBackend, "ERR_NSA_TOPK_UNKNOWN_BACKEND")     /* a backend name we do not have */   \
  X(UnknownOption, "ERR_NSA_TOPK_UNKNOWN_OPTION")       /* an option key we do not know */    \
  X(CudaUnavailable, "ERR_NSA_TOPK_CUDA_UNAVAILABLE")   /* not compiled in, no device, old driver */ \
  X(Cuda, "ERR_NSA_TOPK_CUDA")                          /* a CUDA call failed; message has its name */ \
  X(Disposed, "ERR_NSA_TOPK_DISPOSED")                  /* a disposed buffer, stream, op or graph */ \
  X(DeviceMismatch, "ERR_NSA_TOPK_DEVICE_MISMATCH")     /* a buffer on another device than the op */ \
  X(LoadFailed, "ERR_NSA_TOPK_LOAD_FAILED")             /* no addon binary could be loaded */ \
  X(Capture, "ERR_NSA_TOPK_CAPTURE")                    /* a graph capture went wrong */ \
  X(NotDeviceMemory, "ERR_NSA_TOPK_NOT_DEVICE_MEMORY")  /* a pointer to host or unknown memory */

namespace nsa {
enum class ErrorCode : int {
#define NSA_X(name, str) name,
  NSA_TOPK_ERROR_CODES(NSA_X)
#undef NSA_X
};

inline const char* error_code_string(ErrorCode c) {
  switch (c) {
#define NSA_X(name, str) \
  case ErrorCode::name:  \
    return str;
    NSA_TOPK_ERROR_CODES(NSA_X)
#undef NSA_X
  }
  return "ERR_NSA_TOPK_UNKNOWN";
}
}  // namespace nsa
