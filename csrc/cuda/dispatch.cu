// Dispatch of the CUDA backends: workspace layout, the radix path choice, grid sizing and the
// launches. Runtime options become template arguments here and nowhere else.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <cub/device/device_segmented_radix_sort.cuh>

#include "kernels/batch_topk.cuh"
#include "kernels/chunk_rows.cuh"
#include "kernels/radix_select.cuh"
#include "kernels/hold.cuh"
#include "kernels/read_probe.cuh"
#include "kernels/register_topk.cuh"
#include "kernels/sort_rows.cuh"
#include "kernels/spread_topk.cuh"
#include "topk_cuda.h"
#include "tuning.h"
#include "tuning/batch_topk_policy.cuh"

namespace nsa::cuda {
namespace {

constexpr size_t kAlign = 256;
// Sizes saturate at SIZE_MAX instead of wrapping: an op whose maxima need more than 64 bits of
// workspace then fails to allocate it, rather than getting a wrapped-around small one that calls
// within those maxima would overrun.
constexpr size_t kNoSize = std::numeric_limits<size_t>::max();
constexpr size_t mul_sat(size_t a, size_t b) { return b != 0 && a > kNoSize / b ? kNoSize : a * b; }
constexpr size_t add_sat(size_t a, size_t b) { return a > kNoSize - b ? kNoSize : a + b; }
constexpr size_t align_up(size_t x) { return x > kNoSize - kAlign ? kNoSize : (x + kAlign - 1) / kAlign * kAlign; }

// CUB counts items in int: a sort covers at most this many rows of `seg` at once.
int64_t rows_per_sort(int64_t seg) {
  return std::max<int64_t>(1, int64_t(std::numeric_limits<int>::max()) / std::max<int64_t>(seg, 1));
}

// The spread path's agent (its workspace and shared memory are the same for every dtype and
// tie-break).
using SpreadPolicy = RegisterTopKPolicy900FewRows;
template <class Traits, bool kLarge>
using SpreadAgent = AgentSpreadTopK<SpreadPolicy, Traits, kLarge>;
using SomeSpreadAgent = SpreadAgent<DTypeTraits<DType::F32>, false>;
// The spread kernels' chunks of a row of `length` scores.
constexpr int64_t spread_chunks(int64_t length) {
  return (length + SomeSpreadAgent::kCapacity - 1) / SomeSpreadAgent::kCapacity;
}

size_t sort_temp_bytes(int64_t rows, int64_t seg, int key_bits) {
  const int64_t chunk = std::min(rows, rows_per_sort(seg));
  cub::DoubleBuffer<uint64_t> keys(nullptr, nullptr);
  size_t bytes = 0;
  cub::DeviceSegmentedRadixSort::SortKeysDescending(nullptr, bytes, keys, int(chunk * seg), int(chunk),
                                                    static_cast<int*>(nullptr), static_cast<int*>(nullptr), 0,
                                                    key_bits);
  return bytes;
}

// The workspace layout of an op's maxima and regions (op_regions).
WorkspaceLayout make_layout(Backend backend, const TopKConfig& cfg, const OpRegions& regions) {
  WorkspaceLayout l;
  l.regions = regions;
  const int64_t spread_rows = regions.spread_rows, chunk_slots = regions.chunk_slots;
  const int64_t rows = std::max<int64_t>(cfg.max_rows, 1), k = cfg.k;
  const int key_bits = 32 + int(dtype_size(cfg.dtype) * 8);
  size_t at = 0;
  auto take = [&](size_t bytes) {
    const size_t here = at;
    at = add_sat(at, align_up(bytes));
    return here;
  };
  if (spread_rows > 0) {
    using Agent = SomeSpreadAgent;
    const size_t srows = size_t(spread_rows);
    const int64_t chunks = std::max<int64_t>(1, spread_chunks(cfg.max_len));
    l.spread_chunks = uint32_t(std::min<int64_t>(chunks, std::numeric_limits<uint32_t>::max()));
    l.spread_hist = take(mul_sat(srows, Agent::Bins::kBins * sizeof(uint32_t)));
    l.spread_status = take(mul_sat(srows * size_t(chunks), sizeof(uint32_t)));
    l.spread_bounds = take(mul_sat(srows * size_t(chunks), 2 * sizeof(uint32_t)));
    l.spread_cursor = take(mul_sat(srows, sizeof(uint32_t)));
    l.spread_shortlist = take(mul_sat(srows * size_t(chunks), 2 * Agent::kShortlist * sizeof(uint32_t)));
    l.zeroed = at;
    l.spread_lists = take(mul_sat(srows * size_t(chunks), 4 * sizeof(uint32_t)));
    l.spread_above = take(mul_sat(srows, 2 * Agent::kMaxK * sizeof(uint32_t)));
    l.spread_cand = take(mul_sat(srows, 2 * Agent::kCandidates * sizeof(uint32_t)));
  }
  if (chunk_slots > 0) {
    const size_t candidates = mul_sat(size_t(chunk_slots), size_t(k));
    l.chunk_positions = take(mul_sat(candidates, sizeof(int32_t)));
    l.chunk_values = take(mul_sat(candidates, dtype_size(cfg.dtype)));
    l.chunk_counts = take(mul_sat(size_t(rows), sizeof(int32_t)));
  }
  l.total = at;
  if (backend == Backend::Radix && !cfg.sorted) return l;  // writes straight to the outputs
  if (backend == Backend::Radix) {
    l.seg = k;
    l.positions = take(mul_sat(size_t(rows) * size_t(k), sizeof(int32_t)));
  } else {
    // The sort backend sorts whole rows, then (ordered unsorted output) the first k by position.
    l.seg = std::max<int64_t>(cfg.max_len, k);
  }
  l.words_a = take(mul_sat(size_t(rows) * size_t(l.seg), sizeof(uint64_t)));
  l.words_b = take(mul_sat(size_t(rows) * size_t(l.seg), sizeof(uint64_t)));
  l.offsets = take(size_t(std::min(rows, rows_per_sort(l.seg)) + 1) * sizeof(int32_t));
  l.temp_bytes = std::max(sort_temp_bytes(rows, l.seg, key_bits), sort_temp_bytes(rows, k, 64));
  l.temp = take(l.temp_bytes);
  l.total = at;
  return l;
}

template <typename T>
T* region(void* ws, size_t offset) {
  return reinterpret_cast<T*>(static_cast<char*>(ws) + offset);
}

// Does nothing: with the opt-in shared memory a CTA has an SM to itself, as a radix plan's CTAs
// do, so its clusters' occupancy is the device's for such plans.
__global__ void cluster_fit_kernel() {}

// Fills caps.clusters_at_once on the current device; a failed query leaves a size unknown (-1).
// Returns whether every query succeeded (a failure leaves its error to be cleared).
bool query_clusters_at_once(DeviceCaps& caps) {
  constexpr int kPortable = 4;  // sizes up to 8 CTAs; 16 needs the non-portable attribute
  if (cudaFuncSetAttribute(cluster_fit_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, caps.smem_optin) != cudaSuccess ||
      cudaFuncSetAttribute(cluster_fit_kernel, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared) != cudaSuccess)
    return false;
  bool ok = true;
  const bool wide = cudaFuncSetAttribute(cluster_fit_kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 1) == cudaSuccess;
  for (int i = 0; i < (wide ? DeviceCaps::kClusterSizes : kPortable); ++i) {
    cudaLaunchAttribute dim{};
    dim.id = cudaLaunchAttributeClusterDimension;
    dim.val.clusterDim.x = 1u << i;
    dim.val.clusterDim.y = dim.val.clusterDim.z = 1;
    cudaLaunchConfig_t launch{};
    launch.gridDim = dim3(1u << i);
    launch.blockDim = dim3(tuning::kThreads);
    launch.dynamicSmemBytes = size_t(caps.smem_optin);
    launch.attrs = &dim;
    launch.numAttrs = 1;
    int n = 0;
    if (cudaOccupancyMaxActiveClusters(&n, cluster_fit_kernel, &launch) == cudaSuccess) caps.clusters_at_once[i] = n;
    else ok = false;
  }
  return ok && wide;
}

}  // namespace

// A device's capabilities, queried once per device for the life of the process (calls, and so
// graph captures, then do no device queries). A failed query leaves them unknown (cc 0).
constexpr int kMaxDevices = 64;

const DeviceCaps& device_caps(int device) {
  static DeviceCaps caps[kMaxDevices];
  static std::once_flag once[kMaxDevices];
  static DeviceCaps fallback;
  if (device < 0 || device >= kMaxDevices) return fallback;
  std::call_once(once[device], [device] {
    int major = 0, minor = 0, sms = 0, smem_optin = 0, clusters = 0;
    const cudaDeviceAttr attrs[] = {cudaDevAttrComputeCapabilityMajor, cudaDevAttrComputeCapabilityMinor,
                                    cudaDevAttrMultiProcessorCount, cudaDevAttrMaxSharedMemoryPerBlockOptin,
                                    cudaDevAttrClusterLaunch};
    int* const values[] = {&major, &minor, &sms, &smem_optin, &clusters};
    for (size_t i = 0; i < std::size(attrs); ++i) {
      if (cudaDeviceGetAttribute(values[i], attrs[i], device) != cudaSuccess) {
        cudaGetLastError();  // not left for the next launch's check
        return;
      }
    }
    DeviceCaps& c = caps[device];
    c.cc = major * 10 + minor;
    c.sms = std::max(sms, 1);
    c.smem_optin = smem_optin;
    c.clusters = clusters != 0;
    if (!c.clusters) return;
    int current = -1;
    bool ok = cudaGetDevice(&current) == cudaSuccess && (current == device || cudaSetDevice(device) == cudaSuccess);
    if (ok) {
      ok = query_clusters_at_once(c);
      if (current != device) ok = cudaSetDevice(current) == cudaSuccess && ok;
    }
    if (!ok) cudaGetLastError();  // a failed query is not left for the next launch's check
  });
  return caps[device];
}

namespace {

int sm_count(int device) { return device_caps(device).sms; }

// Raises a kernel's dynamic shared-memory limit to the device's opt-in maximum, once per kernel and
// device: every launch then only states what it uses.
// kWideClusters: the kernel may be launched in clusters of more than the portable 8 CTAs.
template <auto kernel, bool kWideClusters = false>
cudaError_t allow_smem(int device) {
  static std::atomic<uint64_t> done{0};  // one flag per kernel: the template argument is the kernel
  const uint64_t bit = device < 64 ? uint64_t(1) << device : 0;
  if (bit && (done.load(std::memory_order_acquire) & bit)) return cudaSuccess;
  cudaFuncAttributes attr{};
  cudaError_t err = cudaFuncGetAttributes(&attr, kernel);
  if (err != cudaSuccess) return err;
  // The opt-in limit covers static and dynamic shared memory together.
  err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             device_caps(device).smem_optin - int(attr.sharedSizeBytes));
  // And the largest shared-memory carveout, so that occupancy is limited by what CTAs use.
  if (err == cudaSuccess)
    err = cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared);
  if (kWideClusters && err == cudaSuccess)
    err = cudaFuncSetAttribute(kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 1);
  if (err == cudaSuccess) done.fetch_or(bit, std::memory_order_acq_rel);
  return err;
}

unsigned elementwise_blocks(int64_t n, int device) {
  const int64_t want = (n + tuning::kElementwiseThreads - 1) / tuning::kElementwiseThreads;
  return unsigned(std::clamp<int64_t>(want, 1, int64_t(sm_count(device)) * 32));
}

// Sorts each of `rows` segments of `seg` words (in keys.Current()), chunked to CUB's int limits.
// On return keys.selector says which buffer holds the result: the same for every chunk, since
// it depends only on the bit range, never on the data.
cudaError_t sort_segments(cub::DoubleBuffer<uint64_t>& keys, int64_t rows, int64_t seg, bool descending,
                          int end_bit, int32_t* offsets, void* temp, size_t temp_bytes, int device,
                          cudaStream_t stream) {
  const int64_t per = std::min(rows, rows_per_sort(seg));
  segment_offsets_kernel<<<elementwise_blocks(per + 1, device), tuning::kElementwiseThreads, 0, stream>>>(
      offsets, int32_t(per), int32_t(seg));
  cudaError_t err = cudaGetLastError();
  const int start_selector = keys.selector;
  for (int64_t r0 = 0; r0 < rows && err == cudaSuccess; r0 += per) {
    const int64_t n = std::min(per, rows - r0);
    cub::DoubleBuffer<uint64_t> chunk(keys.d_buffers[0] + r0 * seg, keys.d_buffers[1] + r0 * seg);
    chunk.selector = start_selector;
    size_t bytes = temp_bytes;
    err = descending ? cub::DeviceSegmentedRadixSort::SortKeysDescending(temp, bytes, chunk, int(n * seg), int(n),
                                                                        offsets, offsets + 1, 0, end_bit, stream)
                     : cub::DeviceSegmentedRadixSort::SortKeys(temp, bytes, chunk, int(n * seg), int(n), offsets,
                                                               offsets + 1, 0, end_bit, stream);
    keys.selector = chunk.selector;
  }
  return err;
}

// Kernel parameter structs are filled in zeroed memory, padding included: graph relocation
// (csrc/binding/kernel_relocations.h) reads every 8-byte word of a parameter, and stale stack
// bytes in padding could equal a buffer's address.
template <class T>
void zero(T& t) {
  static_assert(std::is_trivially_copyable_v<T>, "kernel parameters are copied byte for byte");
  std::memset(&t, 0, sizeof t);
}
void set_output(OutputSpec& o, const TopKConfig& cfg, int32_t* raw_positions) {
  zero(o);
  o.k = cfg.k;
  o.tie_break = cfg.tie_break;
  o.transform = cfg.transform;
  o.page_size = cfg.page_size;
  o.write_values = cfg.write_values;
  o.raw_positions = raw_positions;
}

// Shared-memory layout of one radix CTA for the op's maxLen (see tuning.h and RadixParams), within
// the device's opt-in limit: a chunk is cached only with at least kMinCandidates beside it, and an
// uncached CTA needs as many candidates; nullopt when even that does not fit.
struct RadixShape {
  int32_t region_words, chunk_cap, cand_cap;
};
// The longest chunk a plan's CTAs may cache.
int64_t chunk_cache_cap(bool alone) { return alone ? tuning::kMaxChunkCacheAlone : tuning::kMaxChunkCache; }

std::optional<RadixShape> radix_shape(int64_t max_len, int32_t k, RadixPlan plan, const DeviceCaps& caps) {
  const int64_t chunk = (max_len + plan.cluster - 1) / plan.cluster;
  const int64_t hist_bytes = radix_smem_bytes(0);
  const int64_t want = 2 * int64_t(k) + 4096;
  const int64_t static_bytes = int64_t(radix_static_smem_bytes(plan.cluster));
  const int64_t optin = int64_t(caps.smem_optin) - static_bytes;  // dynamic part
  const int64_t per_cta = plan.alone ? tuning::kMaxSmemPerCta : tuning::kSmemPerCta;
  const int64_t cached_bytes = std::min<int64_t>(per_cta - static_bytes, optin);
  if (plan.cache && chunk <= chunk_cache_cap(plan.alone)) {
    const int64_t room = (cached_bytes - hist_bytes - 4 * (chunk + 4)) / 8;
    if (room >= tuning::kMinCandidates) {
      const int64_t cand = std::max<int64_t>(tuning::kMinCandidates,
                                             std::min({(want + plan.cluster - 1) / plan.cluster, chunk, room}));
      return RadixShape{int32_t(chunk + 4 + 2 * cand), int32_t(chunk), int32_t(cand)};
    }
  }
  const int64_t cand = std::min<int64_t>(want, (std::min<int64_t>(tuning::kMaxSmemPerCta, optin) - hist_bytes) / 8);
  if (cand < tuning::kMinCandidates) return std::nullopt;
  return RadixShape{int32_t(2 * cand), 0, 0};
}

// The shape of a launch: CTAs in clusters of `cluster` when above 1.
struct LaunchShape {
  dim3 blocks;
  unsigned threads;
  size_t smem;
  int cluster;
};

// Launches a kernel, with `pdl` with programmatic stream serialization (PDL): it starts once the
// previous kernel's CTAs have all triggered (or exited) and waits for it at its pdl_wait()
// (kernels/pdl.cuh) before touching global memory.
template <class... Params, class... Args>
cudaError_t launch_kernel(bool pdl, void (*kernel)(Params...), LaunchShape shape, cudaStream_t stream, Args&&... args) {
  cudaLaunchConfig_t launch = {};
  launch.gridDim = shape.blocks;
  launch.blockDim = dim3(shape.threads);
  launch.dynamicSmemBytes = shape.smem;
  launch.stream = stream;
  cudaLaunchAttribute attrs[2];
  unsigned n = 0;
  if (shape.cluster > 1) {
    attrs[n].id = cudaLaunchAttributeClusterDimension;
    attrs[n].val.clusterDim.x = unsigned(shape.cluster);
    attrs[n].val.clusterDim.y = 1;
    attrs[n].val.clusterDim.z = 1;
    ++n;
  }
  if (pdl) {
    attrs[n].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attrs[n].val.programmaticStreamSerializationAllowed = 1;
    ++n;
  }
  launch.attrs = attrs;
  launch.numAttrs = n;
  return cudaLaunchKernelEx(&launch, kernel, std::forward<Args>(args)...);
}
// The first kernel of a call, the only one that may overlap the kernel before it on the stream,
// with PDL when the op asks for it (cfg.pdl). Later kernels of a call launch plainly (each waits
// for the whole kernel before it, as stream order always has), but for the spread path's and
// the chunked path's stages, which wait at their pdl_wait() for the kernel before them in the
// call.
template <class... Params, class... Args>
cudaError_t launch_first(const TopKConfig& cfg, void (*kernel)(Params...), LaunchShape shape, cudaStream_t stream,
                         Args&&... args) {
  return launch_kernel(cfg.pdl, kernel, shape, stream, std::forward<Args>(args)...);
}

template <class Traits, int C>
cudaError_t launch_radix(const TopKConfig& cfg, const RadixParams& p, int device, cudaStream_t stream) {
  constexpr auto kernel = radix_select_kernel<Traits, C>;
  cudaError_t err = allow_smem<kernel>(device);
  if (err != cudaSuccess) return err;
  return launch_first(cfg, kernel, {unsigned(p.a.rows * C), tuning::kThreads, radix_smem_bytes(p.region_words), C},
                      stream, p);
}

// The row kernels (batch, register) share their launch: a CTA per row (the register kernel: or a
// cluster of `cluster` CTAs per row; the batch kernel with `chunk`: a CTA per chunk of a row),
// BatchTopKParams. Shape<Policy, Traits, kLarge> (the batch agent, or the register kernel's
// agents) gives the shared memory: its TempStorage (static) and kDynamicSmemBytes.
template <template <class, class, bool> class Shape, class Policy, class Traits, bool kLarge, auto kernel>
cudaError_t launch_row_kernel(const TopKConfig& cfg, const TopKArgs& args, int device, cudaStream_t stream,
                              int cluster = 1, ChunkRows chunk = {}) {
  cudaError_t err = cluster > 1 ? allow_smem<kernel, true>(device) : allow_smem<kernel>(device);
  if (err != cudaSuccess) return err;
  BatchTopKParams p;
  zero(p);
  p.a = args;
  set_output(p.out, cfg, nullptr);
  p.sorted = cfg.sorted;
  p.chunk = chunk;
  return launch_first(cfg, kernel,
                      {unsigned((args.rows << chunk.shift) * cluster), Policy::kThreads,
                       Shape<Policy, Traits, kLarge>::kDynamicSmemBytes, cluster},
                      stream, p);
}

// Such a kernel's shared memory per CTA, static and dynamic (the same for every dtype and
// tie-break).
template <template <class, class, bool> class Shape, class Policy>
constexpr size_t row_kernel_smem_bytes() {
  using Some = Shape<Policy, DTypeTraits<DType::F32>, false>;
  using Other = Shape<Policy, DTypeTraits<DType::BF16>, true>;
  static_assert(sizeof(typename Some::TempStorage) == sizeof(typename Other::TempStorage) &&
                Some::kDynamicSmemBytes == Other::kDynamicSmemBytes, "one size serves every instance");
  return Some::kDynamicSmemBytes + sizeof(typename Some::TempStorage);
}

template <class Policy, class Traits, bool kLarge>
cudaError_t launch_batch(const TopKConfig& cfg, const TopKArgs& args, int device, cudaStream_t stream,
                         ChunkRows chunk) {
  return launch_row_kernel<AgentBatchTopK, Policy, Traits, kLarge, batch_topk_kernel<Policy, Traits, kLarge>>(
      cfg, args, device, stream, 1, chunk);
}
template <class Policy>
constexpr size_t batch_smem_bytes() {
  return row_kernel_smem_bytes<AgentBatchTopK, Policy>();
}

// Whether the batch kernel can take a call at all: k within its buffer, and a device with the
// shared memory the Hopper policies are tuned for: the large policy's CTA within the opt-in limit
// (sm_80, 90 and 100; not the 99 KB of sm_86, 89 and 120, which would need policies of their own).
bool batch_fits(int32_t k, const DeviceCaps& caps) {
  return k <= BatchTopKPolicy900::kMaxK && size_t(caps.smem_optin) >= batch_smem_bytes<BatchTopKPolicy900>();
}

// The register kernel: a CTA per row, or with kCluster clusters of `cluster` CTAs per row.
template <class Policy, class Traits, bool kLarge, bool kCluster, bool kAnyOrder = false>
cudaError_t launch_register(const TopKConfig& cfg, const TopKArgs& args, int cluster, int device, cudaStream_t stream) {
  return launch_row_kernel<RegisterTopKAgents, Policy, Traits, kLarge,
                           register_topk_kernel<Policy, Traits, kLarge, kCluster, kAnyOrder>>(cfg, args, device, stream,
                                                                                              cluster);
}
template <class Policy>
constexpr size_t register_smem_bytes() {
  return row_kernel_smem_bytes<RegisterTopKAgents, Policy>();
}

// Whether the register kernel can take a call: k within its policies, on a device the Hopper
// policies are tuned for (batch_fits), with both policies' CTAs (the fallback batch agent's shared
// memory included) within the opt-in limit.
bool register_fits(int32_t k, const DeviceCaps& caps) {
  const size_t smem =
      std::max(register_smem_bytes<RegisterTopKPolicy900>(), register_smem_bytes<RegisterTopKPolicy900FewRows>());
  return k <= RegisterTopKPolicy900::kMaxK && batch_fits(k, caps) && size_t(caps.smem_optin) >= smem;
}

// The register kernel's policy for a row count (maxRows in graph-safe mode): fewer rows than SMs
// take twice the threads per row (RegisterTopKPolicy900FewRows: an SM per row at most anyway).
bool few_rows_register_policy(int64_t rows, const DeviceCaps& caps) { return rows < caps.sms; }

// Unsorted output that need not be repeatable (neither `sorted` nor `deterministic`) takes the
// instance that stages the selections in no particular order, on a CTA's own row, with the
// tie-break small or none (large, rarely asked without `deterministic`, keeps the ordered one).
template <class Policy, class Traits, bool kCluster>
cudaError_t run_register_policy(const TopKConfig& cfg, const TopKArgs& args, int cluster, int device,
                                cudaStream_t stream) {
  if (cfg.tie_break == TieBreak::Large)
    return launch_register<Policy, Traits, true, kCluster>(cfg, args, cluster, device, stream);
  if constexpr (!kCluster)
    if (!cfg.sorted && !cfg.deterministic)
      return launch_register<Policy, Traits, false, false, true>(cfg, args, cluster, device, stream);
  return launch_register<Policy, Traits, false, kCluster>(cfg, args, cluster, device, stream);
}
template <class Traits>
cudaError_t run_register(const TopKConfig& cfg, const PathChoice& choice, const TopKArgs& args, int device,
                         cudaStream_t stream) {
  if (choice.plan.cluster > 1)
    return run_register_policy<RegisterTopKPolicy900FewRows, Traits, true>(cfg, args, choice.plan.cluster, device, stream);
  if (choice.threads == RegisterTopKPolicy900FewRows::kThreads)
    return run_register_policy<RegisterTopKPolicy900FewRows, Traits, false>(cfg, args, 1, device, stream);
  return run_register_policy<RegisterTopKPolicy900, Traits, false>(cfg, args, 1, device, stream);
}

// The spread path's shared memory per CTA, static and dynamic: the finish kernel's, the largest.
constexpr size_t spread_smem_bytes() {
  return sizeof(typename SomeSpreadAgent::TempStorage) +
         std::max(SomeSpreadAgent::kDynamicSmemBytes, SomeSpreadAgent::kSplitFinishSmemBytes);
}

// Whether the spread path can take a call: the register kernel's k and policies, and its finish
// kernel's shared memory.
bool spread_fits(int32_t k, const DeviceCaps& caps) {
  return register_fits(k, caps) && size_t(caps.smem_optin) >= spread_smem_bytes();
}

// The spread path: three launches (count, split, finish), or two where the split finishes its
// rows, the first as a call's first launch, the others with PDL behind the one before
// (kernels/spread_topk.cuh). The chunks of a row: as many as its stride holds, at most the
// workspace's (longer rows are the finishing kernel's alone).
template <class Traits, bool kLarge>
cudaError_t launch_spread(const TopKConfig& cfg, const TopKArgs& args, const WorkspaceLayout& l, void* ws, int device,
                          cudaStream_t stream, int64_t shorter) {
  using Agent = SpreadAgent<Traits, kLarge>;
  if (args.rows > l.regions.spread_rows) return cudaErrorInvalidValue;  // never past the regions (op_regions)
  constexpr auto count = spread_topk_kernel<SpreadPolicy, Traits, false, SpreadStage::Count>;  // no tie-break yet
  constexpr auto count_dense = spread_topk_kernel<SpreadPolicy, Traits, false, SpreadStage::Count, true>;
  constexpr auto split = spread_topk_kernel<SpreadPolicy, Traits, kLarge, SpreadStage::Split>;
  constexpr auto split_dense = spread_topk_kernel<SpreadPolicy, Traits, kLarge, SpreadStage::Split, true>;
  constexpr auto finish = spread_topk_kernel<SpreadPolicy, Traits, kLarge, SpreadStage::Finish>;
  constexpr auto split_finish = spread_topk_kernel<SpreadPolicy, Traits, kLarge, SpreadStage::SplitFinish, true>;
  cudaError_t err = allow_smem<count>(device);
  if (err == cudaSuccess) err = allow_smem<count_dense>(device);
  if (err == cudaSuccess) err = allow_smem<split>(device);
  if (err == cudaSuccess) err = allow_smem<split_dense>(device);
  if (err == cudaSuccess) err = allow_smem<finish>(device);
  if (err == cudaSuccess) err = allow_smem<split_finish>(device);
  if (err != cudaSuccess) return err;
  SpreadParams s;
  zero(s);
  s.p.a = args;
  set_output(s.p.out, cfg, nullptr);
  s.p.sorted = cfg.sorted;
  // Unsorted output that need not be repeatable: the finish stages the row as the split left it,
  // with no merge by position (kernel-notes, v6 step 89).
  s.any_order = !cfg.sorted && !cfg.deterministic;
  s.hist = region<uint32_t>(ws, l.spread_hist);
  s.status = region<uint32_t>(ws, l.spread_status);
  s.bounds = region<uint32_t>(ws, l.spread_bounds);
  s.cursor = region<uint32_t>(ws, l.spread_cursor);
  s.above = region<uint32_t>(ws, l.spread_above);
  s.cand = region<uint32_t>(ws, l.spread_cand);
  s.lists = region<uint4>(ws, l.spread_lists);
  s.shortlist = region<uint32_t>(ws, l.spread_shortlist);
  s.chunks = l.spread_chunks;
  s.shorter = shorter;
  static_assert(Agent::kCapacity == SomeSpreadAgent::kCapacity, "one chunk length for every dtype");
  const dim3 grid(unsigned(std::clamp<int64_t>(spread_chunks(args.stride), 1, l.spread_chunks)), unsigned(args.rows));
  // A grid of more than two CTAs per SM takes the dense instances: count's shortlists, and the
  // grouped split (kGroup chunks a CTA; kernel-notes, v6 steps 48 and 63). Smaller grids (one or
  // two rows of 1048576) gain more from the sparse split's chunks, each loading its scores before
  // PDL's wait (the dense instances there: 1.14-1.23x). The grid follows the call's rows and
  // stride, never the data.
  const bool dense = int64_t(grid.x) * grid.y > 2 * int64_t(device_caps(device).sms);
  // Its chunks claim their slots (no chunk waits for those before it) where finish() takes a chunk
  // a thread, and split their shortlists where those reach the row's bin (the second read of a
  // grid past L2 from a 16th of the bytes; kernel-notes, v6 step 48).
  // Where every row's chunks make one group (rows of up to kGroup chunks), the group's CTA finishes
  // its row too, from its shared memory: no slots claimed, no finish kernel (kernel-notes, v6 step
  // 90).
  const bool split_finishes = dense && grid.x <= Agent::kGroup;
  s.claimed = dense && !split_finishes && grid.x <= unsigned(SpreadPolicy::kThreads);
  err = launch_first(cfg, dense ? count_dense : count, {grid, SpreadPolicy::kThreads, Agent::Chunk::kDynamicSmemBytes, 1},
                     stream, s);
  if (err == cudaSuccess && split_finishes)
    return launch_kernel(true, split_finish,
                         {dim3(1, grid.y), SpreadPolicy::kThreads, Agent::kSplitFinishSmemBytes, 1}, stream, s);
  if (err == cudaSuccess)
    err = launch_kernel(true, dense ? split_dense : split,
                        {dense ? dim3((grid.x + Agent::kGroup - 1) / Agent::kGroup, grid.y) : grid,
                         SpreadPolicy::kThreads, dense ? Agent::kGroupSmemBytes : Agent::Chunk::kDynamicSmemBytes, 1},
                        stream, s);
  if (err == cudaSuccess)
    err = launch_kernel(true, finish, {dim3(unsigned(args.rows)), SpreadPolicy::kThreads, Agent::kDynamicSmemBytes, 1},
                        stream, s);
  return err;
}
// shorter: rows of at most this many scores are the radix kernel's (run_split); -1: none.
template <class Traits>
cudaError_t run_spread(const TopKConfig& cfg, const TopKArgs& args, const WorkspaceLayout& l, void* ws, int device,
                       cudaStream_t stream, int64_t shorter) {
  return cfg.tie_break == TieBreak::Large ? launch_spread<Traits, true>(cfg, args, l, ws, device, stream, shorter)
                                          : launch_spread<Traits, false>(cfg, args, l, ws, device, stream, shorter);
}

// Whether the batch kernel takes its small-k policy (four 256-thread CTAs per SM): k up to its
// maximum, every dtype (four CTAs per SM beat the large policy's two for 16-bit scores too:
// kernel-notes, v6 step 5).
bool small_batch_policy(int32_t k) { return k <= BatchTopKPolicy900SmallK::kMaxK; }

// The batch path under the Hopper policies (tuned on the H200), wherever they fit: four small
// CTAs per SM (small_batch_policy), or two large ones.
template <class Policy, class Traits>
cudaError_t run_batch_policy(const TopKConfig& cfg, const TopKArgs& args, int device, cudaStream_t stream,
                             ChunkRows chunk) {
  return cfg.tie_break == TieBreak::Large ? launch_batch<Policy, Traits, true>(cfg, args, device, stream, chunk)
                                          : launch_batch<Policy, Traits, false>(cfg, args, device, stream, chunk);
}
// chunk: the chunked path's stage 1 (run_chunked); zero: a CTA per row.
template <class Traits>
cudaError_t run_batch(const TopKConfig& cfg, const TopKArgs& args, int device, cudaStream_t stream,
                      ChunkRows chunk = {}) {
  if (small_batch_policy(cfg.k))
    return run_batch_policy<BatchTopKPolicy900SmallK, Traits>(cfg, args, device, stream, chunk);
  return run_batch_policy<BatchTopKPolicy900, Traits>(cfg, args, device, stream, chunk);
}

// The radix kernel as `choice` plans it, on the rows of at most `longest` scores (the others are
// left to the spread kernels: run_split); sorted output goes to `positions`.
template <class Traits>
cudaError_t launch_radix_plan(const TopKConfig& cfg, const PathChoice& choice, const TopKArgs& args, int32_t* positions,
                              int64_t longest, int device, cudaStream_t stream) {
  RadixParams p;
  zero(p);
  p.a = args;
  set_output(p.out, cfg, positions);
  p.region_words = choice.region_words;
  p.chunk_cap = choice.chunk_cap;
  p.cand_cap = choice.cand_cap;
  p.longest = longest;
  p.spread_ties = cfg.tie_break == TieBreak::None && !cfg.deterministic;
  const int cluster = choice.plan.cluster;
  return cluster == 8   ? launch_radix<Traits, 8>(cfg, p, device, stream)
         : cluster == 4 ? launch_radix<Traits, 4>(cfg, p, device, stream)
         : cluster == 2 ? launch_radix<Traits, 2>(cfg, p, device, stream)
                        : launch_radix<Traits, 1>(cfg, p, device, stream);
}

// Whether the branch may fork from `stream` now. A capture keeps every stream it pulled in (the
// branch, by a fork's wait) until the capture ends, so a branch in a capture serves only calls on
// a stream of that same capture; a fork from any other stream would break that capture. Such calls
// leave every row to the spread kernels (exact, as before the split).
bool branch_serves(const Branch& b, cudaStream_t stream) {
  cudaStreamCaptureStatus branch = cudaStreamCaptureStatusNone, caller = cudaStreamCaptureStatusNone;
  unsigned long long branch_id = 0, caller_id = 0;
  if (cudaStreamGetCaptureInfo(b.stream, &branch, &branch_id) != cudaSuccess) return false;
  if (branch == cudaStreamCaptureStatusNone) return true;
  return cudaStreamGetCaptureInfo(stream, &caller, &caller_id) == cudaSuccess &&
         branch == cudaStreamCaptureStatusActive && caller == cudaStreamCaptureStatusActive && caller_id == branch_id;
}

// The rows a call's path is chosen for: a graph-safe op's calls take the path of its maxRows, so
// that a graph captured for them is right for any row count up to it.
int64_t shape_rows(const TopKConfig& cfg, int64_t rows) { return cfg.graph_safe ? std::max(cfg.max_rows, rows) : rows; }

// The length split (graph-safe decode ops built for long rows, issue 10): the launch follows the
// op's maxLen, but rows may turn out short on the device. Rows of at most choice.split_length
// take the radix kernel planned for that length on the op's branch, beside the spread kernels on
// the stream, which take the longer rows; each kernel leaves the other's rows at once, so a call
// costs about what its longest rows cost. The branch forks from the stream and joins it again
// (two events; in a stream capture, a fork and a join of the graph), also when a launch fails,
// so that a capture stays whole.
template <class Traits>
cudaError_t run_split(const TopKConfig& cfg, const PathChoice& choice, int64_t shape_rows, const TopKArgs& args,
                      const WorkspaceLayout& l, void* ws, int device, cudaStream_t stream, const Branch& branch) {
  const PathChoice short_rows = choose_path(RadixPath::Auto, shape_rows, choice.split_length, cfg.k, false, device_caps(device));
  if (short_rows.kernel != PathKernel::Radix) return cudaErrorInvalidConfiguration;  // choose_path said it would be
  cudaError_t err = cudaEventRecord(branch.fork, stream);
  if (err == cudaSuccess) err = cudaStreamWaitEvent(branch.stream, branch.fork, 0);
  if (err != cudaSuccess) return err;
  // Both launch plainly (no PDL): the branch's last work is the fork, not a kernel to overlap, and
  // a PDL edge into the spread kernels' first launch cost the split 1.9 us at 8 x 32768 on the
  // H200 (kernel-notes, v6 step 19).
  TopKConfig plain = cfg;
  plain.pdl = false;
  err = launch_radix_plan<Traits>(plain, short_rows, args, nullptr, choice.split_length, device, branch.stream);
  const cudaError_t spread = run_spread<Traits>(plain, args, l, ws, device, stream, choice.split_length);
  cudaError_t join = cudaEventRecord(branch.join, branch.stream);
  if (join == cudaSuccess) join = cudaStreamWaitEvent(stream, branch.join, 0);
  return err != cudaSuccess ? err : spread != cudaSuccess ? spread : join;
}

template <class Traits>
cudaError_t run_radix(const TopKConfig& cfg, RadixPath path, const TopKArgs& args, const WorkspaceLayout& l, void* ws,
                      int device, cudaStream_t stream, const Branch* branch);

// The chunked path (kernels/chunk_rows.cuh), three stages on the stream, each after the one
// before with PDL (the first as a call's first launch):
//  1. the batch kernel on each of a row's choice.chunks chunks: its k best in ascending position
//     order, with their scores, as a row of the workspace's candidates, and the row's count;
//  2. the top-k an op of chunks x k scores a row takes (never this path or the spread path:
//     the static_assert below), over the candidates: slots to the outputs, with the values;
//  3. chunk_gather_kernel: each slot to its position in the row, through the fused transform.
template <class Traits>
cudaError_t run_chunked(const TopKConfig& cfg, const PathChoice& choice, const TopKArgs& args, const WorkspaceLayout& l,
                        void* ws, int device, cudaStream_t stream) {
  if (args.rows * choice.chunks > l.regions.chunk_slots) return cudaErrorInvalidValue;  // never past the regions
  int64_t shift = 0;
  while ((int64_t(1) << shift) < choice.chunks) ++shift;
  const ChunkRows chunk{shift, region<int32_t>(ws, l.chunk_counts)};
  auto* const positions = region<int32_t>(ws, l.chunk_positions);
  TopKConfig first = cfg;
  first.sorted = false;
  first.transform = Transform::None;
  first.write_values = true;
  TopKArgs chunks = args;
  chunks.offsets = nullptr;
  chunks.page_table = nullptr;
  chunks.row_to_batch = nullptr;
  chunks.page_table_starts = nullptr;
  chunks.out_indices = positions;
  chunks.out_values = region<void>(ws, l.chunk_values);
  cudaError_t err = run_batch<Traits>(first, chunks, device, stream, chunk);
  if (err != cudaSuccess) return err;
  TopKConfig second = cfg;
  second.max_len = int64_t(cfg.k) << shift;
  second.transform = Transform::None;
  second.pdl = true;
  TopKArgs candidates;
  candidates.scores = chunks.out_values;
  candidates.rows = args.rows;
  candidates.stride = second.max_len;
  candidates.lengths = chunk.candidates;
  candidates.out_indices = args.out_indices;
  candidates.out_values = args.out_values;
  err = run_radix<Traits>(second, RadixPath::Auto, candidates, l, ws, device, stream, nullptr);
  if (err != cudaSuccess) return err;
  const LaunchShape shape{dim3(elementwise_blocks(args.rows * cfg.k, device)), tuning::kElementwiseThreads, 0, 1};
  switch (cfg.transform) {
    case Transform::Ragged:
      return launch_kernel(true, chunk_gather_kernel<Transform::Ragged>, shape, stream, args, cfg.k, cfg.page_size, chunk,
                           static_cast<const int32_t*>(positions));
    case Transform::PageTable:
      return launch_kernel(true, chunk_gather_kernel<Transform::PageTable>, shape, stream, args, cfg.k, cfg.page_size,
                           chunk, static_cast<const int32_t*>(positions));
    default:
      return launch_kernel(true, chunk_gather_kernel<Transform::None>, shape, stream, args, cfg.k, cfg.page_size, chunk,
                           static_cast<const int32_t*>(positions));
  }
}

template <class Traits>
cudaError_t run_radix(const TopKConfig& cfg, RadixPath path, const TopKArgs& args, const WorkspaceLayout& l, void* ws,
                      int device, cudaStream_t stream, const Branch* branch) {
  const PathChoice choice = call_path(cfg, path, args.rows, args.stride, device_caps(device));
  if (choice.kernel == PathKernel::Register) return run_register<Traits>(cfg, choice, args, device, stream);
  if (choice.kernel == PathKernel::Batch) return run_batch<Traits>(cfg, args, device, stream);
  if (choice.kernel == PathKernel::Chunked) return run_chunked<Traits>(cfg, choice, args, l, ws, device, stream);
  if (choice.kernel == PathKernel::Spread) {
    // Rows shorter than the stride only come with lengths or row starts.
    if (branch && choice.split_length > 0 && (args.lengths || args.row_starts) && branch_serves(*branch, stream))
      return run_split<Traits>(cfg, choice, shape_rows(cfg, args.rows), args, l, ws, device, stream, *branch);
    return run_spread<Traits>(cfg, args, l, ws, device, stream, -1);
  }
  if (choice.kernel != PathKernel::Radix) return cudaErrorInvalidConfiguration;  // unfit_reason refused such ops
  cudaError_t err = launch_radix_plan<Traits>(cfg, choice, args, cfg.sorted ? region<int32_t>(ws, l.positions) : nullptr,
                                              std::numeric_limits<int64_t>::max(), device, stream);
  if (err != cudaSuccess || !cfg.sorted) return err;
  // Sorted output: order the k selections of each row by (key desc, position), then finish.
  auto* a = region<uint64_t>(ws, l.words_a);
  auto* b = region<uint64_t>(ws, l.words_b);
  const unsigned blocks = elementwise_blocks(args.rows * cfg.k, device);
  make_composites_kernel<Traits><<<blocks, tuning::kElementwiseThreads, 0, stream>>>(
      args, region<int32_t>(ws, l.positions), cfg.k, cfg.tie_break, a);
  if ((err = cudaGetLastError()) != cudaSuccess) return err;
  cub::DoubleBuffer<uint64_t> keys(a, b);
  err = sort_segments(keys, args.rows, cfg.k, true, 32 + Traits::kKeyBits, region<int32_t>(ws, l.offsets),
                      region<void>(ws, l.temp), l.temp_bytes, device, stream);
  if (err != cudaSuccess) return err;
  OutputSpec out;
  set_output(out, cfg, nullptr);
  finish_sorted_kernel<Traits><<<blocks, tuning::kElementwiseThreads, 0, stream>>>(
      args, out, keys.Current(), cfg.k, SortedWord::Composite);
  return cudaGetLastError();
}

template <class Traits>
cudaError_t run_sort(const TopKConfig& cfg, const TopKArgs& args, const WorkspaceLayout& l, void* ws, int device,
                     cudaStream_t stream) {
  auto* a = region<uint64_t>(ws, l.words_a);
  auto* b = region<uint64_t>(ws, l.words_b);
  const int64_t seg = args.stride;
  cudaError_t err = launch_first(cfg, make_composites_kernel<Traits>,
                                 {elementwise_blocks(args.rows * seg, device), tuning::kElementwiseThreads, 0, 1}, stream,
                                 args, static_cast<const int32_t*>(nullptr), seg, cfg.tie_break, a);
  if (err != cudaSuccess) return err;
  cub::DoubleBuffer<uint64_t> keys(a, b);
  err = sort_segments(keys, args.rows, seg, true, 32 + Traits::kKeyBits, region<int32_t>(ws, l.offsets),
                      region<void>(ws, l.temp), l.temp_bytes, device, stream);
  if (err != cudaSuccess) return err;
  const unsigned blocks = elementwise_blocks(args.rows * cfg.k, device);
  OutputSpec out;
  set_output(out, cfg, nullptr);
  if (cfg.sorted || !cfg.deterministic) {
    finish_sorted_kernel<Traits><<<blocks, tuning::kElementwiseThreads, 0, stream>>>(
        args, out, keys.Current(), seg, SortedWord::Composite);
    return cudaGetLastError();
  }
  // Deterministic unsorted: the contract's ascending-position order.
  uint64_t* sorted = keys.Current();
  uint64_t* spare = keys.Alternate();
  composites_to_positions_kernel<<<blocks, tuning::kElementwiseThreads, 0, stream>>>(sorted, args.rows, seg, cfg.k,
                                                                                     cfg.tie_break, spare);
  if ((err = cudaGetLastError()) != cudaSuccess) return err;
  cub::DoubleBuffer<uint64_t> positions(spare, sorted);
  err = sort_segments(positions, args.rows, cfg.k, false, 32, region<int32_t>(ws, l.offsets),
                      region<void>(ws, l.temp), l.temp_bytes, device, stream);
  if (err != cudaSuccess) return err;
  finish_sorted_kernel<Traits><<<blocks, tuning::kElementwiseThreads, 0, stream>>>(
      args, out, positions.Current(), cfg.k, SortedWord::Position);
  return cudaGetLastError();
}

// Whether `rows` clusters of `size` CTAs (a power of two up to 16) run at once, a CTA an SM: within
// the SMs and within the clusters the device holds at once (DeviceCaps::clusters_at_once). Past
// that the last clusters wait for the first to end: on an H100, 16 rows of 8-CTA clusters took
// 1.7x what 12 rows took, 33 of 4-CTA 1.7x what 24 took (kernel-notes, v6 steps 67 and 68).
bool one_wave(int64_t rows, int size, const DeviceCaps& caps) {
  int i = 0;
  while (i + 1 < DeviceCaps::kClusterSizes && (1 << i) < size) ++i;
  const int at_once = caps.clusters_at_once[i];
  return rows * size <= caps.sms && (at_once < 0 || rows <= at_once);
}

// The radix path heuristic. When the rows alone fill the SMs, one CTA per row: it caches rows that
// fit its shared memory (read once), and streams longer ones from global memory twice (pass 1, then
// the candidate gather) with loads prefetched a tile ahead, where L2 catches much of the second
// read; streaming beat splitting such rows over cached clusters (docs/kernel-notes.md, v4).
// Otherwise, on a device with thread-block clusters, a cluster of C CTAs shares each row, C
// doubling while the clusters still run in one wave with an SM per CTA (one_wave) and each chunk
// keeps at least kMinChunk elements; each CTA caches its chunk when a maxLen row's chunk fits, and
// streams it otherwise. One CTA per SM beat two at 64 x 131072 (2-CTA streaming clusters 56 us,
// 4-CTA 73 us, 8-CTA cached 74 us; kernel-notes v5). Without clusters (sm_80/86/89), one CTA per
// row. It looks only at the host-known shape (the row count, maxRows in graph-safe mode), the op's
// maxLen and the device, never at device data: each CTA splits the actual length at run time and
// caches its chunk whenever it fits, so a captured graph is right for any lengths. A CTA with an SM
// to itself (rows * C <= SMs) caches up to kMaxChunkCacheAlone keys (an 8-CTA cluster a row of
// 262144), others up to kMaxChunkCache, so that two fit an SM.
RadixPlan choose_radix_plan(int64_t rows, int64_t max_len, const DeviceCaps& caps) {
  int c = 1;
  if (caps.clusters && rows < caps.sms)
    while (c < tuning::kMaxClusterSize && one_wave(rows, 2 * c, caps) && max_len / (2 * c) >= tuning::kMinChunk) c *= 2;
  const bool alone = rows * c <= caps.sms;
  return {c, (max_len + c - 1) / c <= chunk_cache_cap(alone), alone};
}

// The register path (one CTA per row holding its row in registers) when the op's rows fit a CTA's
// registers (up to 8192 scores), within the register kernel's k, whatever the row count: with
// fewer rows than SMs too it beat the radix kernel's CTAs and clusters on the H200 (1 to 128 rows
// of 4096 and 8192: 1.2-1.3x, ReLU rows 2.3-2.5x; docs/kernel-notes.md, v6 step 8).
bool use_register_path(int64_t max_len, int32_t k, const DeviceCaps& caps) {
  return max_len <= RegisterTopKPolicy900::kMaxLength && register_fits(k, caps);
}

// Longer rows of sorted output, when fewer than SMs (decode) and one wave of the clusters, take
// the register path on a cluster of CTAs per row, each holding a chunk of kMaxLength scores: the
// fewest CTAs (a power of two, up to the few-rows policy's kMaxCluster) that hold the op's maxLen;
// 0 when none does. The cluster sorts its k selections on chip, where the radix path sorts them in
// three more kernels: 1 x 131072 sorted took 25.8 us against 77.4 on the H200 (since v6 step 66
// the spread kernels take rows longer than 4 CTAs hold: spread_threshold). Unsorted, the radix
// kernel's clusters were as fast or faster on normal rows (1.02x at 1 x 131072, 1.23x at 8 rows,
// 2.2x at 64; kernel-notes, v6 step 11), so they keep those ops.
int register_cluster(int64_t rows, int64_t max_len, int32_t k, const DeviceCaps& caps) {
  using Policy = RegisterTopKPolicy900FewRows;
  if (!caps.clusters || !few_rows_register_policy(rows, caps) || !register_fits(k, caps)) return 0;
  int c = 1;
  while (c < Policy::kMaxCluster && int64_t(c) * Policy::kMaxLength < max_len) c *= 2;
  return int64_t(c) * Policy::kMaxLength >= max_len && one_wave(rows, c, caps) ? c : 0;
}

// The most scores a register cluster holds (16 x 8192): longer decode rows take the spread kernels.
constexpr int64_t kRegisterClusterHolds = int64_t(RegisterTopKPolicy900FewRows::kMaxCluster) * RegisterTopKPolicy900FewRows::kMaxLength;

// The longest decode row the spread kernels leave to the radix kernel: a register cluster's 131072
// (16 x 8192), or, unsorted, 262144 where 8-CTA clusters that each have an SM alone cache the whole
// row (one wave of them, and the shape fits the device; kernel-notes, v6 step 38) in calls of more
// than kSpreadFewRows rows (fewer took the spread kernels 0.81-0.97x of their time at 196608 and
// 262144, 4 rows 0.97-1.02x, ReLU 0.86x; v6 step 67), or 81920 where the radix path gives each row
// two CTAs or one (past a quarter of the SMs as rows, or where 4-CTA clusters do not all fit at
// once), which stream rows past 65536: there the spread kernels won from 98304 (34 and 57 rows,
// plateaus too; 67-131 rows 0.53-0.72x) and tied at 65537 (v6 steps 53 and 65). Sorted, the spread
// kernels sort the k on chip in their finish, where the radix path sorts in three more kernels
// (0.3-0.75x of its time from 16384 on the H100), and they tie with register clusters of up to 4
// CTAs and beat larger ones (0.69-0.94x; v6 step 66): so the longest row such a cluster holds in
// one wave at this row count (32768, 16384), or 16383 where none does. The chunked path's
// candidates (rows x chunks x k, unsorted in the batch kernel) then never take them
// (test/path-choice.test.ts).
constexpr int64_t kTwoCtasStream = 81920;
constexpr int64_t kSpreadFewRows = 3;
int64_t spread_threshold(int64_t rows, int32_t k, bool sorted, const DeviceCaps& caps) {
  constexpr int64_t kCachedClusterHolds = int64_t(tuning::kMaxClusterSize) * tuning::kMaxChunkCacheAlone;
  if (!caps.clusters) return kRegisterClusterHolds;
  if (sorted) {
    constexpr int64_t kChunk = RegisterTopKPolicy900FewRows::kMaxLength;
    for (const int64_t holds : {4 * kChunk, 2 * kChunk})
      if (register_cluster(rows, holds, k, caps) > 0) return holds;
    return 2 * kChunk - 1;
  }
  if (choose_radix_plan(rows, kRegisterClusterHolds, caps).cluster <= 2) return kTwoCtasStream;
  if (rows <= kSpreadFewRows) return kRegisterClusterHolds;
  const RadixPlan plan = choose_radix_plan(rows, kCachedClusterHolds, caps);
  const auto shape = radix_shape(kCachedClusterHolds, k, plan, caps);
  return plan.cluster == tuning::kMaxClusterSize && shape && shape->chunk_cap > 0 ? kCachedClusterHolds
                                                                                  : kRegisterClusterHolds;
}

// Decode rows longer than spread_threshold take the spread kernels where the chunked path does not
// (chunked_count comes first, and leaves them calls of up to kSpreadAheadChunksPerSm chunks a SM)
// and the rows are fewer than the SMs: on the H200 they beat the radix kernel's clusters, streaming
// their chunks, at every measured shape of 1 to 32 rows of 196608 to 1048576 scores, f32 and bf16,
// k 512 and 2048, sorted, deterministic and ReLU rows (1 x 1048576: 74.7 -> 20.4 us; 32 x 1048576
// 221 -> 197), and lost at 131072 (1 x 16.4 -> 18.3: the three kernels' fixed costs; kernel-notes,
// v6 step 12). Past a quarter of the SMs, where the radix
// path's two CTAs a row stream such rows, they won at 34 and 48 rows of 196608 and 262144 by
// 1.5-2.8x, plateaus, bf16, k = 512, sorted and deterministic too (H100, v6 step 52; they lost at
// 64 rows of 262144 in v6 step 12, which the chunked path takes now).
bool use_spread_path(int64_t rows, int64_t max_len, int32_t k, bool sorted, const DeviceCaps& caps) {
  return rows < caps.sms && max_len > spread_threshold(rows, k, sorted, caps) && spread_fits(k, caps);
}

// The spread kernels' chunks a SM up to which they come before the chunked path (a call's rows x
// its maxLen rows' chunks): their count grid's ~5 waves. There, on the H100, they took 0.73-0.81x
// of the chunked path's time on normal rows (58-131 x 131072, 64 x 196608 and 262144, 16 x
// 1048576), 0.87-0.97x on plateaus, bf16, k = 512 and 1024, sorted and deterministic ones; at
// twice as many chunks (32 x 1048576, 64 x 524288) normal rows still gained (0.90-0.93x), the
// others lost 1.10-1.14x (kernel-notes, v6 step 65).
constexpr int64_t kSpreadAheadChunksPerSm = 16;
bool spread_ahead_of_chunked(int64_t rows, int64_t max_len, const DeviceCaps& caps) {
  return rows * spread_chunks(max_len) <= kSpreadAheadChunksPerSm * caps.sms;
}

// The batch path (one CTA per row, each score read once) when the rows alone fill the SMs, the
// op's rows are as long as the policy's kMinLength and the kernel fits (batch_fits); the radix
// path otherwise (measured on the H200: docs/kernel-notes.md, v6 step 6).
bool use_batch_path(int64_t rows, int64_t max_len, int32_t k, const DeviceCaps& caps) {
  const int64_t min_length =
      small_batch_policy(k) ? BatchTopKPolicy900SmallK::kMinLength : BatchTopKPolicy900::kMinLength;
  return rows >= caps.sms && max_len >= min_length && batch_fits(k, caps);
}

// A forced path the device cannot run is the heuristic's choice (Auto).
RadixPath runnable_path(RadixPath path, int32_t k, const DeviceCaps& caps) {
  const bool runs = path == RadixPath::Register  ? register_fits(k, caps)
                    : path == RadixPath::Spread  ? spread_fits(k, caps)
                    : path == RadixPath::Batch || path == RadixPath::Chunked ? batch_fits(k, caps)
                    : path == RadixPath::Cluster ? caps.clusters
                                                 : true;
  return runs ? path : RadixPath::Auto;
}

// The batch kernel's launch for k (Batch, and Chunked's first stage): its policy's threads and
// shared memory.
PathChoice batch_choice(PathKernel kernel, int32_t k) {
  PathChoice choice;
  choice.kernel = kernel;
  choice.threads = small_batch_policy(k) ? BatchTopKPolicy900SmallK::kThreads : BatchTopKPolicy900::kThreads;
  choice.smem_bytes =
      small_batch_policy(k) ? batch_smem_bytes<BatchTopKPolicy900SmallK>() : batch_smem_bytes<BatchTopKPolicy900>();
  return choice;
}

// The chunked path's chunks per row (0: not chunked): when rows are fewer than SMs, the fewest of
// 4, 8 and 16 that give the batch kernel 7/4 CTAs per SM (rows x chunks >= 7/4 SMs), where no
// chunk of a maxLen row is then shorter than kChunkedMinLength (4 chunks) or kChunkedMinLengthMany
// (8 or 16). The batch kernel reads each score once, at 1.6-1.9x the read once its rows fill the
// SMs, where the radix clusters and the spread kernels took 4.2-4.8x at 64 x 131072 to 1048576
// (kernel-notes, v6 step 28), but the spread kernels come first where they would take the call
// with at most kSpreadAheadChunksPerSm chunks a SM (v6 step 65). On the H200: 17 or more rows of
// 1048576, 34 of 524288, 67 of 262144, none of 131072 within the register kernel's k. Forced: any
// shape, 16 chunks where no count fills the SMs. Only the row count, maxLen, k and sorted decide,
// never device data.
// The fewest rows that give the batch kernel 7/4 CTAs per SM with `chunks` chunks a row.
int64_t rows_filling(int chunks, const DeviceCaps& caps) {
  return (7 * int64_t(caps.sms) + 4 * chunks - 1) / (4 * chunks);
}
int chunked_count(RadixPath path, int64_t rows, int64_t max_len, int32_t k, bool sorted, const DeviceCaps& caps) {
  if (!batch_fits(k, caps) || (path != RadixPath::Auto && path != RadixPath::Chunked)) return 0;
  if (path == RadixPath::Auto && (rows >= caps.sms || (use_spread_path(rows, max_len, k, sorted, caps) &&
                                                       spread_ahead_of_chunked(rows, max_len, caps))))
    return 0;
  for (int c = 4; c <= tuning::kChunkedMaxChunks; c *= 2) {
    if (rows >= rows_filling(c, caps))
      return path == RadixPath::Chunked ||
                     max_len / c >= (c > 4 ? tuning::kChunkedMinLengthMany : tuning::kChunkedMinLength)
                 ? c
                 : 0;
  }
  return path == RadixPath::Chunked ? tuning::kChunkedMaxChunks : 0;
}

// The chunked path's second top-k (chunks x k scores a row, at most kChunkedMaxChunks x the batch
// kernel's k) takes neither this path, whose fewest chunks need rows of 4 x kChunkedMinLength, nor
// the spread path, which takes unsorted rows longer than kTwoCtasStream at least, and sorted ones
// longer than a register cluster of their row count holds up to 4 x 8192 (spread_threshold).
static_assert(int64_t(tuning::kChunkedMaxChunks) * BatchTopKPolicy900::kMaxK < 4 * tuning::kChunkedMinLength &&
                  int64_t(tuning::kChunkedMaxChunks) * BatchTopKPolicy900::kMaxK <= kTwoCtasStream &&
                  int64_t(tuning::kChunkedMaxChunks) * RegisterTopKPolicy900FewRows::kMaxK <=
                      4 * RegisterTopKPolicy900FewRows::kMaxLength,
              "the candidates' top-k never takes the chunked or the spread path");

}  // namespace

// The path heuristic: chunked_count, use_spread_path, use_register_path, register_cluster (sorted ops),
// use_batch_path, then choose_radix_plan, each within what the device can run (clusters, shared
// memory per CTA); a radix plan whose CTA does not fit gives way to one streaming CTA per row,
// which needs the least. RadixPath::Block / Cluster / Batch / Register / Spread / Chunked override
// it (one streaming CTA per row / the largest cached cluster / the batch kernel / the register
// kernel, which takes rows of any length / the spread kernels / the chunked path) for benchmarks
// and tests, where the device can run them.
PathChoice choose_path(RadixPath path, int64_t rows, int64_t max_len, int32_t k, bool sorted, const DeviceCaps& caps) {
  PathChoice choice;
  path = runnable_path(path, k, caps);
  if (const int c = chunked_count(path, rows, max_len, k, sorted, caps); c > 0) {
    choice = batch_choice(PathKernel::Chunked, k);
    choice.chunks = c;
    return choice;
  }
  if (path == RadixPath::Spread || (path == RadixPath::Auto && use_spread_path(rows, max_len, k, sorted, caps))) {
    choice.kernel = PathKernel::Spread;
    choice.threads = SpreadPolicy::kThreads;
    choice.smem_bytes = spread_smem_bytes();
    // Unsorted, the rows that turn out no longer than the spread path's threshold take the radix
    // kernel an op of that maxLen would (run_split). Sorted, the radix path sorts in three more
    // kernels over every row, so the spread kernels keep them all.
    const int64_t split = spread_threshold(rows, k, false, caps);
    if (path == RadixPath::Auto && !sorted && choose_path(path, rows, split, k, false, caps).kernel == PathKernel::Radix)
      choice.split_length = split;
    return choice;
  }
  if (path == RadixPath::Register || (path == RadixPath::Auto && use_register_path(max_len, k, caps))) {
    choice.kernel = PathKernel::Register;
    const bool few = few_rows_register_policy(rows, caps);
    choice.threads = few ? RegisterTopKPolicy900FewRows::kThreads : RegisterTopKPolicy900::kThreads;
    choice.smem_bytes = few ? register_smem_bytes<RegisterTopKPolicy900FewRows>() : register_smem_bytes<RegisterTopKPolicy900>();
    return choice;
  }
  if (path == RadixPath::Auto && sorted) {
    if (const int c = register_cluster(rows, max_len, k, caps); c > 1) {
      choice.kernel = PathKernel::Register;
      choice.threads = RegisterTopKPolicy900FewRows::kThreads;
      choice.plan = {c, false};
      choice.smem_bytes = register_smem_bytes<RegisterTopKPolicy900FewRows>() + sizeof(ClusterRowStorage);
      return choice;
    }
  }
  if (path == RadixPath::Batch || (path == RadixPath::Auto && use_batch_path(rows, max_len, k, caps)))
    return batch_choice(PathKernel::Batch, k);
  // A forced cluster's CTAs have an SM alone, as Auto's, where the rows' clusters fit the SMs.
  const RadixPlan forced_cluster{tuning::kMaxClusterSize, true, rows * tuning::kMaxClusterSize <= caps.sms};
  const RadixPlan plan = path == RadixPath::Block                   ? RadixPlan{1, false}
                         : path == RadixPath::Cluster                 ? forced_cluster
                                                                       : choose_radix_plan(rows, max_len, caps);
  for (const RadixPlan p : {plan, RadixPlan{1, false}}) {
    if (const auto shape = radix_shape(std::max<int64_t>(max_len, 1), k, p, caps)) {
      choice.kernel = PathKernel::Radix;
      choice.threads = tuning::kThreads;
      choice.plan = p;
      choice.region_words = shape->region_words;
      choice.chunk_cap = shape->chunk_cap;
      choice.cand_cap = shape->cand_cap;
      choice.smem_bytes = radix_smem_bytes(shape->region_words) + radix_static_smem_bytes(p.cluster);
      return choice;
    }
  }
  return choice;
}

std::string unfit_reason(Backend backend, const TopKConfig& cfg, RadixPath path, int device) {
  if (backend != Backend::Radix) return {};  // the sort backend is CUB's, which fits every device
  const DeviceCaps& caps = device_caps(device);
  if (caps.cc == 0) return {};  // an unknown device fails on its own when it is made current
  // The fallback, one streaming CTA per row, takes any row count: one row count checks them all.
  if (choose_path(path, std::max<int64_t>(cfg.max_rows, 1), cfg.max_len, cfg.k, cfg.sorted, caps).kernel != PathKernel::None)
    return {};
  return "no radix kernel of this build fits device " + std::to_string(device) + " (sm_" + std::to_string(caps.cc) +
         ", " + std::to_string(caps.smem_optin) + " bytes of shared memory per block; one streaming CTA per row needs " +
         std::to_string(radix_smem_bytes(2 * tuning::kMinCandidates) + radix_static_smem_bytes(1)) +
         "); the sort backend (backend: 'sort') runs there";
}

PathChoice call_path(const TopKConfig& cfg, RadixPath path, int64_t rows, int64_t stride, const DeviceCaps& caps) {
  // No row is longer than its stride or the op's maxLen, so the shorter of the two is the path's
  // maxLen: an op built for the longest rows takes the path of the rows it is called with when
  // their stride says they are shorter (the stride is the call's shape, not device data).
  const int64_t span = std::min<int64_t>(cfg.max_len, std::max<int64_t>(stride, 1));
  return choose_path(path, shape_rows(cfg, rows), span, cfg.k, cfg.sorted, caps);
}

// The most rows of an op's calls whose path passes `test`, where it holds for the spread path, 0:
// none. The choice depends on the shape rows (call_path): a graph-safe op's are always maxRows;
// otherwise the spread path takes only fewer rows than the SMs, though not always the fewest nor
// every count in between (its threshold depends on the rows, and the chunked path comes first),
// so each of those row counts up to maxRows, and maxRows, tell. It depends on a call's span too:
// the spread path takes spans past its threshold, the chunked path (first) long enough ones, so at
// each row count maxLen and the shortest span past the threshold tell.
template <class Test>
static int64_t most_rows_taking(const TopKConfig& cfg, RadixPath path, const DeviceCaps& caps, Test&& test) {
  const int64_t max_rows = std::max<int64_t>(cfg.max_rows, 1);
  const auto takes = [&](int64_t rows) {
    const int64_t shortest = std::min(cfg.max_len, spread_threshold(rows, cfg.k, cfg.sorted, caps) + 1);
    return test(choose_path(path, rows, cfg.max_len, cfg.k, cfg.sorted, caps)) ||
           (shortest < cfg.max_len && test(choose_path(path, rows, shortest, cfg.k, cfg.sorted, caps)));
  };
  if (takes(max_rows)) return max_rows;
  if (cfg.graph_safe) return 0;
  for (int64_t rows = std::min<int64_t>(max_rows - 1, caps.sms - 1); rows >= 1; --rows)
    if (takes(rows)) return rows;
  return 0;
}

// The most chunks (rows x chunks per row) of an op's calls on the chunked path, 0: none takes it.
// A graph-safe op's calls take the path of maxRows; others that of their rows, up to maxRows (past
// the SM count only a forced chunked path takes rows, 4 chunks each, the most at maxRows). A
// call's span (its stride) decides only whether it is chunked, never into how many chunks: spans
// the spread kernels take (past spread_threshold) are chunked where those do not come first
// (spread_ahead_of_chunked), which holds for the longer spans of those; shorter spans are chunked
// where they are long enough. So maxLen and the longest span the spread kernels leave tell.
static int64_t chunked_slots(const TopKConfig& cfg, RadixPath path, const DeviceCaps& caps) {
  path = runnable_path(path, cfg.k, caps);  // as choose_path takes it
  const int64_t max_rows = std::max<int64_t>(cfg.max_rows, 1);
  const auto slots = [&](int64_t rows) {
    const int64_t left = std::min(cfg.max_len, spread_threshold(rows, cfg.k, cfg.sorted, caps));
    return rows * std::max(chunked_count(path, rows, cfg.max_len, cfg.k, cfg.sorted, caps),
                           chunked_count(path, rows, left, cfg.k, cfg.sorted, caps));
  };
  int64_t most = slots(max_rows);
  if (cfg.graph_safe) return most;
  for (int64_t rows = 1; rows < std::min<int64_t>(max_rows, caps.sms); ++rows) most = std::max(most, slots(rows));
  return most;
}

OpRegions op_regions(Backend backend, const TopKConfig& cfg, RadixPath path, const DeviceCaps& caps) {
  OpRegions r;
  if (backend != Backend::Radix) return r;  // the sort backend takes none of these paths
  r.spread_rows = most_rows_taking(cfg, path, caps, [](const PathChoice& c) { return c.kernel == PathKernel::Spread; });
  r.chunk_slots = chunked_slots(cfg, path, caps);
  r.branches = most_rows_taking(cfg, path, caps, [](const PathChoice& c) { return c.split_length > 0; }) > 0;
  return r;
}

OpPlan plan_op(Backend backend, const TopKConfig& cfg, RadixPath path, int device) {
  OpPlan plan;
  plan.backend = backend;
  plan.cfg = cfg;
  plan.path = path;
  plan.device = device;
  plan.layout = make_layout(backend, cfg, op_regions(backend, cfg, path, device_caps(device)));
  return plan;
}

cudaError_t open_branch(Branch& b) {
  cudaError_t err = cudaStreamCreateWithFlags(&b.stream, cudaStreamNonBlocking);
  if (err == cudaSuccess) err = cudaEventCreateWithFlags(&b.fork, cudaEventDisableTiming);
  if (err == cudaSuccess) err = cudaEventCreateWithFlags(&b.join, cudaEventDisableTiming);
  if (err != cudaSuccess) close_branch(b);
  return err;
}

cudaError_t close_branch(Branch& b) {
  cudaError_t err = cudaSuccess;
  const auto keep_first = [&](cudaError_t e) { if (err == cudaSuccess) err = e; };
  if (b.join) keep_first(cudaEventDestroy(b.join));
  if (b.fork) keep_first(cudaEventDestroy(b.fork));
  if (b.stream) keep_first(cudaStreamDestroy(b.stream));
  b = Branch{};
  return err;
}

cudaError_t run_topk(const OpPlan& plan, const TopKArgs& args, void* workspace, size_t workspace_size,
                     cudaStream_t stream, const Branch* branch) {
  const TopKConfig& cfg = plan.cfg;
  const WorkspaceLayout& l = plan.layout;
  if (args.rows == 0) return cudaSuccess;
  if (cfg.k < 1 || args.rows < 0 || args.stride < 0 || (plan.backend != Backend::Radix && plan.backend != Backend::Sort))
    return cudaErrorInvalidValue;
  int device = 0;
  cudaError_t err = cudaGetDevice(&device);
  if (err != cudaSuccess) return err;
  if (device != plan.device) return cudaErrorInvalidDevice;  // the layout and launches are that device's
  // The workspace was sized for the op's maxima; a call beyond them would overrun it.
  const bool fits = args.rows <= std::max<int64_t>(cfg.max_rows, 1) && (plan.backend != Backend::Sort || args.stride <= l.seg);
  if (!fits || workspace_size < l.total) return cudaErrorInvalidValue;
  return dispatch_dtype(cfg.dtype, [&](auto traits) {
    using Traits = decltype(traits);
    return plan.backend == Backend::Radix ? run_radix<Traits>(cfg, plan.path, args, l, workspace, device, stream, branch)
                                          : run_sort<Traits>(cfg, args, l, workspace, device, stream);
  });
}

cudaError_t run_read_probe(const void* data, size_t bytes, void* workspace, cudaStream_t stream) {
  int device = 0;
  cudaError_t err = cudaGetDevice(&device);
  if (err != cudaSuccess) return err;
  const size_t n16 = bytes / 16;
  const auto* base = static_cast<const uint8_t*>(data);
  read_probe_kernel<<<unsigned(sm_count(device) * tuning::kProbeBlocksPerSm), tuning::kProbeThreads, 0, stream>>>(
      reinterpret_cast<const uint4*>(base), n16, base + n16 * 16, int(bytes % 16), static_cast<uint32_t*>(workspace));
  return cudaGetLastError();
}

cudaError_t run_hold(uint64_t nanoseconds, cudaStream_t stream) {
  hold_kernel<<<1, 1, 0, stream>>>(nanoseconds);
  return cudaGetLastError();
}

// The batch entries describe both batch policies where they agree (the GPU tests rebuild the
// sample's positions from them).
static_assert(BatchTopKPolicy900::kSample == BatchTopKPolicy900SmallK::kSample &&
                  BatchTopKPolicy900::kSampleAboveK == BatchTopKPolicy900SmallK::kSampleAboveK,
              "one sample rule for both batch policies");
std::vector<std::pair<std::string, long long>> tuning_constants() {
  using namespace tuning;
  return {{"threads", kThreads},
          {"minCtasPerSm", kMinCtasPerSm},
          {"itemsPerThread", kItems},
          {"firstDigitBits", kFirstDigitBits},
          {"laterDigitBits", kLaterDigitBits},
          {"vectorsInFlight", kVectorsInFlight},
          {"maxClusterSize", kMaxClusterSize},
          {"maxChunkCache", kMaxChunkCache},
          {"maxChunkCacheAlone", kMaxChunkCacheAlone},
          {"minCandidates", kMinCandidates},
          {"smemPerCta", kSmemPerCta},
          {"maxSmemPerCta", kMaxSmemPerCta},
          {"minChunk", kMinChunk},
          {"chunkedMaxChunks", kChunkedMaxChunks},
          {"chunkedMinLength", kChunkedMinLength},
          {"chunkedMinLengthMany", kChunkedMinLengthMany},
          {"elementwiseThreads", kElementwiseThreads},
          {"batchThreads", BatchTopKPolicy900::kThreads},
          {"batchVectorsInFlight", BatchTopKPolicy900::kVectorsInFlight},
          {"batchDigitBits", BatchTopKPolicy900::kDigitBits},
          {"batchCapacity", BatchTopKPolicy900::kCapacity},
          {"batchMaxK", BatchTopKPolicy900::kMaxK},
          {"batchMinLength", BatchTopKPolicy900::kMinLength},
          {"batchSmallKMinLength", BatchTopKPolicy900SmallK::kMinLength},
          {"batchSample", BatchTopKPolicy900::kSample},
          {"batchSampleAboveK", BatchTopKPolicy900::kSampleAboveK},
          {"batchMinSampleRank", BatchTopKPolicy900::kMinSampleRank},
          {"batchSampleMarginSdTenths", BatchTopKPolicy900::kSampleMarginSdTenths},
          {"batchSmallKThreads", BatchTopKPolicy900SmallK::kThreads},
          {"batchSmallKCapacity", BatchTopKPolicy900SmallK::kCapacity},
          {"batchSmallKMaxK", BatchTopKPolicy900SmallK::kMaxK},
          {"registerThreads", RegisterTopKPolicy900::kThreads},
          {"registerItems", RegisterTopKPolicy900::kItems},
          {"registerMaxK", RegisterTopKPolicy900::kMaxK},
          {"registerMaxLength", RegisterTopKPolicy900::kMaxLength},
          {"registerFewRowsThreads", RegisterTopKPolicy900FewRows::kThreads},
          {"registerFewRowsItems", RegisterTopKPolicy900FewRows::kItems},
          {"registerMaxCluster", RegisterTopKPolicy900FewRows::kMaxCluster}};
}

}  // namespace nsa::cuda
