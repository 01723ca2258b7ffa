// Only CUDA builds have graphs; CPU-only builds compile this file to nothing.
#if NSA_TOPK_WITH_CUDA
#include "kernel_relocations.h"

#include <cstring>

namespace nsa::binding {
namespace {

constexpr size_t kWord = sizeof(uint64_t);

// The parameters of `p.func`, copied: CUDA owns what p.kernelParams points to. Empty when CUDA
// does not describe them.
std::vector<std::vector<uint8_t>> copy_params(const cudaKernelNodeParams& p) {
  std::vector<std::vector<uint8_t>> values;
  for (size_t i = 0;; ++i) {
    size_t offset = 0, size = 0;
    // Past the last parameter this fails: that is how the count is learnt.
    if (cudaFuncGetParamInfo(p.func, i, &offset, &size) != cudaSuccess) break;
    const auto* value = static_cast<const uint8_t*>(p.kernelParams[i]);
    values.emplace_back(value, value + size);
  }
  cudaGetLastError();  // the probe's failure must not surface as the next call's error
  return values;
}

}  // namespace

cudaError_t KernelRelocations::find(cudaGraph_t graph, const std::vector<BufferRange>& buffers) {
  nodes_.clear();
  sites_.clear();
  present_.clear();
  relocatable_ = false;
  for (const BufferRange& b : buffers) present_.push_back(b.base != 0);
  size_t count = 0;
  cudaError_t err = cudaGraphGetNodes(graph, nullptr, &count);
  if (err != cudaSuccess) return err;
  std::vector<cudaGraphNode_t> nodes(count);
  if (count > 0 && (err = cudaGraphGetNodes(graph, nodes.data(), &count)) != cudaSuccess) return err;

  std::vector<bool> found(buffers.size(), false);
  bool ambiguous = false;
  for (cudaGraphNode_t node : nodes) {
    cudaGraphNodeType type;
    if ((err = cudaGraphNodeGetType(node, &type)) != cudaSuccess) return err;
    if (type == cudaGraphNodeTypeEmpty) continue;
    // A copy or memset could name a buffer too, and is not rewritten here.
    if (type != cudaGraphNodeTypeKernel) return cudaSuccess;
    Node n;
    n.node = node;
    if ((err = cudaGraphKernelNodeGetParams(node, &n.params)) != cudaSuccess) return err;
    if (n.params.kernelParams == nullptr) return cudaSuccess;  // packed in `extra`: not described
    n.values = copy_params(n.params);
    const size_t first_site = sites_.size();
    for (size_t param = 0; param < n.values.size(); ++param) {
      const std::vector<uint8_t>& value = n.values[param];
      for (size_t offset = 0; offset + kWord <= value.size(); offset += kWord) {
        uint64_t word;
        std::memcpy(&word, value.data() + offset, kWord);
        size_t matches = 0;
        for (size_t b = 0; b < buffers.size(); ++b) {
          const BufferRange& r = buffers[b];
          if (r.base == 0 || word != r.base) continue;
          if (++matches > 1) ambiguous = true;
          found[b] = true;
          sites_.push_back({nodes_.size(), param, offset, b});
        }
      }
    }
    if (sites_.size() > first_site) nodes_.push_back(std::move(n));
  }
  for (Node& n : nodes_) {
    for (std::vector<uint8_t>& value : n.values) n.pointers.push_back(value.data());
    n.params.kernelParams = n.pointers.data();
    n.params.extra = nullptr;
  }
  relocatable_ = !ambiguous;
  for (size_t b = 0; b < buffers.size(); ++b) relocatable_ = relocatable_ && found[b] == present_[b];
  return cudaSuccess;
}

bool KernelRelocations::fits(const std::vector<BufferRange>& buffers) const {
  if (buffers.size() != present_.size()) return false;
  for (size_t b = 0; b < buffers.size(); ++b) {
    if ((buffers[b].base != 0) != present_[b]) return false;
  }
  return true;
}

cudaError_t KernelRelocations::apply(cudaGraphExec_t exec, const std::vector<BufferRange>& buffers) {
  for (const Site& s : sites_) {
    const uint64_t word = buffers[s.buffer].base;
    std::memcpy(nodes_[s.node].values[s.param].data() + s.offset, &word, kWord);
  }
  for (const Node& n : nodes_) {
    cudaError_t err = cudaGraphExecKernelNodeSetParams(exec, n.node, &n.params);
    if (err != cudaSuccess) return err;
  }
  return cudaSuccess;
}

}  // namespace nsa::binding

#endif  // NSA_TOPK_WITH_CUDA
