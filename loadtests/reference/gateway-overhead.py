#!/usr/bin/env python3
"""Summarizes one run of gateway-overhead.sh (a results folder) as the Markdown tables of docs/benchmarks.md.

Every comparison pairs runs of the same round (they ran back to back), then takes the median over rounds. Other jobs
on a shared 2-core machine can wreck a round (llama.cpp's compute threads spin at their barriers, so a second
CPU-bound process multiplies step times), so each run also records the CPU the rest of the machine used; a round is
"quiet" when, in every run of the comparison, other jobs took less than QUIET_PERCENT of the cores. The verdicts use
the quiet rounds when there are any, else all rounds, and say which.
"""
import json, re, statistics, sys
from pathlib import Path

QUIET_PERCENT = 10.0
out = Path(sys.argv[1])
rounds = sorted({int(m.group(1)) for p in out.iterdir() if p.is_dir() and (m := re.search(r"-r(\d+)$", p.name))})


def load(test, target, r):
    p = out / f"{test}-{target}-r{r}"
    if not (p / "result.json").exists():
        return None
    res = json.loads((p / "result.json").read_text())
    cpu = json.loads((p / "cpu.json").read_text()) if (p / "cpu.json").exists() else None
    return res, cpu


def series(test, target, f):
    out_ = []
    for r in rounds:
        x = load(test, target, r)
        out_.append(f(*x) if x else None)
    return out_


def others_share(res, cpu):
    """CPU the rest of the machine (other jobs) took during a run, as a percentage of all cores."""
    if not cpu or "machine_busy_ticks" not in cpu:
        return None
    ours = cpu["gateway_ticks"] + cpu["worker_ticks"] + cpu["embedded_ticks"] + cpu["loadtest_cpu_s"] * cpu["clk_tck"]
    return 100.0 * max(0.0, cpu["machine_busy_ticks"] - ours) / (cpu["cores"] * cpu["wall_s"] * cpu["clk_tck"])


def quiet(test, targets):
    """Per round: whether other jobs took less than QUIET_PERCENT in every run of the comparison."""
    shares = [series(test, t, others_share) for t in targets]
    return [all(s[i] is not None and s[i] < QUIET_PERCENT for s in shares) for i in range(len(rounds))]


def median(vals, mask=None):
    ok = [v for i, v in enumerate(vals) if v is not None and (mask is None or mask[i])]
    return statistics.median(ok) if ok else None


def fmt(vals, digits=2, unit="", mask=None):
    """Median over all rounds, then every round's value (quiet rounds marked with *)."""
    m = median(vals)
    if m is None:
        return "n/a"
    per = ", ".join("-" if v is None else f"{v:.{digits}f}{'*' if mask and mask[i] else ''}" for i, v in enumerate(vals))
    return f"{m:.{digits}f}{unit}" + (f" ({per})" if len(vals) > 1 else "")


def pairwise(a, b, op):
    return [op(x, y) if x is not None and y is not None else None for x, y in zip(a, b)]


def verdict(vals, mask, ok, digits=2, unit=""):
    """The verdict on the median of the quiet rounds (all rounds when none was quiet)."""
    use_quiet = any(mask)
    m = median(vals, mask if use_quiet else None)
    if m is None:
        return "n/a", "n/a"
    basis = f"{sum(mask)} quiet" if use_quiet else "all, none quiet"
    return f"{m:.{digits}f}{unit} ({basis})", ("met" if ok(m) else "**missed**")


p50 = lambda res, cpu: res["e2e_ms"]["p50"]
p99 = lambda res, cpu: res["e2e_ms"]["p99"]
ttft = lambda res, cpu: res["ttft_ms"]["p50"]
rps = lambda res, cpu: res["requests_per_second"]
tps = lambda res, cpu: res["output_tokens_per_second"]
decode = lambda res, cpu: 1000.0 / res["tpot_ms"]["p50"]


def cpu_ms_per_token(key):
    return lambda res, cpu: (cpu[key] * 1000.0 / cpu["clk_tck"]) / res["output_tokens"] if cpu and res["output_tokens"] else None


print(f"Rounds: {len(rounds)}. Cells: the median over all rounds, then each round's value; * marks a quiet round (other")
print(f"jobs on the machine took < {QUIET_PERCENT:.0f}% of the cores in every run compared). Verdicts: the median of the quiet")
print("rounds. Gateway, worker and load tester share the machine's 2 cores.")
print()
print("| measure | direct (worker) | through the gateway | gateway vs direct, per round | verdict basis | target | |")
print("| --- | ---: | ---: | ---: | ---: | --- | --- |")


def row(label, test, f, op, unit, target, ok, digits=2, ratio_digits=2):
    d, g = series(test, "direct", f), series(test, "gateway", f)
    q = quiet(test, ("direct", "gateway"))
    if op is None:
        print(f"| {label} | {fmt(d, digits, mask=q)} | {fmt(g, digits, mask=q)} | | | | |")
        return
    diff = pairwise(g, d, op)
    basis, result = verdict(diff, q, ok, ratio_digits, unit)
    print(f"| {label} | {fmt(d, digits, mask=q)} | {fmt(g, digits, mask=q)} | {fmt(diff, ratio_digits, unit, q)} | {basis} | {target} | {result} |")


row("a. non-streaming, max_tokens 1, c=1: p50 latency (ms)", "a-latency", p50, lambda x, y: x - y, " ms", "<= 1 ms added", lambda v: v <= 1.0)
row("a. same: p99 latency (ms)", "a-latency", p99, None, "", "", None)
row("b. streaming, 32 tokens, c=8: requests/s", "b-c8", rps, lambda x, y: 100.0 * x / y, "%", ">= 90% of direct", lambda v: v >= 90.0, 2, 1)
row("b. same: output tokens/s", "b-c8", tps, lambda x, y: 100.0 * x / y, "%", ">= 90% of direct", lambda v: v >= 90.0, 1, 1)
row("c. streaming, 32 tokens, c=1: TTFT p50 (ms)", "c-ttft", ttft, lambda x, y: x - y, " ms", "<= 2 ms added", lambda v: v <= 2.0)

for test, label in (("c-ttft", "c=1"), ("b-c8", "c=8")):
    gw = series(test, "gateway", cpu_ms_per_token("gateway_ticks"))
    wd = series(test, "direct", cpu_ms_per_token("worker_ticks"))
    wg = series(test, "gateway", cpu_ms_per_token("worker_ticks"))
    q = quiet(test, ("gateway",))
    basis, result = verdict(gw, q, lambda v: v <= 1.0, 3, " ms")
    print(f"| d. CPU per streamed token, {label} (CPU-ms) "
          f"| worker {fmt(wd, 3)} | gateway {fmt(gw, 3, mask=q)}; worker {fmt(wg, 3)} | | {basis} | gateway <= 1 CPU-ms | {result} |")

print()
print("Decode speed with and without the loopback hop: the worker direct, the gateway in front of it, and the embedded")
print("default (one process: the gateway with the worker in-process, its own copy of the model). Ratios per round.")
print()
print("| measure | worker direct | gateway -> worker (hop) | embedded (no hop) | hop / direct | embedded / direct |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for test, label, f, digits in (("e-decode-c1", "c=1, 128 tokens: decode tokens/s (1000 / TPOT p50)", decode, 1),
                               ("e-decode-c1", "c=1: TTFT p50 (ms)", ttft, 2),
                               ("e-decode-c8", "c=8, 128 tokens: output tokens/s (all streams)", tps, 1),
                               ("e-decode-c8", "c=8: decode tokens/s per stream (1000 / TPOT p50)", decode, 1)):
    q = quiet(test, ("direct", "gateway", "embedded"))
    d, g, e = (series(test, t, f) for t in ("direct", "gateway", "embedded"))
    print(f"| {label} | {fmt(d, digits, mask=q)} | {fmt(g, digits, mask=q)} | {fmt(e, digits, mask=q)} "
          f"| {fmt(pairwise(g, d, lambda x, y: x / y), 3, mask=q)} | {fmt(pairwise(e, d, lambda x, y: x / y), 3, mask=q)} |")

print()
print("Other jobs on the machine during each run: CPU used by neither these servers nor the load tester, % of all cores.")
print()
print("| run | " + " | ".join(f"round {r}" for r in rounds) + " |")
print("| --- | " + " | ".join("---:" for _ in rounds) + " |")
for test in ("a-latency", "c-ttft", "b-c8", "e-decode-c1", "e-decode-c8"):
    for target in ("direct", "gateway", "embedded"):
        vals = series(test, target, others_share)
        if any(v is not None for v in vals):
            print(f"| {test} {target} | " + " | ".join("n/a" if v is None else f"{v:.0f}%" for v in vals) + " |")

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
