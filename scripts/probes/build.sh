#!/usr/bin/env bash
# Builds the probes (standalone GPU programs, no Node) into build/probes with nvcc, here or on the
# GPU machine; carry build/probes there to save it the compile (timeline compiles all of
# dispatch.cu: about 4 minutes on this machine's 2 cores). `scripts/gpu-suite.sh --only probes`
# runs them.
# `--check` runs nvcc's front end alone (seconds, no binary), so that the tests catch a probe the
# kernels' sources have moved away from (test/probes.test.ts).
# Usage: scripts/probes/build.sh [--check] [cluster_exchange|timeline]...   (default: both)
set -euo pipefail
cd "$(dirname "$0")/../.."
# The addon's CUDA flags (CMakeLists.txt), for sm_90.
flags=(-O3 -std=c++17 -DNDEBUG --generate-code=arch=compute_90,code=sm_90 --expt-relaxed-constexpr -ftz=false)
out=build/probes
if [ "${1:-}" = --check ]; then
  shift
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  flags+=(-cuda -fdevice-syntax-only)
fi
mkdir -p "$out"
probes=("$@")
[ ${#probes[@]} -gt 0 ] || probes=(cluster_exchange timeline)
for p in "${probes[@]}"; do
  case "$p" in
    cluster_exchange) nvcc "${flags[@]}" -Icsrc -o "$out/cluster_exchange" scripts/probes/cluster_exchange.cu ;;
    timeline) nvcc "${flags[@]}" -DNSA_TOPK_WITH_CUDA=1 -Icsrc -diag-suppress 186 -o "$out/timeline" scripts/probes/timeline.cu ;;
    *) echo "unknown probe: $p (cluster_exchange, timeline)" >&2; exit 2 ;;
  esac
  if [ "$out" = build/probes ]; then echo "built build/probes/$p"; else echo "checked $p"; fi
done
