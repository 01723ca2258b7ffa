// Where the kernel nodes of a captured graph hold the addresses of a call's device buffers, so a
// later call of the same shape on other buffers (a caching allocator hands out new addresses every
// step) rewrites those kernel parameters in the instantiated graph instead of capturing and
// instantiating it again.
//
// Addresses are found by value: each 8-byte-aligned word of each kernel parameter that equals the
// base of one of the buffers is a site, rewritten to that buffer's new base. csrc/cuda's launches
// take call buffers only as given (TopKArgs by value) and zero the padding of their parameter
// structs, so a word that is not a base address never matches: interior addresses are not looked
// for, since a stale value in padding could pass for one. A graph is not relocatable, and its
// owner captures again, where that cannot be shown: a word equal to two buffers' bases (the same
// buffer given twice), a present buffer found in no parameter, a node other than a kernel, or
// parameters CUDA does not describe.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nsa::binding {

// One buffer of a call, by its base address; an absent buffer has base 0 and is never matched.
struct BufferRange {
  uintptr_t base = 0;
};

class KernelRelocations {
 public:
  // Scans the nodes of `graph` for the addresses of `buffers`. An error only for a failed CUDA call.
  cudaError_t find(cudaGraph_t graph, const std::vector<BufferRange>& buffers);

  bool relocatable() const { return relocatable_; }

  // Whether `buffers` can take the place of the ones found: the same count, the same present.
  bool fits(const std::vector<BufferRange>& buffers) const;

  // Rewrites every site in `exec` (instantiated from the scanned graph) for `buffers`, which must
  // fit(). Launches already enqueued keep the parameters they were enqueued with.
  cudaError_t apply(cudaGraphExec_t exec, const std::vector<BufferRange>& buffers);

 private:
  // A kernel node with at least one site: its parameters, with our copy of every value.
  struct Node {
    cudaGraphNode_t node = nullptr;
    cudaKernelNodeParams params{};
    std::vector<std::vector<uint8_t>> values;  // one per parameter
    std::vector<void*> pointers;               // values[i].data(), what params.kernelParams points to
  };
  struct Site {
    size_t node;    // index in nodes_
    size_t param;   // parameter index
    size_t offset;  // byte offset of the word in the parameter
    size_t buffer;  // index in the buffers
  };

  std::vector<Node> nodes_;
  std::vector<Site> sites_;
  std::vector<bool> present_;  // which buffers were present when found
  bool relocatable_ = false;
};

}  // namespace nsa::binding
