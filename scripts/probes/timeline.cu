// Where a call's time goes inside its kernel: the stage marks of csrc/cuda/block/timeline.cuh
// (thread 0 of each of the first CTAs stamps its SM clock and the global timer at each stage
// boundary), read from the last call of a graph of N calls over inputs rotated past the L2 cache
// (the bench's method), median over the replays. The marks themselves cost time (v6 step 14's
// harness: ~0.8 us a call at 1 x 8192), so compare stages with each other, not with the bench.
// Runs on the GPU machine without Node; scripts/probes/build.sh builds it into build/probes:
//   build/probes/timeline --rows 1 --len 131072 [--k 2048] [--dist normal|relu] [--path auto|
//                 block|cluster|batch|register|spread] [--graph 20] [--reps 10] [--pdl] [--sorted]
// The radix kernel's marks are listed where it declares them (radix_select_row). Then each grid's
// spans: every CTA's start and end (its Timeline's life), the grid's waves in a few quantiles and
// the CTAs alive at each microsecond, after the call's first CTA's start.
#define NSA_TOPK_TIMELINE 1
#include "cuda/dispatch.cu"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

namespace {

using nsa::cuda::kTimelineCtas;
using nsa::cuda::kTimelineMarks;
using Marks = unsigned long long[kTimelineCtas][kTimelineMarks][2];
using nsa::cuda::kSpanCtas;
using Spans = unsigned long long[kTimelineMarks][kSpanCtas][2];
using Sms = unsigned[kTimelineMarks][kSpanCtas];

void check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(err));
  exit(1);
}

// The element at fraction q of v's sorted order (q = 0.5: the median, as the probe has always taken it).
template <typename T>
T quantile(std::vector<T> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(q * double(v.size())))];
}

template <typename T>
T median(std::vector<T> v) {
  return quantile(std::move(v), 0.5);
}

struct Options {
  int64_t rows = 1, len = 131072;
  int32_t k = 2048;
  bool relu = false, pdl = false, sorted = false;
  nsa::cuda::RadixPath path = nsa::cuda::RadixPath::Auto;
  int graph = 20, reps = 10;
};

Options parse(int argc, char** argv) {
  Options o;
  // Indices are RadixPath's values ("chunked": 6, on trees with v6 step 28).
  const char* const paths[] = {"auto", "block", "cluster", "batch", "register", "spread", "chunked"};
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(a, "--pdl")) { o.pdl = true; continue; }
    if (!strcmp(a, "--sorted")) { o.sorted = true; continue; }
    if (!strcmp(a, "--rows")) o.rows = atoll(v);
    else if (!strcmp(a, "--len")) o.len = atoll(v);
    else if (!strcmp(a, "--k")) o.k = atoi(v);
    else if (!strcmp(a, "--graph")) o.graph = atoi(v);
    else if (!strcmp(a, "--reps")) o.reps = atoi(v);
    else if (!strcmp(a, "--dist")) o.relu = !strcmp(v, "relu");
    else if (!strcmp(a, "--path")) {
      int p = -1;
      for (int j = 0; j < int(std::size(paths)); ++j) if (!strcmp(v, paths[j])) p = j;
      if (p < 0) { fprintf(stderr, "unknown path %s\n", v); exit(2); }
      o.path = nsa::cuda::RadixPath(p);
    } else { fprintf(stderr, "unknown option %s\n", a); exit(2); }
    ++i;
  }
  if (o.rows < 1 || o.len < 1 || o.k < 1 || o.graph < 1 || o.reps < 1) { fprintf(stderr, "bad sizes\n"); exit(2); }
  return o;
}

const char* const kStatNames[] = {"CTAs", "SMs", "start first", "start mid", "start last", "end first",
                                   "end mid", "end last", "length p10", "length mid", "length p90"};

// One replay's spans: each grid's statistics (kStatNames' order) appended to stats[grid], and its CTAs
// alive at each microsecond into alive[grid] (the last replay's remain). Times from the earliest start.
void span_stats(const Spans& spans, const Sms& sms, std::vector<std::vector<std::vector<double>>>& stats,
                std::vector<std::vector<int>>& alive) {
  unsigned long long first = ~0ull;
  for (int g = 0; g < kTimelineMarks; ++g)
    for (int c = 0; c < kSpanCtas; ++c)
      if (spans[g][c][0] && spans[g][c][1]) first = std::min(first, spans[g][c][0]);
  for (int g = 0; g < kTimelineMarks; ++g) {
    std::vector<double> start, end, length;
    std::vector<bool> sm_seen(1024, false);
    for (int c = 0; c < kSpanCtas; ++c) {
      if (!spans[g][c][0] || !spans[g][c][1]) continue;
      start.push_back(double(spans[g][c][0] - first));
      end.push_back(double(spans[g][c][1] - first));
      length.push_back(double(int64_t(spans[g][c][1] - spans[g][c][0])));
      sm_seen[sms[g][c] % 1024] = true;
    }
    if (start.empty()) continue;
    stats[g].push_back({double(start.size()), double(std::count(sm_seen.begin(), sm_seen.end(), true)),
                        quantile(start, 0), quantile(start, 0.5), quantile(start, 1), quantile(end, 0),
                        quantile(end, 0.5), quantile(end, 1), quantile(length, 0.1), quantile(length, 0.5),
                        quantile(length, 0.9)});
    const int us = int(quantile(end, 1) / 1000) + 1;
    alive[g].assign(us, 0);
    for (size_t i = 0; i < start.size(); ++i)
      for (int t = int(start[i] / 1000 + 1); t < us && t * 1000.0 < end[i]; ++t) ++alive[g][t];
  }
}

void print_spans(const std::vector<std::vector<std::vector<double>>>& stats, const std::vector<std::vector<int>>& alive) {
  printf("grids by their first mark: every CTA's span (thread 0's Timeline), ns after the call's first CTA's start\n"
         "(medians over the replays); then the last replay's CTAs alive at each microsecond\n");
  for (int g = 0; g < kTimelineMarks; ++g) {
    if (stats[g].empty()) continue;
    printf("grid %d:", g);
    for (size_t i = 0; i < std::size(kStatNames); ++i) {
      std::vector<double> v;
      for (const auto& replay : stats[g]) v.push_back(replay[i]);
      printf(" %s %.0f%s", kStatNames[i], median(v), i + 1 < std::size(kStatNames) ? "," : "\n");
    }
    printf("  alive:");
    for (size_t t = 0; t < alive[g].size(); ++t) printf(" %zu:%d", t, alive[g][t]);
    printf("\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  using nsa::Backend;
  namespace tk = nsa::cuda;
  const Options o = parse(argc, argv);
  nsa::TopKConfig cfg;
  cfg.k = o.k;
  cfg.max_rows = o.rows;
  cfg.max_len = o.len;
  cfg.pdl = o.pdl;
  cfg.sorted = o.sorted;
  int device = 0;
  check(cudaGetDevice(&device), "device");
  const std::string unfit = tk::unfit_reason(Backend::Radix, cfg, o.path, device);
  if (!unfit.empty()) { fprintf(stderr, "%s\n", unfit.c_str()); return 1; }
  const tk::PathChoice choice = tk::choose_path(o.path, o.rows, o.len, o.k, o.sorted, tk::device_caps(device));
  // PathKernel's values (Chunked = 5 on trees with v6 step 28).
  const char* const kernels[] = {"none", "batch", "radix", "register", "spread", "chunked"};
  const int kernel = int(choice.kernel);
  printf("%lld x %lld, k %d, %s%s%s: %s kernel, %d CTAs a row, %d threads\n", (long long)o.rows, (long long)o.len, o.k,
         o.relu ? "ReLU plateau" : "normal", o.pdl ? ", PDL" : "", o.sorted ? ", sorted" : "",
         kernel >= 0 && kernel < int(std::size(kernels)) ? kernels[kernel] : "unknown", choice.plan.cluster, choice.threads);
  if (kernel == 1) printf("(the batch kernel has no marks)\n");
  if (kernel == 4)
    printf("(the spread kernels' marks: CTA c's are chunk c of the first row of blocks in count and split (row 0, or the\n"
           " last row in a dense split, which takes the rows last first, and its group c of chunks), then row c's finish;\n"
           " a dense split whose rows are one group each finishes them, its marks the split's then the finish's from the select)\n");
  if (kernel == 5) printf("(the marks are the second stage's: the top-k over the chunks' candidates)\n");

  // Inputs: one set of scores, copied until the copies pass twice the L2 cache; a graph reads
  // each copy at least once (calls >= copies), so that no replay finds its inputs in L2.
  const size_t bytes = size_t(o.rows) * size_t(o.len) * sizeof(float);
  const int copies = int(std::max<size_t>(2, (size_t(120) << 20) / bytes + 1));
  std::vector<float> host(size_t(o.rows) * size_t(o.len));
  std::mt19937 gen(1);
  std::normal_distribution<float> normal;
  for (float& x : host) x = o.relu ? std::max(0.0f, normal(gen) - 3.2f) : normal(gen);
  float* scores = nullptr;
  int32_t* out = nullptr;
  check(cudaMalloc(&scores, bytes * copies), "scores");
  for (int c = 0; c < copies; ++c)
    check(cudaMemcpy(reinterpret_cast<char*>(scores) + bytes * c, host.data(), bytes, cudaMemcpyHostToDevice), "copy");
  const int calls = std::max(o.graph, copies);
  check(cudaMalloc(&out, size_t(o.rows) * o.k * sizeof(int32_t)), "out");
  const tk::OpPlan plan = tk::plan_op(Backend::Radix, cfg, o.path, device);
  const size_t ws_bytes = plan.layout.total;
  void* ws = nullptr;
  check(cudaMalloc(&ws, std::max<size_t>(ws_bytes, 1)), "workspace");
  check(cudaMemset(ws, 0, plan.layout.zeroed), "zero");
  // The copies and the zeroing went by the legacy stream, which the non-blocking stream below does
  // not wait for.
  check(cudaDeviceSynchronize(), "setup");
  tk::Branch branch;
  const bool branches = plan.layout.regions.branches;
  if (branches) check(tk::open_branch(branch), "branch");

  cudaStream_t stream;
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "stream");
  cudaGraph_t graph;
  check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "capture");
  for (int i = 0; i < calls; ++i) {
    nsa::TopKArgs args;
    args.scores = reinterpret_cast<char*>(scores) + bytes * (i % copies);
    args.rows = o.rows;
    args.stride = o.len;
    args.out_indices = out;
    check(tk::run_topk(plan, args, ws, ws_bytes, stream, branches ? &branch : nullptr), "run_topk");
  }
  check(cudaStreamEndCapture(stream, &graph), "end capture");
  cudaGraphExec_t exec;
  check(cudaGraphInstantiate(&exec, graph, 0), "instantiate");
  void* marks_at = nullptr;
  check(cudaGetSymbolAddress(&marks_at, tk::timeline_marks), "marks");
  void* spans_at = nullptr;
  void* sms_at = nullptr;
  check(cudaGetSymbolAddress(&spans_at, tk::timeline_spans), "spans");
  check(cudaGetSymbolAddress(&sms_at, tk::timeline_sms), "sms");

  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "event");
  check(cudaEventCreate(&stop), "event");
  check(cudaGraphLaunch(exec, stream), "warm-up");
  std::vector<float> per_call;
  std::vector<std::vector<std::vector<double>>> cycles(kTimelineCtas, std::vector<std::vector<double>>(kTimelineMarks));
  std::vector<std::vector<std::vector<double>>> at_ns(kTimelineCtas, std::vector<std::vector<double>>(kTimelineMarks));
  std::vector<int> reached(kTimelineCtas, 0);
  static Marks marks;
  static Spans spans;
  static Sms sms;
  // Per grid (its first mark), per replay: CTAs, SMs, start and end quantiles, durations (ns).
  std::vector<std::vector<std::vector<double>>> grid_stats(kTimelineMarks);
  std::vector<std::vector<int>> alive(kTimelineMarks);  // the last replay's CTAs alive at each us
  for (int rep = 0; rep < o.reps; ++rep) {
    check(cudaMemsetAsync(marks_at, 0, sizeof(Marks), stream), "clear");
    check(cudaMemsetAsync(spans_at, 0, sizeof(Spans), stream), "clear spans");
    check(cudaEventRecord(start, stream), "record");
    check(cudaGraphLaunch(exec, stream), "launch");
    check(cudaEventRecord(stop, stream), "record");
    check(cudaStreamSynchronize(stream), "sync");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start, stop), "elapsed");
    per_call.push_back(ms * 1e3f / calls);
    check(cudaMemcpy(marks, marks_at, sizeof(Marks), cudaMemcpyDeviceToHost), "read marks");
    check(cudaMemcpy(spans, spans_at, sizeof(Spans), cudaMemcpyDeviceToHost), "read spans");
    check(cudaMemcpy(sms, sms_at, sizeof(Sms), cudaMemcpyDeviceToHost), "read sms");
    span_stats(spans, sms, grid_stats, alive);
    unsigned long long first = ~0ull;
    for (int c = 0; c < kTimelineCtas; ++c)
      if (marks[c][0][1]) first = std::min(first, marks[c][0][1]);
    for (int c = 0; c < kTimelineCtas; ++c) {
      int n = 0;
      while (n < kTimelineMarks && marks[c][n][1]) ++n;
      if (!n) continue;
      reached[c] = std::max(reached[c], n);
      for (int m = 0; m < n; ++m) at_ns[c][m].push_back(double(int64_t(marks[c][m][1] - first)));
      for (int m = 1; m < n; ++m) {
        // A mark older than the one before it was left by another kernel (or an earlier call).
        if (marks[c][m][1] < marks[c][m - 1][1]) fprintf(stderr, "CTA %d: mark %d precedes mark %d\n", c, m, m - 1);
        cycles[c][m].push_back(double(int64_t(marks[c][m][0] - marks[c][m - 1][0])));
      }
    }
  }
  printf("graph of %d calls over %d inputs: %.2f us a call (median of %d replays, marks included)\n", calls, copies,
         median(per_call), o.reps);
  if (std::count(reached.begin(), reached.end(), 0) == kTimelineCtas) printf("no CTA wrote a mark\n");
  printf("per CTA (thread 0): the cycles from each mark to the next (SM clock: meaningless between two\n"
         "kernels' marks), then each mark's global time in ns after the earliest CTA's first mark\n"
         "(medians over the replays)\n");
  for (int c = 0; c < kTimelineCtas; ++c) {
    if (!reached[c]) continue;
    printf("CTA %2d cycles:", c);
    for (int m = 1; m < reached[c]; ++m)
      printf(" %d:%.0f", m, cycles[c][m].empty() ? NAN : median(cycles[c][m]));
    printf("\n       ns:");
    for (int m = 0; m < reached[c]; ++m) printf(" %d:%.0f", m, at_ns[c][m].empty() ? NAN : median(at_ns[c][m]));
    printf("\n");
  }
  print_spans(grid_stats, alive);
  if (branches) tk::close_branch(branch);
  return 0;
}
