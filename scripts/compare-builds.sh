#!/usr/bin/env bash
# Times builds of the addon side by side on the GPU machine: every case runs with each build in
# turn (the same run, so the figures compare), and a table gives each shape's median us per build
# and its ratio to the first build. A build is `current` (build/Release) or a NAME from
# scripts/build-variant.sh (build/variants/NAME). A case is a string of `nsa-topk bench`
# arguments; the default cases are the batch issue's shapes. Logs and JSON under ${OUT:-/tmp}.
# Usage: scripts/compare-builds.sh [--case "BENCH ARGS"]... BUILD...
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR="${OUT:-/tmp}/compare-builds"
mkdir -p "$OUT_DIR"
cases=()
builds=()
while [ $# -gt 0 ]; do
  case "$1" in
    --case) [ -n "${2:-}" ] || { echo "--case takes a string of bench arguments" >&2; exit 2; }; cases+=("$2"); shift ;;
    *) builds+=("$1") ;;
  esac
  shift
done
[ ${#builds[@]} -gt 0 ] || { echo "usage: $0 [--case \"BENCH ARGS\"]... BUILD... (current, or a build/variants NAME)" >&2; exit 2; }
[ ${#cases[@]} -gt 0 ] || cases=(
  "--rows 512,4096 --lengths 131072"
  "--rows 512,4096 --lengths 131072 --dist relu"
  "--rows 4096 --lengths 131072 --k 512"
  "--rows 4096 --lengths 131072 --dtype bf16"
  "--rows 512,4096 --lengths 32768"
)
binary_of() { [ "$1" = current ] && echo "$PWD/build/Release/nsa_topk.node" || echo "$PWD/build/variants/$1/nsa_topk.node"; }
[ "$(printf '%s\n' "${builds[@]}" | sort -u | wc -l)" = ${#builds[@]} ] || { echo "each build may be named once" >&2; exit 2; }
for b in "${builds[@]}"; do
  [ -f "$(binary_of "$b")" ] || { echo "no binary for build $b: $(binary_of "$b")" >&2; exit 2; }
done
[ -f dist/cli/main.js ] || npx tsc -p tsconfig.json
failed=0
for i in "${!cases[@]}"; do
  for b in "${builds[@]}"; do
    # shellcheck disable=SC2086  # a case is a list of arguments
    if ! NSA_TOPK_BINARY="$(binary_of "$b")" node dist/cli/main.js bench --no-torch ${cases[$i]} \
      --json "$OUT_DIR/case$i-$b.json" >"$OUT_DIR/case$i-$b.log" 2>&1; then
      echo "case $i (${cases[$i]}) failed with build $b: see $OUT_DIR/case$i-$b.log" >&2
      failed=1
    fi
  done
done
node - "$OUT_DIR" "${#cases[@]}" "${builds[@]}" <<'JS'
const fs = require('fs');
const [dir, ncases, ...builds] = process.argv.slice(2);
const label = (r, opts) => {
  const extra = [r.dtype !== 'f32' && r.dtype, r.dist !== 'normal' && r.dist, opts.sorted && 'sorted',
    opts.deterministic && 'det', opts.tieBreak !== 'none' && `tie ${opts.tieBreak}`].filter(Boolean);
  return `${r.rows}x${r.length} k=${r.k}${extra.length ? ' ' + extra.join(' ') : ''}`;
};
const lines = [['shape', ...builds.map((b, j) => (j ? `${b} us (x)` : `${b} us`))]];
for (let i = 0; i < Number(ncases); i++) {
  const runs = builds.map((b) => {
    const file = `${dir}/case${i}-${b}.json`;
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
  });
  const first = runs.find(Boolean);
  if (!first) continue;
  first.results.forEach((r, n) => {
    const base = runs[0]?.results[n]?.medianUs;
    lines.push([label(r, first.options), ...runs.map((run, j) => {
      const us = run?.results[n]?.medianUs;
      if (us === undefined) return '-';
      return j && base ? `${us.toFixed(1)} (${(us / base).toFixed(3)})` : us.toFixed(1);
    })]);
  });
}
const width = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
for (const l of lines) console.log(l.map((cell, c) => (c ? cell.padStart(width[c]) : cell.padEnd(width[c]))).join('  '));
JS
exit "$failed"
