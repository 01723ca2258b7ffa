#!/usr/bin/env bash
# Nsight Compute profile of the top-k kernels of one call on the GPU machine: the first `--launches`
# launches (default 1) whose names match `--kernel` (default: the batch, radix and register
# kernels; `spread` with --launches 3 takes the spread path's three), the sections that explain a
# memory-bound kernel's gap, and per launch the 40 SASS lines with the most warp-stall samples.
# `--path` forces a radix path as `nsa-topk bench --path` does; `--sampling N` sets ncu's warp
# sampling interval (2^(5+N) cycles; the default, auto, takes few samples of a short kernel, 0
# many). `--sorted` and `--dtype D` profile sorted output and 16-bit scores (the report's name
# says so). `--warm` profiles a later launch (the fourth eager call) without ncu's cache flushes,
# so that a short kernel's instruction cache is warm as in a server's graph (its row may then sit
# in L2: read the loads' share with that in mind); the report's name says -warm. Per launch, its
# stall samples by reason ($rep-stalls.txt). Reports under ${OUT:-/tmp}.
# Usage: scripts/profile.sh [--dist normal|relu|equal|hotSpan] [--kernel REGEX] [--launches N]
#        [--path P] [--sampling N] [--sorted] [--dtype f32|bf16|f16] [--warm] ["ROWSxLEN" ...]
#        (default shapes: 4096x131072 1x131072)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR="${OUT:-/tmp}"
dist=normal kernel='radix_select|batch_topk|register_topk' launches=1 path=() sampling=auto sorted=() dtype=f32
warm=() warmup=1
while [ $# -gt 0 ]; do
  case "$1" in
    --dist) dist=$2; shift 2 ;;
    --kernel) kernel=$2; shift 2 ;;
    --launches) launches=$2; shift 2 ;;
    --path) path=(--path "$2"); shift 2 ;;
    --sampling) sampling=$2; shift 2 ;;
    --sorted) sorted=(--sorted); shift ;;
    --dtype) dtype=$2; shift 2 ;;
    --warm) warm=(--cache-control none --launch-skip 3) warmup=5; shift ;;
    *) break ;;
  esac
done
shapes=("$@")
[ ${#shapes[@]} -gt 0 ] || shapes=(4096x131072 1x131072)
for shape in "${shapes[@]}"; do
  rows=${shape%x*} len=${shape#*x}
  rep="$OUT_DIR/ncu-$shape-$dist-$dtype${sorted:+-sorted}${warm:+-warm}"
  # The bench's warm-up calls are eager launches: the first top-k kernel it meets is profiled (--warm:
  # the fourth).
  ncu --clock-control none "${warm[@]}" --target-processes all -k regex:"$kernel" -c "$launches" --warp-sampling-interval "$sampling" \
    --section SpeedOfLight --section Occupancy --section WarpStateStats --section MemoryWorkloadAnalysis \
    --section LaunchStats --section InstructionStats --section SourceCounters -f -o "$rep" \
    node dist/cli/main.js bench --rows "$rows" --lengths "$len" --dist "$dist" --dtype "$dtype" "${sorted[@]}" --warmup "$warmup" --replays 1 --graph-calls 10 --no-torch "${path[@]}" \
    >"$rep.log" 2>&1
  ncu --import "$rep.ncu-rep" --page details >"$rep.txt" 2>&1
  ncu --import "$rep.ncu-rep" --page raw --csv >"$rep-raw.csv" 2>&1
  python3 - "$rep-raw.csv" >"$rep-stalls.txt" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
head = next(i for i, r in enumerate(rows) if 'Kernel Name' in r)
cols, prefix = rows[head], 'smsp__pcsamp_warps_issue_stalled_'
name = cols.index('Kernel Name')
for r in rows[head + 2:]:  # past the units row
    if len(r) != len(cols):
        continue
    counts = {c[len(prefix):]: float(v.replace(',', '') or 0) for c, v in zip(cols, r)
              if c.startswith(prefix) and not c.endswith('_not_issued') and v.replace(',', '').replace('.', '').isdigit()}
    total = sum(counts.values()) or 1
    print(f'== {r[name][:90]}: {total:.0f} samples')
    for reason, n in sorted(counts.items(), key=lambda kv: -kv[1])[:8]:
        print(f'{100 * n / total:5.1f}%  {reason}')
PY
  rm -f "$rep-raw.csv"
  ncu --import "$rep.ncu-rep" --page source --csv --print-source sass >"$rep.csv" 2>&1
  # Per launch: the hottest SASS lines, and every executed line in program order ($rep-sass-N.txt:
  # index, warp instructions, stall samples, SASS) to attribute a kernel's time to its stages.
  python3 - "$rep.csv" "$rep" >"$rep-hot.txt" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
heads = [i for i, r in enumerate(rows) if any(c.startswith('Instructions Executed') for c in r)]
if not heads:
    sys.exit('no source counters in the report')
num = lambda r, j: float(r[j].replace(',', '')) if len(r) > j and r[j].replace(',', '').replace('.', '').isdigit() else 0.0
for n, (head, end) in enumerate(zip(heads, heads[1:] + [len(rows)])):
    cols = rows[head]
    inst = next(j for j, c in enumerate(cols) if c.startswith('Instructions Executed'))
    stall = next((j for j, c in enumerate(cols) if c.startswith('Warp Stall Sampling (All')), inst)
    body = [r for r in rows[head + 1:end] if len(r) > inst]
    ti, ts = sum(num(r, inst) for r in body) or 1, sum(num(r, stall) for r in body) or 1
    print(f'== launch {n}: warp instructions {ti:.0f}, stall samples {ts:.0f}; per SASS line: % of stalls, % of instructions')
    for r in sorted(body, key=lambda r: -num(r, stall))[:40]:
        print(f'{100 * num(r, stall) / ts:5.1f}% {100 * num(r, inst) / ti:5.1f}%  {r[1][:100] if len(r) > 1 else ""}')
    with open(f'{sys.argv[2]}-sass-{n}.txt', 'w') as f:
        for i, r in enumerate(body):
            if num(r, inst) or num(r, stall):
                f.write(f'{i}\t{num(r, inst):.0f}\t{num(r, stall):.0f}\t{r[1] if len(r) > 1 else ""}\n')
PY
  rm -f "$rep.csv"
  echo "== $shape ($dist)"
  grep -E "Duration|DRAM Throughput|Memory Throughput|Compute \(SM\) Throughput|Executed Instructions  |Achieved Occupancy|Registers Per|Block Limit Shared|Warp Cycles Per Issued" "$rep.txt" | head -20
done
