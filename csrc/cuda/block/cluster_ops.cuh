// The few cluster operations the radix kernel needs, collapsing to plain block operations when a
// row has one CTA (C == 1), so one kernel body serves both paths.
#pragma once
#include <cooperative_groups.h>

// Thread-block clusters and distributed shared memory exist from sm_90 on. A device pass for an
// earlier GPU (sm_80/86/89) must not instantiate ClusterOps<C > 1>: the radix kernel's cluster
// instances trap there instead (radix_select_kernel), and dispatch never launches them on a
// device without clusters (DeviceCaps::clusters). The host pass counts as having them.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define NSA_TOPK_HAS_CLUSTERS 0
#else
#define NSA_TOPK_HAS_CLUSTERS 1
#endif

namespace nsa::cuda {

template <int C>
struct ClusterOps {
  static_assert(C >= 1 && C <= 16, "cluster size must be 1..16 CTAs");
  static_assert(C == 1 || NSA_TOPK_HAS_CLUSTERS, "thread-block clusters need sm_90 or later");

  __device__ static unsigned rank() {
#if NSA_TOPK_HAS_CLUSTERS
    if constexpr (C > 1) return cooperative_groups::this_cluster().block_rank();
#endif
    return 0;
  }
  // Orders shared-memory writes of every CTA in the cluster before any later read of them.
  __device__ static void sync() {
#if NSA_TOPK_HAS_CLUSTERS
    if constexpr (C > 1) {
      cooperative_groups::this_cluster().sync();
      return;
    }
#endif
    __syncthreads();
  }
  // The same shared-memory object in CTA `r` of this cluster (distributed shared memory).
  template <typename T>
  __device__ static T* remote(T* p, unsigned r) {
#if NSA_TOPK_HAS_CLUSTERS
    if constexpr (C > 1) return cooperative_groups::this_cluster().map_shared_rank(p, r);
#endif
    return p;
  }
};

}  // namespace nsa::cuda
