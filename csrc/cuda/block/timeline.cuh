// Stage marks inside a kernel, for finding where a row's time goes on the GPU
// (scripts/probes/timeline.cu). Only a build with NSA_TOPK_TIMELINE=1 records them: thread 0 of
// each of the grid's first kTimelineCtas CTAs (of its first row of blocks) stores its SM clock
// and the global timer at every mark; the last launch's marks are what remain. In every other
// build a mark is nothing and the kernels compile as without it.
#pragma once
#include <cstdint>

#ifndef NSA_TOPK_TIMELINE
#define NSA_TOPK_TIMELINE 0
#endif

namespace nsa::cuda {

constexpr int kTimelineCtas = 16;
constexpr int kTimelineMarks = 24;

#if NSA_TOPK_TIMELINE
// [cta][mark]: {clock64, %globaltimer}; a mark not reached this launch keeps an older value, so
// the probe clears them before the launch it reads.
__device__ unsigned long long timeline_marks[kTimelineCtas][kTimelineMarks][2];
#endif

// A kernel's marks in the order it reaches them: stage boundaries, taken by thread 0 where the
// CTA has just passed a barrier, so a mark's time is close to the whole CTA's.
class Timeline {
 public:
  // first: the index of the kernel's first mark, where kernels of one call share a CTA's marks.
  __device__ explicit Timeline([[maybe_unused]] int first = 0) {
#if NSA_TOPK_TIMELINE
    next_ = first;
#endif
  }
  __device__ __forceinline__ void mark() {
#if NSA_TOPK_TIMELINE
    if (threadIdx.x == 0 && blockIdx.x < kTimelineCtas && blockIdx.y == 0 && blockIdx.z == 0 &&
        next_ < kTimelineMarks) {
      unsigned long long now;
      asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
      timeline_marks[blockIdx.x][next_][0] = clock64();
      timeline_marks[blockIdx.x][next_][1] = now;
    }
    ++next_;
#endif
  }

 private:
#if NSA_TOPK_TIMELINE
  int next_ = 0;
#endif
};

}  // namespace nsa::cuda
