// Host API of the CUDA backends: the only header the N-API layer includes from csrc/cuda.
// Everything here is plain C++ (no CUDA syntax), so the binding compiles with the host compiler.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../common/problem.h"

namespace nsa::cuda {

// Which kernel covers a row. Auto is the documented heuristic (choose_path); Block forces the
// radix kernel with one CTA per row streaming from global memory, Cluster its largest cluster of
// CTAs with shared-memory caching, Batch the batch kernel (one CTA per row, each score read
// once), Register the register kernel (one CTA per row holding the row in registers; rows
// longer than its registers hold take the batch agent in the same kernel) and Spread the spread
// kernels (a row over a grid of register CTAs, a chunk each, in three kernels) and Chunked the
// chunked path (each row cut into chunks that the batch kernel takes as rows, then a top-k of
// their candidates), for benchmarking and tests. A forced path the device cannot run (Batch,
// Register, Spread, Chunked: k above the policy's maximum or too little shared memory per CTA;
// Cluster: no thread-block clusters) is Auto.
enum class RadixPath : int32_t { Auto = 0, Block = 1, Cluster = 2, Batch = 3, Register = 4, Spread = 5, Chunked = 6 };

// A radix launch: CTAs per row (1, 2, 4 or 8), whether CTAs cache their chunk of the row, and
// whether each CTA has an SM to itself (rows x cluster <= SMs), so that its cache may take up to
// kMaxChunkCacheAlone keys and kMaxSmemPerCta of shared memory.
struct RadixPlan {
  int cluster;
  bool cache;
  bool alone = false;
};

// What the path choice knows of a device: queried once per device by dispatch.cu, or described
// by a test of the choice (the addon's choosePath).
struct DeviceCaps {
  int cc = 0;             // compute capability, major * 10 + minor; 0: not known
  int sms = 1;            // streaming multiprocessors
  int smem_optin = 0;     // the most shared memory, static and dynamic, one CTA may opt in to
  bool clusters = false;  // thread-block clusters and distributed shared memory (sm_90 on)
  // The most clusters of 1 << i CTAs (i < kClusterSizes), a CTA an SM, resident at once
  // (cudaOccupancyMaxActiveClusters): a cluster runs within one GPC, so SMs that whole clusters
  // do not fill are left over. -1: not known, taken as sms >> i; 0: none fits.
  static constexpr int kClusterSizes = 5;  // 1 to 16 CTAs
  int clusters_at_once[kClusterSizes] = {-1, -1, -1, -1, -1};
};

// The device's capabilities as the path choice takes them: queried once per device (the first
// call makes the device current for the clusters' occupancy query, then restores the current one).
const DeviceCaps& device_caps(int device);

enum class PathKernel : int32_t { None = 0, Batch = 1, Radix = 2, Register = 3, Spread = 4, Chunked = 5 };

// The kernel that takes a call, and the shape of its CTAs.
struct PathChoice {
  PathKernel kernel = PathKernel::None;  // None: no kernel of this build fits the device
  int32_t threads = 0;                   // threads per CTA (the policy of the batch and register kernels)
  RadixPlan plan = {1, false};           // Radix, Register: CTAs per row (Radix's cache: as planned; chunk_cap says)
  int32_t region_words = 0;              // Radix: RadixParams' shared-memory shape
  int32_t chunk_cap = 0;
  int32_t cand_cap = 0;
  size_t smem_bytes = 0;                 // shared memory per CTA, static and dynamic
  int64_t split_length = 0;              // Spread: rows of at most this many scores on the device take the
                                         // radix kernel planned for this maxLen, beside the spread kernels,
                                         // in calls with lengths or row starts given a Branch; 0: none
  int32_t chunks = 0;                    // Chunked: chunks per row (4, 8 or 16; the batch kernel's policy
                                         // in `threads`)
};

// The documented path heuristic (dispatch.cu), from the host-known row count (maxRows in
// graph-safe mode), the op's maxLen, k, whether its output is sorted and the device's
// capabilities; never from device data.
PathChoice choose_path(RadixPath path, int64_t rows, int64_t max_len, int32_t k, bool sorted, const DeviceCaps& caps);

// Why no kernel of this build can take the op's calls on `device` (empty when one can): checked
// when an op is made, so that no call launches a kernel that does not fit the device.
std::string unfit_reason(Backend backend, const TopKConfig& cfg, RadixPath path, int device);

// What an op's workspace must hold for the calls it may take (op_regions): the most rows of a
// call on the spread path, the most chunks of one on the chunked path (0: no call takes it), and
// whether a call may split its rows by length (then the op holds a Branch).
struct OpRegions {
  int64_t spread_rows = 0;
  int64_t chunk_slots = 0;
  bool branches = false;
};
OpRegions op_regions(Backend backend, const TopKConfig& cfg, RadixPath path, const DeviceCaps& caps);

// Where an op's workspace holds each region (byte offsets), sized for its maxima and path. Every
// region is written before it is read within one call, but for the spread path's histograms,
// flags, bounds, cursors and shortlists, [0, zeroed): zero when the workspace is allocated; all
// but the shortlists left zero by every call (agent_spread_topk.cuh; a split CTA reads its
// chunk's whole shortlist, past the length count() wrote this call). An op whose calls may take
// the spread path has its regions first, then those of the chunked path (an op whose calls may
// take it), then those of the other paths; the chunked path's top-k of the candidates takes the
// radix path's regions of the op (the same rows and k).
struct WorkspaceLayout {
  size_t spread_hist = 0;       // uint32 [rows, bins]
  size_t spread_status = 0;     // uint32 [rows, chunks]
  size_t spread_bounds = 0;     // uint32 [rows, chunks, 2]
  size_t spread_cursor = 0;     // uint32 [rows]
  size_t spread_shortlist = 0;  // uint32 [rows, chunks, 2, kShortlist]
  size_t spread_lists = 0;      // uint32 [rows, chunks, 4]: each chunk's record
  size_t spread_above = 0;      // uint32 [rows, 2, kMaxK]
  size_t spread_cand = 0;       // uint32 [rows, 2, kCandidates]
  uint32_t spread_chunks = 0;   // chunks a row in the spread regions
  size_t zeroed = 0;
  size_t chunk_positions = 0;  // int32 [slots, k]: each chunk's candidates, positions in the chunk
  size_t chunk_values = 0;     // dtype [slots, k]: their scores
  size_t chunk_counts = 0;     // int32 [rows]: candidates per row
  size_t positions = 0;        // int32 [rows, k]: radix selections awaiting the sort (sorted output)
  size_t words_a = 0;          // uint64 [rows, seg]: composites (or positions), double buffer A
  size_t words_b = 0;          // uint64 [rows, seg]: double buffer B
  size_t offsets = 0;          // int32 [rows + 1]: uniform segment offsets, relative to a sort chunk
  size_t temp = 0;             // CUB temporary storage
  size_t temp_bytes = 0;
  size_t total = 0;
  int64_t seg = 0;  // words per row in words_a/b
  OpRegions regions;  // the calls it is sized for (op_regions)
};

// The path a call of `rows` rows at `stride` takes on an op of `cfg` (run_radix): the path of its
// shape rows (maxRows in graph-safe mode) at its span (the shorter of maxLen and the stride).
PathChoice call_path(const TopKConfig& cfg, RadixPath path, int64_t rows, int64_t stride, const DeviceCaps& caps);

// An op's plan, made once per op (plan_op): its configuration, device and path, and the workspace
// layout its maxima take (with the regions it is sized for). Calls (run_topk) choose only their
// own path from it.
struct OpPlan {
  Backend backend = Backend::Radix;
  TopKConfig cfg;
  RadixPath path = RadixPath::Auto;
  int device = 0;
  WorkspaceLayout layout;  // layout.total bytes of workspace, the first layout.zeroed of them zero
};
OpPlan plan_op(Backend backend, const TopKConfig& cfg, RadixPath path, int device);

// A second stream of the op's device and two events, for calls that fork a branch off their stream
// and join it again (PathChoice::split_length; an op whose regions say `branches` holds one); in a
// stream capture, a fork and a join of the graph.
struct Branch {
  cudaStream_t stream = nullptr;
  cudaEvent_t fork = nullptr, join = nullptr;
};
// Makes one on the current device (closed again on failure); closes one (what is null is skipped).
cudaError_t open_branch(Branch& b);
cudaError_t close_branch(Branch& b);
// Enqueue one top-k on `stream` (and, where it splits, on `branch`, joined back into `stream`). No
// host synchronization, no allocation, no host read of device data: safe inside a CUDA graph
// capture. Returns the first CUDA error met (launch or config); cudaErrorInvalidDevice when the
// current device is not the plan's, cudaErrorInvalidValue for a call past the op's maxima.
cudaError_t run_topk(const OpPlan& plan, const TopKArgs& args, void* workspace, size_t workspace_size,
                     cudaStream_t stream, const Branch* branch = nullptr);

// Enqueue a plain read of `bytes` bytes at `data` (sum into a tiny device sink inside
// `workspace`, at least 256 bytes): the memory-bandwidth reference that `nsa-topk bench` times
// beside each top-k.
cudaError_t run_read_probe(const void* data, size_t bytes, void* workspace, cudaStream_t stream);

// Enqueue a GPU-side wait of `nanoseconds` on `stream` (bench: lets the host enqueue a batch of
// timed calls before the GPU starts on them).
cudaError_t run_hold(uint64_t nanoseconds, cudaStream_t stream);

// The tuning constants in force, for `nsa-topk info` (name, value).
std::vector<std::pair<std::string, long long>> tuning_constants();

}  // namespace nsa::cuda
