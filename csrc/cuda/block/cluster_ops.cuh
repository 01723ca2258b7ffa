// The few cluster operations the radix kernel needs, collapsing to plain block operations when a
// row has one CTA (C == 1), so one kernel body serves both paths.
#pragma once
#include <cooperative_groups.h>

namespace nsa::cuda {

template <int C>
struct ClusterOps {
  static_assert(C >= 1 && C <= 16, "cluster size must be 1..16 CTAs");

  __device__ static unsigned rank() {
    if constexpr (C == 1) return 0;
    else return cooperative_groups::this_cluster().block_rank();
  }
  // Orders shared-memory writes of every CTA in the cluster before any later read of them.
  __device__ static void sync() {
    if constexpr (C == 1) __syncthreads();
    else cooperative_groups::this_cluster().sync();
  }
  // The same shared-memory object in CTA `r` of this cluster (distributed shared memory).
  template <typename T>
  __device__ static T* remote(T* p, unsigned r) {
    if constexpr (C == 1) return p;
    else return cooperative_groups::this_cluster().map_shared_rank(p, r);
  }
};

}  // namespace nsa::cuda
