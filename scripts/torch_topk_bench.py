#!/usr/bin/env python3
"""torch.topk timings for `nsa-topk bench`, measured the way the bench measures nsa-topk.

Reads on stdin, as JSON: {"cases": [{"rows", "length", "k", "dtype", "buffers", "graphs"}],
"method": "graph" | "hold", "graphCalls", "replays", "iters", "warmup", "sorted", "dist"}, and
prints one JSON line: {"medianUs": [...], "hostBound": [...]} in case order, or {"error": "..."}.
Each case rotates over `buffers` inputs (the bench's count: one pass exceeds twice the L2 cache)
of the bench's score distribution. The methods are the bench's (lib/cli/bench.ts):
- hold: event pairs around each of `iters` calls after `warmup`, in batches that wait behind a
  GPU hold (torch.cuda._sleep) long enough for Python to enqueue the whole batch; a batch whose
  hold ran out is timed again behind a doubled one, and after the retries the case is host-bound.
- graph: after `warmup` eager calls (at least one), `graphs` CUDA graphs of `graphCalls`
  consecutive calls, graph g's call j reading input (g * graphCalls + j) % buffers; the replays
  are timed as the hold method times calls: every graph once untimed, then `replays` more in
  turn. One call's time is the median replay over graphCalls.
"""
import itertools
import json
import statistics
import sys
import time

HOLD_BATCH = 20  # the bench's batch and retry counts (lib/cli/bench.ts)
HOLD_RETRIES = 4
CYCLES_PER_US = 2000  # torch.cuda._sleep counts clock cycles; no current GPU clocks above 2 GHz
RELU_SHIFT = 3.2  # relu scores are max(0, x - 3.2) for standard normal x (lib/reference/scores.ts)
HOT_SHIFT = 8  # hotSpan raises a sixteenth of each row, a run at a random start, by this much


def scores(torch, device, rows, length, dist, dtype):
    """One input of the bench's distribution: drawn in float32, then rounded to dtype."""
    if dist == "equal":
        x = torch.ones(rows, length, device=device)
    else:
        x = torch.randn(rows, length, device=device)
        if dist == "relu":
            x = (x - RELU_SHIFT).clamp_min_(0)
        if dist == "hotSpan":
            hot = length // 16
            start = torch.randint(0, length - hot + 1, (rows, 1), device=device)
            at = torch.arange(length, device=device)
            x += HOT_SHIFT * ((at >= start) & (at < start + hot))
    return x.to(dtype)


def time_holds(torch, enqueue, warmup, iters):
    """Median GPU time of enqueue(i), i = 0, 1, ... (the first `warmup` untimed), behind GPU holds,
    and whether a hold still ran out after the retries (bench.ts: timeEvents)."""
    host = []
    index = itertools.count()  # calls so far: a batch timed again goes on with the rotation

    def call():
        t0 = time.perf_counter()
        enqueue(next(index))
        host.append((time.perf_counter() - t0) * 1e6)

    for _ in range(warmup):
        call()
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
            call()
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
    return statistics.median(samples), bound


def time_graphs(torch, enqueue, case, calls, replays, warmup):
    """Median GPU time of enqueue(i) as graph nodes, and whether a hold ran out (bench.ts: timeGraphs)."""
    for i in range(max(1, warmup)):  # a first call may allocate or initialize, which a capture must not
        enqueue(i)
    torch.cuda.synchronize()
    pool = torch.cuda.graph_pool_handle()  # the graphs never run at once: one memory pool serves all
    graphs = []
    for g in range(case["graphs"]):
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=pool):
            for j in range(calls):
                enqueue(g * calls + j)
        graphs.append(graph)
    us, bound = time_holds(torch, lambda r: graphs[r % len(graphs)].replay(), len(graphs), replays)
    return us / calls, bound


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
    dtypes = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
    method, iters, warmup = request["method"], int(request["iters"]), int(request["warmup"])
    sorted_ = bool(request.get("sorted", False))
    medians, host_bound = [], []
    for case in request["cases"]:
        rows, length, k, buffers = case["rows"], case["length"], case["k"], case["buffers"]
        dtype = dtypes[case["dtype"]]
        inputs = [scores(torch, device, rows, length, request["dist"], dtype) for _ in range(buffers)]
        kk = min(k, length)  # torch.topk refuses k > length; nsa-topk pads instead

        def topk(i):
            torch.topk(inputs[i % buffers], kk, dim=-1, sorted=sorted_)

        if method == "graph":
            us, bound = time_graphs(torch, topk, case, int(request["graphCalls"]), int(request["replays"]), warmup)
        else:
            us, bound = time_holds(torch, topk, warmup, iters)
        medians.append(us)
        host_bound.append(bound)
        del inputs
        torch.cuda.empty_cache()
    print(json.dumps({"medianUs": medians, "hostBound": host_bound}))


if __name__ == "__main__":
    main()
