#!/usr/bin/env python3
"""torch.topk timings for `nsa-topk bench`, measured the way the bench measures nsa-topk.

Reads {"cases": [{"rows", "length", "k", "dtype"}], "iters", "warmup", "sorted"} as JSON on stdin
and prints one JSON line: {"medianUs": [...]} in case order, or {"error": "..."}. CUDA events
around each call, after warm-up, rotating among enough inputs to exceed twice the L2 cache.
"""
import json
import math
import statistics
import sys


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
    medians = []
    for case in request["cases"]:
        rows, length, k = case["rows"], case["length"], case["k"]
        dtype = dtypes[case["dtype"]]
        nbytes = rows * length * torch.finfo(dtype).bits // 8
        sets = max(1, math.ceil(2 * l2 / nbytes) + 1)
        inputs = [torch.randn(rows, length, device=device).to(dtype) for _ in range(sets)]
        kk = min(k, length)  # torch.topk refuses k > length; nsa-topk pads instead
        for i in range(warmup):
            torch.topk(inputs[i % sets], kk, dim=-1, sorted=sorted_)
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(iters)]
        for i, (start, stop) in enumerate(events):
            start.record()
            torch.topk(inputs[(warmup + i) % sets], kk, dim=-1, sorted=sorted_)
            stop.record()
        torch.cuda.synchronize()
        medians.append(statistics.median(start.elapsed_time(stop) * 1e3 for start, stop in events))
        del inputs
        torch.cuda.empty_cache()
    print(json.dumps({"medianUs": medians}))


if __name__ == "__main__":
    main()
