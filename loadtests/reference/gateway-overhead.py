#!/usr/bin/env python3
"""Summarizes one run of gateway-overhead.sh (a results folder) as the Markdown table of docs/benchmarks.md.

Every comparison pairs runs of the same round (direct and gateway ran back to back), then averages over rounds;
the per-round values follow in parentheses.
"""
import json, re, statistics, sys
from pathlib import Path

out = Path(sys.argv[1])
rounds = sorted({int(m.group(1)) for p in out.iterdir() if (m := re.search(r"-r(\d+)$", p.name)) and p.is_dir()})


def load(test, target, r):
    p = out / f"{test}-{target}-r{r}"
    if not (p / "result.json").exists():
        return None
    res = json.loads((p / "result.json").read_text())
    cpu = json.loads((p / "cpu.json").read_text()) if (p / "cpu.json").exists() else None
    return res, cpu


def series(test, target, f):
    vals = []
    for r in rounds:
        x = load(test, target, r)
        vals.append(f(*x) if x else None)
    return vals


def fmt(vals, digits=2, unit=""):
    ok = [v for v in vals if v is not None]
    if not ok:
        return "n/a"
    s = f"{statistics.mean(ok):.{digits}f}{unit}"
    return s + (f" ({', '.join(f'{v:.{digits}f}' for v in ok)})" if len(ok) > 1 else "")


def mean(vals):
    ok = [v for v in vals if v is not None]
    return statistics.mean(ok) if ok else None


def pairwise(a, b, op):
    return [op(x, y) if x is not None and y is not None else None for x, y in zip(a, b)]


def verdict(value, ok):
    return "n/a" if value is None else ("met" if ok(value) else "**missed**")


p50 = lambda res, cpu: res["e2e_ms"]["p50"]
p99 = lambda res, cpu: res["e2e_ms"]["p99"]
ttft = lambda res, cpu: res["ttft_ms"]["p50"]
rps = lambda res, cpu: res["requests_per_second"]
tps = lambda res, cpu: res["output_tokens_per_second"]
decode1 = lambda res, cpu: 1000.0 / res["tpot_ms"]["p50"]


def cpu_ms_per_token(key):
    return lambda res, cpu: (cpu[key] * 1000.0 / cpu["clk_tck"]) / res["output_tokens"] if cpu and res["output_tokens"] else None


rows = []
print(f"Rounds: {len(rounds)}. Values are the mean over rounds, per-round values in parentheses; differences and ratios")
print("pair the direct and gateway runs of the same round. Proxy, worker and load tester share the machine's cores.")
print()
print("| measure | direct (worker) | through the gateway | gateway vs direct | target | |")
print("| --- | ---: | ---: | ---: | --- | --- |")

d, g = series("a-latency", "direct", p50), series("a-latency", "gateway", p50)
added = pairwise(g, d, lambda x, y: x - y)
print(f"| a. non-streaming, max_tokens 1, c=1: p50 latency (ms) | {fmt(d)} | {fmt(g)} | {fmt(added, unit=' ms')} added | <= 1 ms added | {verdict(mean(added), lambda v: v <= 1.0)} |")
d, g = series("a-latency", "direct", p99), series("a-latency", "gateway", p99)
print(f"| a. same: p99 latency (ms) | {fmt(d)} | {fmt(g)} | {fmt(pairwise(g, d, lambda x, y: x - y), unit=' ms')} added | | |")

d, g = series("b-c8", "direct", rps), series("b-c8", "gateway", rps)
ratio = pairwise(g, d, lambda x, y: 100.0 * x / y)
print(f"| b. streaming, 32 tokens, c=8: requests/s | {fmt(d)} | {fmt(g)} | {fmt(ratio, 1, '%')} | >= 90% | {verdict(mean(ratio), lambda v: v >= 90.0)} |")
d, g = series("b-c8", "direct", tps), series("b-c8", "gateway", tps)
ratio = pairwise(g, d, lambda x, y: 100.0 * x / y)
print(f"| b. same: output tokens/s | {fmt(d, 1)} | {fmt(g, 1)} | {fmt(ratio, 1, '%')} | >= 90% | {verdict(mean(ratio), lambda v: v >= 90.0)} |")

d, g = series("c-ttft", "direct", ttft), series("c-ttft", "gateway", ttft)
diff = pairwise(g, d, lambda x, y: x - y)
print(f"| c. streaming, c=1: TTFT p50 (ms) | {fmt(d)} | {fmt(g)} | {fmt(diff, unit=' ms')} added | <= 2 ms added | {verdict(mean(diff), lambda v: v <= 2.0)} |")

for test, label in (("c-ttft", "c=1"), ("b-c8", "c=8")):
    gw = series(test, "gateway", cpu_ms_per_token("gateway_ticks"))
    wk = series(test, "gateway", cpu_ms_per_token("worker_ticks"))
    wd = series(test, "direct", cpu_ms_per_token("worker_ticks"))
    print(f"| d. gateway process CPU per streamed token, {label} (CPU-ms) | (worker: {fmt(wd, 3)}) | {fmt(gw, 3)} (worker: {fmt(wk, 3)}) | | <= 1 CPU-ms | {verdict(mean(gw), lambda v: v <= 1.0)} |")

print()
print("Decode speed: the loopback hop against the embedded default (the worker in the gateway's process).")
print()
print("| measure | worker direct | gateway -> worker (hop) | embedded gateway (no hop) | hop / direct | embedded / direct |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for test, label, f, digits in (("e-decode-c1", "c=1: decode tokens/s per stream (1000 / TPOT p50)", decode1, 1),
                               ("e-decode-c1", "c=1: TTFT p50 (ms)", ttft, 2),
                               ("e-decode-c8", "c=8: output tokens/s (all streams)", tps, 1),
                               ("e-decode-c8", "c=8: decode tokens/s per stream (1000 / TPOT p50)", decode1, 1)):
    d, g, e = (series(test, t, f) for t in ("direct", "gateway", "embedded"))
    print(f"| {label} | {fmt(d, digits)} | {fmt(g, digits)} | {fmt(e, digits)} | {fmt(pairwise(g, d, lambda x, y: x / y), 3)} | {fmt(pairwise(e, d, lambda x, y: x / y), 3)} |")

# Sanity: failures and prefix-cache hits would distort the comparison.
problems = []
for p in sorted(out.iterdir()):
    if (p / "result.json").exists():
        res = json.loads((p / "result.json").read_text())
        if res["errors"] or res.get("aborted"):
            problems.append(f"{p.name}: {res['errors']} errors{' (aborted)' if res.get('aborted') else ''}")
        if res.get("cached_token_ratio"):
            problems.append(f"{p.name}: cached-token ratio {res['cached_token_ratio']}")
print()
print("Checks: " + ("; ".join(problems) if problems else "no errors, no prefix-cache hits in any run."))
