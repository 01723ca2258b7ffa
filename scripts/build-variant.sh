#!/usr/bin/env bash
# Builds the addon from the native sources as they are now into build/variants/NAME/nsa_topk.node
# (build/Release is left alone), for timing kernel candidates side by side on the GPU machine
# (scripts/compare-builds.sh). Each build starts from a clean build directory, so no cached
# option carries over, and prints the batch and register kernels' register and spill lines
# (ptxas -v). Further arguments go to cmake-js: `--CDNSA_TOPK_CUDA_ARCHS=90-real` leaves the PTX out
# (machine code only), so that more builds fit one device call's carry. The addon is stripped of
# what loading it does not need, for the same reason.
# Usage: scripts/build-variant.sh NAME [CMAKE-JS ARGS...]   (then carry build/variants/NAME)
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-}"
[[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || { echo "usage: $0 NAME [CMAKE-JS ARGS...] (NAME: letters, digits, . _ -)" >&2; exit 2; }
shift
work="build/variant-work/$name"
log="$work.log"
mkdir -p build/variant-work "build/variants/$name"
rm -rf "$work"
if ! npx cmake-js rebuild -O "$work" --CDNSA_TOPK_PTXAS_VERBOSE=ON "$@" >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "build failed; the whole log: $log" >&2
  exit 1
fi
cp "$work/Release/nsa_topk.node" "build/variants/$name/nsa_topk.node"
strip --strip-unneeded "build/variants/$name/nsa_topk.node"
# ptxas -v: "Function properties for <kernel>", then its spills, then its registers. A kernel
# instantiation is named by its policy (the register kernel's by its threads), dtype (mangled
# DTypeE0 f32, E1 f16, E2 bf16), whether the tie-break prefers large positions (the bool after
# the dtype) and, for the register kernel, whether a cluster holds the row (the next bool).
awk '/Function properties for .*(batch|register)_topk_kernel/ {
       n = $NF; name = (n ~ /SmallK/ ? "batch kernel, small-k " : "batch kernel, large-k ")
       if (n ~ /register_topk/) name = "register kernel, " (n ~ /ILi512E/ ? "512 threads, " : "256 threads, ")
       name = name (n ~ /DTypeE0/ ? "f32" : n ~ /DTypeE1/ ? "f16" : "bf16")
       if (n ~ /DTypeE[0-9]EEELb1E/) name = name " large"
       if (n ~ /register_topk/ && n ~ /Lb[01]ELb1EEEv/) name = name ", cluster"
       k = 2; next }
     k == 2 { match($0, /[0-9]+ bytes spill stores/); spill = substr($0, RSTART, RLENGTH); k = 1; next }
     k == 1 { match($0, /Used [0-9]+ registers/); print name ": " substr($0, RSTART, RLENGTH) ", " spill; k = 0 }' "$log"
echo "built build/variants/$name/nsa_topk.node (log: $log)"
