// Makes `device` current for a scope and restores the previous device after. Never throws (it also
// runs in finalizers): callers check error() where they can report it.
#pragma once
#include <cuda_runtime_api.h>

namespace nsa::binding {

class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = -1;
    if (previous_ != device) {
      error_ = cudaSetDevice(device);
      changed_ = error_ == cudaSuccess && previous_ >= 0;
    }
  }
  ~DeviceGuard() {
    if (changed_) cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

  cudaError_t error() const { return error_; }

 private:
  int previous_ = -1;
  bool changed_ = false;
  cudaError_t error_ = cudaSuccess;
};

}  // namespace nsa::binding
