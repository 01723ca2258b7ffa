#!/usr/bin/env bash
# What the GPU machine runs, in parts: `tests` (the GPU test suites; a GPU is required),
# `sanitize` (compute-sanitizer runs; only with --sanitize), `checks` (`nsa-topk verify` and
# `fuzz`), `bench` (`nsa-topk bench`, the quickstart), `tables` (the raw files of the README's
# performance tables and the issues' other rows, under ${OUT:-/tmp}/tables; only with --only
# tables) and `probes` (scripts/probes; only with --only probes). Logs go to ${OUT:-/tmp}; a short
# summary is printed last. `--only PART` (repeatable) runs the named parts alone, so that a machine
# lent for a few minutes at a time can take the suite in several calls; `--step-timeout S` stops any
# one step after S seconds (reported as TIMEOUT, the run goes on), so that one slow step cannot
# take the rest of a lent machine's time.
# `--only sanitize-runs` runs the sanitize part's end-to-end runs without its fuzz cases (a third of
# its time), for a machine lent for a few minutes. `--tool T` (repeatable) keeps the sanitize parts
# to the named compute-sanitizer tools (racecheck alone takes five minutes on an H100).
# Usage: scripts/gpu-suite.sh [--sanitize] [--step-timeout S] [--tool memcheck|racecheck|synccheck|initcheck]...
#        [--only tests|sanitize|sanitize-runs|checks|bench|tables|probes]...
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR="${OUT:-/tmp}"
mkdir -p "$OUT_DIR"
USAGE="usage: $0 [--sanitize] [--step-timeout S] [--tool memcheck|racecheck|synccheck|initcheck]... [--only tests|sanitize|sanitize-runs|checks|bench|tables|probes]..."
SANITIZE=0
ONLY=""
TOOLS=""  # empty: every tool
STEP_TIMEOUT=0  # 0: no limit
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) SANITIZE=1 ;;
    --step-timeout)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "--step-timeout takes a number of seconds ($USAGE)" >&2; exit 2; }
      STEP_TIMEOUT="$2"; shift ;;
    --tool)
      case "${2:-}" in
        memcheck | racecheck | synccheck | initcheck) TOOLS="$TOOLS $2"; shift ;;
        *) echo "--tool takes memcheck, racecheck, synccheck or initcheck ($USAGE)" >&2; exit 2 ;;
      esac ;;
    --only)
      case "${2:-}" in
        tests | sanitize | sanitize-runs | checks | bench | tables | probes) ONLY="$ONLY $2"; shift ;;
        *) echo "--only takes tests, sanitize, sanitize-runs, checks, bench, tables or probes ($USAGE)" >&2; exit 2 ;;
      esac ;;
    *) echo "unknown argument: $1 ($USAGE)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$ONLY" ] && [[ " $ONLY " == *" sanitize "* ]] && SANITIZE=1
tool() {  # tool NAME: whether this run's sanitize parts include the compute-sanitizer tool
  [ -z "$TOOLS" ] || [[ " $TOOLS " == *" $1 "* ]]
}
part() {  # part NAME: whether this run includes the part
  if [ -n "$ONLY" ]; then [[ " $ONLY " == *" $1 "* ]]; elif [ "$1" = sanitize ] || [ "$1" = sanitize-runs ]; then [ "$SANITIZE" = 1 ]; else [ "$1" != probes ] && [ "$1" != tables ]; fi
}

declare -a SUMMARY=()
FAILED=0
step() {  # step NAME LOG COMMAND...: runs one step, logs it, records pass/fail
  local name="$1" log="$OUT_DIR/$2"; shift 2
  echo "== $name (log: $log)"
  local start=$SECONDS
  timeout "$STEP_TIMEOUT" "$@" >"$log" 2>&1
  local rc=$?
  if [ "$rc" = 0 ]; then
    SUMMARY+=("PASS  $name ($((SECONDS - start)) s)")
  elif [ "$rc" = 124 ] && [ "$STEP_TIMEOUT" != 0 ]; then
    SUMMARY+=("TIMEOUT  $name (stopped after $STEP_TIMEOUT s, see $log)")
    FAILED=1
  else
    SUMMARY+=("FAIL  $name ($((SECONDS - start)) s, exit $rc, see $log)")
    FAILED=1
  fi
  tail -n 5 "$log"
}

[ -f dist/cli/main.js ] || npx tsc -p tsconfig.json
part tests && step "jest test/gpu" gpu-jest.log env REQUIRE_GPU=1 node node_modules/jest/bin/jest.js test/gpu
if part sanitize || part sanitize-runs; then
  # Small end-to-end runs through every kernel under compute-sanitizer; any report fails the step.
  # memcheck's shapes reach each path: 8 x 8192, 7 x 8191 ReLU-like and 5 x 3001 of four
  # distinct values the register kernel's few-rows policy (512 threads a row), 8 x 40000 cached
  # 4-CTA clusters, 160 x 20000 one streaming radix CTA per row, 140 x 70001 and 140 x 40001 the
  # batch kernel (rows >= SMs, rows >= 32768 at k <= 2048, 65536 above; odd lengths, so
  # unaligned rows too), 133 x 65536 of ReLU-like
  # scores (mostly 0.0) its plateau and ties passes; at k = 2048 the batch kernel's small-k
  # policy, at k = 4096 its large one; 140 x 8191, 133 x 8192 ReLU-like and 133 x 1500 the
  # register kernel (rows >= SMs of up to 8192; odd lengths, so rows at every alignment), and
  # 133 x 8192 and 133 x 3001 of four distinct values its radix select over a large gathered
  # bin (ReLU-like rows leave theirs in the registers); 2 x 140001 normal and ReLU-like, 3 x 131073
  # of four values, 1 x 262144 and 2 x 262144 ReLU-like 8-CTA clusters with each CTA alone on its
  # SM, unsorted, caching more than 16384 keys (two RunRank rounds; 32768 keys, the region's limit,
  # at 262144), and sorted the spread kernels; 2 x 300001 normal and ReLU-like, 3 x 262145 of four
  # values (the k-th's bin, one key, overflows the candidates) and 1 x 300000 at k = 512 the spread
  # kernels (few rows longer than 8-CTA clusters cache), 60 x 131072 ReLU-like and 29 x 524288
  # of four values the chunked path (4 and 8 chunks a row for the batch kernel, then the
  # candidates' top-k on the register kernel and the radix clusters). Each shape as f32 and as bf16 (the batch
  # kernel compares 16-bit scores in pairs). racecheck, synccheck and initcheck are slower: the batch- and
  # register-kernel shapes (both register policies), the chunked path's, and the radix clusters'
  # (8 x 40000: 4-CTA clusters; 2 x 100000 of four values: 8-CTA clusters, every pass; their
  # histograms summed by asynchronous stores on mbarriers; 2 x 100000 ReLU-like: a plateau too
  # large to list, swept from the cached chunks), every tie-break.
  # A shape is [rows, length, kind (0 normal-like, 1 ReLU-like, 2 four values), k (default 2048)]
  # (scripts/sanitized-run.js).
  tool memcheck && step "compute-sanitizer memcheck" sanitizer.log compute-sanitizer --tool memcheck --error-exitcode 1 \
    node scripts/sanitized-run.js '[[8, 8192], [7, 8191, 1], [5, 3001, 2], [8, 40000], [160, 20000], [140, 70001], [140, 40001], [133, 65536, 1], [133, 65537, 0, 4096], [133, 65536, 1, 4096], [140, 8191], [133, 8192, 1], [133, 1500], [133, 8192, 2], [133, 3001, 2], [2, 140001], [2, 140001, 1], [3, 131073, 2], [1, 262144], [2, 262144, 1], [2, 300001], [2, 300001, 1], [3, 262145, 2], [1, 300000, 0, 512], [60, 131072, 1], [29, 524288, 2], [2, 100000, 1]]' '["radix", "sort"]'
  for t in racecheck synccheck initcheck; do
    tool "$t" || continue
    step "compute-sanitizer $t" "sanitizer-$t.log" compute-sanitizer --tool "$t" --error-exitcode 1 \
      node scripts/sanitized-run.js '[[8, 8192], [7, 8191, 1], [5, 3001, 2], [133, 65537], [140, 40001], [133, 65536, 1], [133, 65537, 0, 4096], [133, 65536, 1, 4096], [140, 8191], [133, 8192, 1], [133, 1500], [133, 8192, 2], [133, 3001, 2], [2, 140001], [2, 140001, 1], [3, 131073, 2], [1, 262144], [2, 262144, 1], [2, 300001], [2, 300001, 1], [3, 262145, 2], [60, 131072, 1], [29, 524288, 2], [8, 40000], [2, 100000, 2], [2, 100000, 1]]' '["radix"]'
  done
  # Every path the fuzzer draws (each forced radix path, cached and streamed, the sort backend,
  # every dtype, tie-break, order and transform, graph replays, windows out of range), under
  # every tool. memcheck leaves CUDA API errors out here: a graph-safe op's capture counts each
  # kernel's parameters by asking cudaFuncGetParamInfo for one past the last (CUDA has no count
  # query; csrc/binding/kernel_relocations.cpp), which memcheck would report at every capture.
  # Any other failing CUDA call throws and fails the case, so the fuzzer still catches it.
  # racecheck is about ten times slower than the others: 25 cases (60 s on the H200), not 100;
  # on the sort backend (CUB's sorts, many kernels per call) 25 cases of the default shapes took
  # more than 60 s, so it takes rows <= 4 of length <= 512 there (50 such cases took 93 s).
  part sanitize && for t in memcheck racecheck synccheck initcheck; do
    tool "$t" || continue
    api_errors=()
    [ "$t" = memcheck ] && api_errors=(--report-api-errors no)
    for backend in radix sort; do
      limits=(--cases 100)
      [ "$t" = racecheck ] && limits=(--cases 25)
      [ "$t" = racecheck ] && [ "$backend" = sort ] && limits=(--cases 25 --max-rows 4 --max-len 512)
      step "compute-sanitizer $t fuzz $backend" "sanitizer-fuzz-$t-$backend.log" \
        compute-sanitizer --tool "$t" "${api_errors[@]}" --error-exitcode 1 node dist/cli/main.js fuzz --backend "$backend" "${limits[@]}" --graph --seed 7
    done
  done
fi
if part checks; then
  step "nsa-topk verify" verify.log node dist/cli/main.js verify
  for backend in radix sort; do
    step "nsa-topk fuzz $backend (10000 cases, graph replays)" "fuzz-$backend.log" \
      node dist/cli/main.js fuzz --backend "$backend" --cases 10000 --graph --seed 1
  done
  # Shapes the batch kernel takes by the heuristic (rows >= SMs, rows >= 32768 long at k <= 2048, 65536 above).
  step "nsa-topk fuzz radix, batch shapes" fuzz-batch.log \
    node dist/cli/main.js fuzz --backend radix --cases 100 --max-rows 160 --max-len 70000 --max-k 4096 --seed 2
fi
if part bench; then
  step "nsa-topk bench" bench.log node dist/cli/main.js bench --json "$OUT_DIR/bench.json"
  step "nsa-topk bench --graph" bench-graph.log node dist/cli/main.js bench --graph --no-torch --json "$OUT_DIR/bench-graph.json"
  # The same graphs of N calls with PDL launches, against bench.json's (issue 10).
  step "nsa-topk bench --pdl" bench-pdl.log node dist/cli/main.js bench --pdl --no-torch --json "$OUT_DIR/bench-pdl.json"
  # Issue 10's adaptation on the device: an op built for 8 x 1048576 running rows of 32768 (at
  # stride 32768, and at its own stride with device lengths of 32768: the length split), and a
  # batch mixing 4096- and 1048576-long rows, each against the shapes' own ops; and the same
  # for an op of 64 x 1048576 (the chunked path: its chunks cut from the device lengths).
  step "nsa-topk bench --max-len/--row-lengths" bench-adapt.log bash -c '
    node dist/cli/main.js bench --rows 64 --lengths 1048576 --row-lengths 32768 --max-rows 64 --max-len 1048576 --no-torch &&
    node dist/cli/main.js bench --rows 64 --lengths 1048576 --row-lengths 4096,1048576 --no-torch &&
    node dist/cli/main.js bench --rows 8 --lengths 32768,1048576 --no-torch &&
    node dist/cli/main.js bench --rows 8 --lengths 32768 --max-len 1048576 --no-torch &&
    node dist/cli/main.js bench --rows 8 --lengths 1048576 --row-lengths 32768 --max-rows 8 --max-len 1048576 --no-torch &&
    node dist/cli/main.js bench --rows 8 --lengths 1048576 --row-lengths 4096,1048576 --no-torch'
  step "examples/quickstart.js" quickstart.log node examples/quickstart.js
fi
if part tables; then
  # What the README's tables and the issues' other rows are rendered from (`node
  # scripts/bench-table.js [--grid] FILE...`): the default grid with torch.topk, the decode rows of
  # 262144 and 1048576, ReLU and k = 512 rows, bf16 and sorted at 4096 x 131072, and the grid
  # deterministic with tie-break small. About 5 minutes on an H100. A device call returns 8 files:
  # pack the folder.
  T="$OUT_DIR/tables"
  mkdir -p "$T"
  B=(node dist/cli/main.js bench)
  step "tables: default grid" tables-default.log "${B[@]}" --json "$T/default.json"
  step "tables: decode rows" tables-decode.log "${B[@]}" --rows 1,8,64 --lengths 262144,1048576 --no-torch --json "$T/decode.json"
  step "tables: ReLU" tables-relu.log "${B[@]}" --rows 1,64,512,4096 --lengths 131072 --dist relu --no-torch --json "$T/relu.json"
  step "tables: k = 512" tables-k512.log "${B[@]}" --rows 1,64,4096 --lengths 131072 --k 512 --no-torch --json "$T/k512.json"
  step "tables: bf16" tables-bf16.log "${B[@]}" --rows 4096 --lengths 131072 --dtype bf16 --no-torch --json "$T/bf16.json"
  step "tables: sorted" tables-sorted.log "${B[@]}" --rows 4096 --lengths 131072 --sorted --no-torch --json "$T/sorted.json"
  step "tables: deterministic" tables-det.log "${B[@]}" --deterministic --tie-break small --no-torch --json "$T/det.json"
fi
if part probes; then
  # What one round of a cluster's histogram exchange costs by the way it is made, and the stage
  # marks of issue 10's decode shapes (kernel-notes: "Without a GPU (session 40)"). Built here
  # unless build/probes was carried.
  [ -x build/probes/cluster_exchange ] && [ -x build/probes/timeline ] || scripts/probes/build.sh >"$OUT_DIR/probes-build.log" 2>&1
  # The groups way runs the kernel's pick, whose waits have no watchdog: a hang stops at 180 s.
  step "probe: cluster exchange" probe-exchange.log timeout 180 build/probes/cluster_exchange
  step "probe: timelines" probe-timeline.log bash -c '
    for shape in "1 8192" "8 8192" "1 32768" "8 32768" "64 32768" "1 131072" "8 131072"; do
      set -- $shape; build/probes/timeline --rows "$1" --len "$2" || exit 1
    done
    build/probes/timeline --rows 1 --len 131072 --dist relu'
fi

echo
echo "== summary"
if part checks; then
  grep -h "^verify:" "$OUT_DIR/verify.log" 2>/dev/null || true
  tail -qn 1 "$OUT_DIR"/fuzz-*.log 2>/dev/null || true
fi
part tests && { grep -hE "^Tests:" "$OUT_DIR/gpu-jest.log" 2>/dev/null || true; }
printf '%s\n' "${SUMMARY[@]}"
exit "$FAILED"
