#!/usr/bin/env bash
# One device call for a kernel candidate (scripts/build-variant.sh NEW): compare-builds of NEW
# against each BASE on the cases given (each build in turn, the same run; ratios to the first
# BASE), then on NEW the GPU jest suites, compute-sanitizer's four tools over the register
# kernel's shapes (sorted and unsorted, every tie-break, f32 and bf16), `nsa-topk verify` and 200
# `fuzz` cases, each step only while the budget (--budget S seconds, default 540) leaves it room,
# so that a machine lent for one call returns what it measured. Under ${OUT:-/tmp}: summary.txt,
# compare.log, compare.tgz (the per-case logs and JSON), gpu-jest.log and logs.tgz (the rest):
# within a call's eight files. Exits 1 if a step failed or timed out (not if one was skipped).
# Usage: scripts/candidate-round.sh [--budget S] [--case "BENCH ARGS"]... NEW [BASE...]
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR="${OUT:-/tmp}"
mkdir -p "$OUT_DIR"
budget=540 cases=() builds=()
while [ $# -gt 0 ]; do
  case "$1" in
    --budget) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "--budget takes seconds" >&2; exit 2; }; budget=$2; shift ;;
    --case) [ -n "${2:-}" ] || { echo "--case takes a string of bench arguments" >&2; exit 2; }; cases+=(--case "$2"); shift ;;
    *) builds+=("$1") ;;
  esac
  shift
done
[ ${#builds[@]} -ge 1 ] || { echo "usage: $0 [--budget S] [--case \"BENCH ARGS\"]... NEW [BASE...]" >&2; exit 2; }
new=${builds[0]}
binary=$PWD/build/variants/$new/nsa_topk.node
[ "$new" = current ] && binary=$PWD/build/Release/nsa_topk.node
[ -f "$binary" ] || { echo "no binary for build $new: $binary" >&2; exit 2; }
start=$SECONDS
S="$OUT_DIR/summary.txt"
: >"$S"
left() { echo $((budget - (SECONDS - start))); }
note() { echo "$1 at $((SECONDS - start)) s" >>"$S"; }
run() {  # run NAME NEEDS LIMIT LOG COMMAND...: COMMAND if NEEDS seconds are left, stopped after LIMIT
  local name=$1 needs=$2 limit=$3 log=$4; shift 4
  if [ "$(left)" -lt "$needs" ]; then note "$name: skipped (budget)"; return; fi
  [ "$limit" -gt "$(left)" ] && limit=$(left)
  timeout "$limit" "$@" >"$OUT_DIR/$log" 2>&1
  local rc=$?
  note "$name: $([ $rc = 0 ] && echo PASS || { [ $rc = 124 ] && echo "TIMEOUT ($limit s)" || echo "FAIL (exit $rc)"; })"
}
nvidia-smi --query-gpu=name --format=csv,noheader >>"$S" 2>&1
if [ ${#builds[@]} -ge 2 ]; then
  run "compare ${builds[*]:1} $new" 60 $((90 * ${#builds[@]} - 30)) compare.log \
    env OUT="$OUT_DIR" scripts/compare-builds.sh "${cases[@]}" "${builds[@]:1}" "$new"
  [ -d "$OUT_DIR/compare-builds" ] && tar czf "$OUT_DIR/compare.tgz" -C "$OUT_DIR" compare-builds && rm -rf "$OUT_DIR/compare-builds"
fi
export NSA_TOPK_BINARY=$binary
run "jest test/gpu" 120 240 gpu-jest.log env REQUIRE_GPU=1 node node_modules/jest/bin/jest.js test/gpu
shapes='[[8, 8192], [7, 8191, 1], [5, 3001, 2], [140, 8191], [133, 8192, 1], [133, 8192, 2], [140, 8192, 0, 500]]'
for t in memcheck racecheck synccheck initcheck; do
  run "compute-sanitizer $t" 60 90 "sanitizer-$t.log" compute-sanitizer --tool "$t" --error-exitcode 1 \
    node scripts/sanitized-run.js "$shapes" '["radix"]'
done
run "nsa-topk verify" 60 120 verify.log node dist/cli/main.js verify
run "nsa-topk fuzz radix (200 cases)" 20 60 fuzz.log node dist/cli/main.js fuzz --backend radix --cases 200 --seed 45
grep -hE "^Tests:|✕" "$OUT_DIR/gpu-jest.log" 2>/dev/null | head -12 >>"$S"
grep -h "^verify:" "$OUT_DIR/verify.log" 2>/dev/null >>"$S"
tail -qn 1 "$OUT_DIR/fuzz.log" 2>/dev/null >>"$S"
rest=$(cd "$OUT_DIR" && ls sanitizer-*.log verify.log fuzz.log 2>/dev/null)
[ -n "$rest" ] && tar czf "$OUT_DIR/logs.tgz" -C "$OUT_DIR" $rest && (cd "$OUT_DIR" && rm -f $rest)
cat "$S"
[ -f "$OUT_DIR/compare.log" ] && { echo "=="; tail -n 30 "$OUT_DIR/compare.log"; }
! grep -qE "FAIL|TIMEOUT" "$S"
