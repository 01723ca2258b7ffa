#!/usr/bin/env bash
# Nsight Compute profile of the radix kernel on the GPU machine: one big-batch shape and one
# decode shape, the sections that explain a memory-bound kernel's gap. Reports under ${OUT:-/tmp}.
# Usage: scripts/profile-radix.sh ["ROWSxLEN" ...]   (default: 4096x131072 1x131072)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR="${OUT:-/tmp}"
shapes=("$@")
[ ${#shapes[@]} -gt 0 ] || shapes=(4096x131072 1x131072)
for shape in "${shapes[@]}"; do
  rows=${shape%x*} len=${shape#*x}
  ncu --clock-control none --target-processes all -k regex:radix_select -c 1 \
    --section SpeedOfLight --section Occupancy --section WarpStateStats --section MemoryWorkloadAnalysis \
    --section LaunchStats --section SourceCounters \
    node dist/cli/main.js bench --rows "$rows" --lengths "$len" --iters 1 --warmup 1 --no-torch \
    >"$OUT_DIR/ncu-$shape.txt" 2>&1
  echo "== $shape"
  grep -E "Duration|DRAM Throughput|Memory Throughput|Compute \(SM\) Throughput|Achieved Occupancy|Registers Per|Block Limit Shared|Warp Cycles Per Issued|Stall|Threads  " "$OUT_DIR/ncu-$shape.txt" | head -30
done
