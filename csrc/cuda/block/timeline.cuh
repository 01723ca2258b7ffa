// Stage marks inside a kernel, for finding where a row's time goes on the GPU
// (scripts/probes/timeline.cu). Only a build with NSA_TOPK_TIMELINE=1 records them: thread 0 of
// each of the grid's first kTimelineCtas CTAs (of its first row of blocks) stores its SM clock
// and the global timer at every mark; the last launch's marks are what remain. Every CTA's span
// (its Timeline's life) is stored too, so that a grid's waves show beyond its first CTAs. In every
// other build a mark is nothing and the kernels compile as without it.
#pragma once
#include <cstdint>

#ifndef NSA_TOPK_TIMELINE
#define NSA_TOPK_TIMELINE 0
#endif

namespace nsa::cuda {

constexpr int kTimelineCtas = 16;
constexpr int kTimelineMarks = 24;
constexpr int kSpanCtas = 8192;  // the CTAs of a grid whose spans are kept (in launch order)

#if NSA_TOPK_TIMELINE
// [cta][mark]: {clock64, %globaltimer}; a mark not reached this launch keeps an older value, so
// the probe clears them before the launch it reads.
__device__ unsigned long long timeline_marks[kTimelineCtas][kTimelineMarks][2];
// [first mark][cta]: the %globaltimer where a CTA's Timeline begins and ends, and its SM, by the
// kernel's first mark (Timeline's `first`) and the CTA's linear index.
__device__ unsigned long long timeline_spans[kTimelineMarks][kSpanCtas][2];
__device__ unsigned timeline_sms[kTimelineMarks][kSpanCtas];
#endif

// A kernel's marks in the order it reaches them: stage boundaries, taken by thread 0 where the
// CTA has just passed a barrier, so a mark's time is close to the whole CTA's.
class Timeline {
 public:
  // first: the index of the kernel's first mark, where kernels of one call share a CTA's marks.
  // Made so, the Timeline is its kernel's and keeps the CTA's span under that index; a default one
  // (an agent's member, beside its kernel's own) keeps marks only, from index 0.
  __device__ Timeline() {}
  __device__ explicit Timeline([[maybe_unused]] int first) {
#if NSA_TOPK_TIMELINE
    next_ = span_ = first;
    if (const int cta = span_cta(); cta >= 0) {
      unsigned sm;
      asm volatile("mov.u32 %0, %%smid;" : "=r"(sm));
      timeline_spans[span_][cta][0] = now();
      timeline_sms[span_][cta] = sm;
    }
#endif
  }
#if NSA_TOPK_TIMELINE
  __device__ ~Timeline() {
    if (const int cta = span_cta(); cta >= 0) timeline_spans[span_][cta][1] = now();
  }
#endif
  __device__ __forceinline__ void mark() {
#if NSA_TOPK_TIMELINE
    if (threadIdx.x == 0 && blockIdx.x < kTimelineCtas && blockIdx.y == 0 && blockIdx.z == 0 &&
        next_ < kTimelineMarks) {
      timeline_marks[blockIdx.x][next_][0] = clock64();
      timeline_marks[blockIdx.x][next_][1] = now();
    }
    ++next_;
#endif
  }

 private:
#if NSA_TOPK_TIMELINE
  __device__ static unsigned long long now() {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
  }
  // The CTA's index among the spans, or -1 where none is kept (not thread 0, past kSpanCtas, or a
  // Timeline without marks).
  __device__ int span_cta() const {
    const unsigned cta = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    return threadIdx.x == 0 && span_ >= 0 && span_ < kTimelineMarks && cta < unsigned(kSpanCtas) ? int(cta) : -1;
  }
  int next_ = 0;
  int span_ = -1;
#endif
};

}  // namespace nsa::cuda
