// The CUDA backends exist only in CUDA builds; CPU-only builds compile this file to nothing.
#if NSA_TOPK_WITH_CUDA
#include "device_call.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "../cuda/topk_cuda.h"
#include "addon.h"
#include "async_work.h"
#include "device_guard.h"
#include "host_call.h"

namespace nsa::binding {

// Host <-> device copies go through two pinned chunks of this size, so that copying one chunk
// between the caller's (pageable) array and pinned memory overlaps the DMA of the other.
constexpr size_t kStagingChunk = size_t(8) << 20;
// A lane keeps a device arena up to this size for the next call; a larger one is freed after its call.
constexpr size_t kKeptArenaBytes = size_t(256) << 20;
constexpr size_t kAlign = 256;

// What one call in flight uses, kept for the next call once idle. Every field is touched by one
// thread at a time: the job that took the lane.
struct DeviceLane {
  int device = 0;
  cudaStream_t stream = nullptr;
  void* staging[2] = {nullptr, nullptr};
  // Recorded after the last DMA into or out of each staging chunk; the chunk is free once it completed.
  cudaEvent_t done[2] = {nullptr, nullptr};
  int next = 0;  // the staging chunk the next copy starts with
  void* arena = nullptr;  // device memory: the op's workspace, then the operands
  size_t arena_bytes = 0;

  // Makes the stream, staging and events; all or nothing (a lane without a stream is not open).
  cudaError_t open() {
    DeviceGuard guard(device);
    cudaError_t err = guard.error();
    if (err == cudaSuccess) err = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
    for (int i = 0; i < 2 && err == cudaSuccess; ++i) {
      err = cudaHostAlloc(&staging[i], kStagingChunk, cudaHostAllocDefault);
      if (err == cudaSuccess) err = cudaEventCreateWithFlags(&done[i], cudaEventDisableTiming);
    }
    if (err != cudaSuccess) close();
    return err;
  }

  // Frees everything, once the stream's work is done.
  void close() {
    DeviceGuard guard(device);
    if (stream) cudaStreamSynchronize(stream);
    for (int i = 0; i < 2; ++i) {
      if (staging[i]) cudaFreeHost(staging[i]);
      if (done[i]) cudaEventDestroy(done[i]);
      staging[i] = nullptr;
      done[i] = nullptr;
    }
    if (arena) cudaFree(arena);
    if (stream) cudaStreamDestroy(stream);
    arena = nullptr;
    arena_bytes = 0;
    stream = nullptr;
  }

  ~DeviceLane() { close(); }
};

LanePool::LanePool() = default;
LanePool::~LanePool() = default;

std::unique_ptr<DeviceLane> LanePool::take(int device) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = std::find_if(idle_.begin(), idle_.end(), [&](const auto& lane) { return lane->device == device; });
    if (it != idle_.end()) {
      std::unique_ptr<DeviceLane> lane = std::move(*it);
      idle_.erase(it);
      return lane;
    }
  }
  auto lane = std::make_unique<DeviceLane>();
  lane->device = device;
  return lane;
}

void LanePool::give_back(std::unique_ptr<DeviceLane> lane) {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_.push_back(std::move(lane));
}

namespace {

// A CUDA failure of a job: the error and what the job was doing.
struct Failure {
  cudaError_t err = cudaSuccess;
  std::string what;
};

// Host -> device through the staging chunks: a chunk is reused once the DMA that last read it is done.
cudaError_t upload(DeviceLane& lane, void* dev, const void* host, size_t bytes) {
  for (size_t off = 0; off < bytes; off += kStagingChunk) {
    const int slot = lane.next;
    lane.next ^= 1;
    const size_t n = std::min(kStagingChunk, bytes - off);
    cudaError_t err = cudaEventSynchronize(lane.done[slot]);
    if (err != cudaSuccess) return err;
    std::memcpy(lane.staging[slot], static_cast<const uint8_t*>(host) + off, n);
    err = cudaMemcpyAsync(static_cast<uint8_t*>(dev) + off, lane.staging[slot], n, cudaMemcpyHostToDevice, lane.stream);
    if (err == cudaSuccess) err = cudaEventRecord(lane.done[slot], lane.stream);
    if (err != cudaSuccess) return err;
  }
  return cudaSuccess;
}

// Device -> host through the staging chunks: chunk i is copied out of pinned memory while the DMA
// of chunk i + 1 runs. Returns once `host` holds every byte.
cudaError_t download(DeviceLane& lane, void* host, const void* dev, size_t bytes) {
  int pending = -1;  // the staging chunk holding the previous chunk, not yet copied out
  size_t pending_off = 0, pending_n = 0;
  auto drain = [&]() -> cudaError_t {
    if (pending < 0) return cudaSuccess;
    cudaError_t err = cudaEventSynchronize(lane.done[pending]);
    if (err == cudaSuccess) std::memcpy(static_cast<uint8_t*>(host) + pending_off, lane.staging[pending], pending_n);
    pending = -1;
    return err;
  };
  for (size_t off = 0; off < bytes; off += kStagingChunk) {
    const int slot = lane.next;
    lane.next ^= 1;
    const size_t n = std::min(kStagingChunk, bytes - off);
    cudaError_t err = cudaEventSynchronize(lane.done[slot]);
    if (err == cudaSuccess) {
      err = cudaMemcpyAsync(lane.staging[slot], static_cast<const uint8_t*>(dev) + off, n, cudaMemcpyDeviceToHost, lane.stream);
    }
    if (err == cudaSuccess) err = cudaEventRecord(lane.done[slot], lane.stream);
    if (err == cudaSuccess) err = drain();
    if (err != cudaSuccess) return err;
    pending = slot;
    pending_off = off;
    pending_n = n;
  }
  return drain();
}

constexpr size_t kNoSize = ~size_t(0);
// Sizes saturate at kNoSize (which then fails to allocate) rather than wrap to a small arena.
size_t align_up(size_t x) { return x > kNoSize - kAlign ? kNoSize : (x + kAlign - 1) / kAlign * kAlign; }
size_t add_sat(size_t a, size_t b) { return a > kNoSize - b ? kNoSize : a + b; }

// One topk() call on a CUDA backend, unpacked: plain C++ from here on.
struct DeviceJob {
  HostCall call;
  Backend backend = Backend::Radix;
  int device = 0;
  std::shared_ptr<LanePool> lanes;
};

// Runs the job on `lane` (its device current): the arena holds the op's workspace, then every
// array of the call at kAlign; the inputs are uploaded, the op runs, the outputs come back.
Failure run_on_lane(const DeviceJob& job, DeviceLane& lane) {
  const TopKConfig& cfg = job.call.cfg;
  const TopKArgs& host = job.call.args;
  if (!lane.stream) {
    if (cudaError_t err = lane.open(); err != cudaSuccess) return {err, "setting up a stream and pinned staging"};
  }
  const size_t dsize = dtype_size(cfg.dtype);
  const size_t rows = size_t(host.rows), per_row = rows * sizeof(int32_t), slots = rows * size_t(cfg.k);
  // The inputs, in TopKArgs order: scores, lengths, row starts, offsets, page table, row to
  // batch, page-table starts (absent ones null).
  const void* const sources[] = {host.scores, host.lengths, host.row_starts, host.offsets,
                                 host.page_table, host.row_to_batch, host.page_table_starts};
  const size_t sizes[] = {rows * size_t(host.stride) * dsize, per_row, per_row, per_row,
                          size_t(host.page_table_rows) * size_t(host.page_table_stride) * sizeof(int32_t),
                          per_row, per_row};
  constexpr size_t kInputs = sizeof(sizes) / sizeof(sizes[0]);
  const cuda::OpPlan plan = cuda::plan_op(job.backend, cfg, cuda::RadixPath::Auto, job.device);
  const size_t workspace = plan.layout.total;
  size_t at[kInputs + 2];  // where each input, then the indices, then the values go
  size_t total = align_up(workspace);
  for (size_t i = 0; i < kInputs; ++i) {
    at[i] = total;
    if (sources[i]) total = add_sat(total, align_up(sizes[i]));
  }
  at[kInputs] = total;
  total = add_sat(total, align_up(slots * sizeof(int32_t)));
  at[kInputs + 1] = total;
  if (host.out_values) total = add_sat(total, align_up(slots * dsize));

  if (lane.arena_bytes < total) {
    const cudaError_t freed = lane.arena ? cudaFree(lane.arena) : cudaSuccess;
    lane.arena = nullptr;
    lane.arena_bytes = 0;
    if (freed != cudaSuccess) return {freed, "freeing the previous call's device memory"};
    if (cudaError_t err = cudaMalloc(&lane.arena, total); err != cudaSuccess) {
      return {err, "allocating " + std::to_string(total) + " bytes of device memory"};
    }
    lane.arena_bytes = total;
  }
  auto* base = static_cast<uint8_t*>(lane.arena);
  const void* placed[kInputs] = {};
  for (size_t i = 0; i < kInputs; ++i) {
    if (!sources[i]) continue;
    placed[i] = base + at[i];
    if (cudaError_t err = upload(lane, base + at[i], sources[i], sizes[i]); err != cudaSuccess) {
      return {err, "uploading " + std::to_string(sizes[i]) + " bytes"};
    }
  }
  TopKArgs dev = host;  // the sizes; every pointer is replaced
  dev.scores = placed[0];
  dev.lengths = static_cast<const int32_t*>(placed[1]);
  dev.row_starts = static_cast<const int32_t*>(placed[2]);
  dev.offsets = static_cast<const int32_t*>(placed[3]);
  dev.page_table = static_cast<const int32_t*>(placed[4]);
  dev.row_to_batch = static_cast<const int32_t*>(placed[5]);
  dev.page_table_starts = static_cast<const int32_t*>(placed[6]);
  dev.out_indices = reinterpret_cast<int32_t*>(base + at[kInputs]);
  dev.out_values = host.out_values ? base + at[kInputs + 1] : nullptr;
  // The arena served other configurations before: what this one's calls expect zero is cleared.
  if (plan.layout.zeroed)
    if (cudaError_t err = cudaMemsetAsync(base, 0, plan.layout.zeroed, lane.stream); err != cudaSuccess)
      return {err, "clearing the workspace"};
  if (cudaError_t err = cuda::run_topk(plan, dev, base, workspace, lane.stream);
      err != cudaSuccess) {
    return {err, "running top-k"};
  }
  if (cudaError_t err = download(lane, host.out_indices, dev.out_indices, slots * sizeof(int32_t)); err != cudaSuccess) {
    return {err, "downloading the indices"};
  }
  if (host.out_values) {
    if (cudaError_t err = download(lane, host.out_values, dev.out_values, slots * dsize); err != cudaSuccess) {
      return {err, "downloading the values"};
    }
  }
  return {};
}

// The whole job on the calling thread: takes a lane, runs, waits, puts the lane back.
Failure run_job(const DeviceJob& job) {
  DeviceGuard guard(job.device);
  if (guard.error() != cudaSuccess) return {guard.error(), "selecting device " + std::to_string(job.device)};
  std::unique_ptr<DeviceLane> lane = job.lanes->take(job.device);
  Failure f = run_on_lane(job, *lane);
  // Nothing of the call may still be running when the host arrays are released or the lane reused.
  if (lane->stream) {
    cudaError_t err = cudaStreamSynchronize(lane->stream);
    if (f.err == cudaSuccess && err != cudaSuccess) f = {err, "waiting for top-k"};
  }
  if (lane->arena_bytes > kKeptArenaBytes) {
    const cudaError_t err = cudaFree(lane->arena);
    if (f.err == cudaSuccess && err != cudaSuccess) f = {err, "freeing the call's device memory"};
    lane->arena = nullptr;
    lane->arena_bytes = 0;
  }
  if (f.err != cudaSuccess) cudaGetLastError();  // reported now: the next call must not see it
  job.lanes->give_back(std::move(lane));
  return f;
}

DeviceJob make_job(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceJob job;
  job.call = unpack_call(info[0]);
  job.backend = Backend(int_arg(info[1], "backend (Radix = 1 or Sort = 2)", 1, 2));
  job.device = int(int_arg(info[2], "device", 0, 1 << 16));
  if (const std::string why = cuda::unfit_reason(job.backend, job.call.cfg, cuda::RadixPath::Auto, job.device);
      !why.empty())
    throw_error(env, ErrorCode::CudaUnavailable, why);
  std::shared_ptr<LanePool>& lanes = addon_data(env).lanes;
  if (!lanes) lanes = std::make_shared<LanePool>();
  job.lanes = lanes;
  return job;
}

class CudaTopkWorker : public PromiseWorker {
 public:
  CudaTopkWorker(Napi::Env env, DeviceJob job) : PromiseWorker(env, "nsa-topk:cudaTopk"), job_(std::move(job)) {}

  void Execute() override {
    const Failure f = run_job(job_);
    if (f.err != cudaSuccess) fail(ErrorCode::Cuda, cuda_failure_message(f.err, f.what));
  }

 private:
  DeviceJob job_;
};

}  // namespace

Napi::Value CudaTopk(const Napi::CallbackInfo& info) {
  const Failure f = run_job(make_job(info));
  if (f.err != cudaSuccess) throw_error(info.Env(), ErrorCode::Cuda, cuda_failure_message(f.err, f.what));
  return info.Env().Undefined();
}

Napi::Value CudaTopkAsync(const Napi::CallbackInfo& info) {
  return start_promise(info.Env(), [&] { return new CudaTopkWorker(info.Env(), make_job(info)); });
}

}  // namespace nsa::binding

#endif  // NSA_TOPK_WITH_CUDA
