// topk() and topkSync() on a CUDA backend: the whole call (device memory, upload, run, download)
// is one plain C++ job over the unpacked host call, so topk() runs all of it on a libuv worker
// and the event loop never waits on the GPU, an allocation or a copy; topkSync runs the same job
// on the calling thread. Each job borrows a lane (a stream, pinned staging, a device arena) from
// a per-environment pool, so later calls reuse what earlier ones set up.
#pragma once
#include <napi.h>

#include <memory>
#include <mutex>
#include <vector>

namespace nsa::binding {

struct DeviceLane;

// The lanes of one environment. Shared with the jobs in flight, so a worker thread that finishes
// after its environment was torn down still has somewhere to put its lane back.
class LanePool {
 public:
  LanePool();
  ~LanePool();  // frees every lane (their work has completed: a lane is only here when idle)
  // Takes an idle lane of `device`, or a new one that the job opens.
  std::unique_ptr<DeviceLane> take(int device);
  void give_back(std::unique_ptr<DeviceLane> lane);

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<DeviceLane>> idle_;
};

// (call: NativeHostCall, backend, device) -> undefined: the job on the calling thread.
Napi::Value CudaTopk(const Napi::CallbackInfo& info);
// (call, backend, device) -> Promise<void>: the job on a libuv worker.
Napi::Value CudaTopkAsync(const Napi::CallbackInfo& info);

}  // namespace nsa::binding
