#!/usr/bin/env bash
# Builds the probes (standalone GPU programs, no Node) into build/probes with nvcc, here or on the
# GPU machine; carry build/probes there to save it the compile (timeline compiles all of
# dispatch.cu: about 4 minutes on this machine's 2 cores). `scripts/gpu-suite.sh --only probes`
# runs them.
# Usage: scripts/probes/build.sh [cluster_exchange|timeline]...   (default: both)
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/probes
# The addon's CUDA flags (CMakeLists.txt), for sm_90.
flags=(-O3 -std=c++17 -DNDEBUG --generate-code=arch=compute_90,code=sm_90 --expt-relaxed-constexpr -ftz=false)
probes=("$@")
[ ${#probes[@]} -gt 0 ] || probes=(cluster_exchange timeline)
for p in "${probes[@]}"; do
  case "$p" in
    cluster_exchange) nvcc "${flags[@]}" -Icsrc -o build/probes/cluster_exchange scripts/probes/cluster_exchange.cu ;;
    timeline) nvcc "${flags[@]}" -DNSA_TOPK_WITH_CUDA=1 -Icsrc -diag-suppress 186 -o build/probes/timeline scripts/probes/timeline.cu ;;
    *) echo "unknown probe: $p (cluster_exchange, timeline)" >&2; exit 2 ;;
  esac
  echo "built build/probes/$p"
done
