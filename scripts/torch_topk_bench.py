#!/usr/bin/env python3
"""torch.topk timings for `nsa-topk bench`, measured the way the bench measures nsa-topk.

Reads {"cases": [{"rows", "length", "k", "dtype"}], "iters", "warmup", "sorted"} as JSON on stdin
and prints one JSON line: {"medianUs": [...], "hostBound": [...]} in case order, or
{"error": "..."}. CUDA events around each call, after warm-up, rotating among enough inputs to
exceed twice the L2 cache; each batch of calls waits behind a GPU hold (torch.cuda._sleep) long
enough for Python to enqueue the whole batch, as the bench does for nsa-topk, so both sides are
timed on the GPU alone.
"""
import json
import math
import statistics
import sys
import time

HOLD_BATCH = 20  # the bench's batch and retry counts (lib/cli/bench.ts)
HOLD_RETRIES = 4
CYCLES_PER_US = 2000  # torch.cuda._sleep counts clock cycles; no current GPU clocks above 2 GHz


def main():
    request = json.load(sys.stdin)
    try:
        import torch
    except Exception as exc:  # torch missing or broken: the bench reports why and goes on
        print(json.dumps({"error": f"torch not importable: {exc}"}))
        return
    if not torch.cuda.is_available():
        print(json.dumps({"error": "torch sees no CUDA device"}))
        return
    device = torch.device("cuda", 0)
    l2 = getattr(torch.cuda.get_device_properties(device), "L2_cache_size", 50 << 20)
    dtypes = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
    iters, warmup = int(request["iters"]), int(request["warmup"])
    sorted_ = bool(request.get("sorted", False))
    medians, host_bound = [], []
    for case in request["cases"]:
        rows, length, k = case["rows"], case["length"], case["k"]
        dtype = dtypes[case["dtype"]]
        nbytes = rows * length * torch.finfo(dtype).bits // 8
        sets = max(1, math.ceil(2 * l2 / nbytes) + 1)
        inputs = [torch.randn(rows, length, device=device).to(dtype) for _ in range(sets)]
        kk = min(k, length)  # torch.topk refuses k > length; nsa-topk pads instead
        host = []

        def call(i):
            t0 = time.perf_counter()
            torch.topk(inputs[i % sets], kk, dim=-1, sorted=sorted_)
            host.append((time.perf_counter() - t0) * 1e6)

        for i in range(warmup):
            call(i)
        torch.cuda.synchronize()
        per_call = statistics.median(host) if host else 100.0
        samples, bound, done, retries = [], False, 0, 0
        held = torch.cuda.Event()
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(HOLD_BATCH)]
        while done < iters:
            n = min(HOLD_BATCH, iters - done)
            torch.cuda._sleep(int((50 + 1.5 * n * per_call * 2**retries) * CYCLES_PER_US))
            held.record()
            host.clear()
            for j in range(n):
                events[j][0].record()
                call(warmup + done + j)
                events[j][1].record()
            late = held.query()
            torch.cuda.synchronize()
            per_call = max(per_call, statistics.median(host))
            if late and retries < HOLD_RETRIES:
                retries += 1
                continue
            bound = bound or late
            samples.extend(start.elapsed_time(stop) * 1e3 for start, stop in events[:n])
            done, retries = done + n, 0
        medians.append(statistics.median(samples))
        host_bound.append(bound)
        del inputs
        torch.cuda.empty_cache()
    print(json.dumps({"medianUs": medians, "hostBound": host_bound}))


if __name__ == "__main__":
    main()
