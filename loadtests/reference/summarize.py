#!/usr/bin/env python3
"""Summarizes one run of run-benchmarks.sh (a results folder) as the Markdown tables of docs/benchmarks.md."""
import json, statistics, sys
from pathlib import Path

out = Path(sys.argv[1])


def load(name):
    p = out / name / "result.json"
    return json.loads(p.read_text()) if p.exists() else None


def engine():
    rows = []
    lb_pp, lb_tg, sg_pp, sg_tg = [], [], [], []
    for r in (1, 2, 3):
        lb = out / f"llama-bench-{r}.json"
        sg = out / f"servegate-engine-{r}.json"
        if not lb.exists() or not sg.exists():
            continue
        for t in json.loads(lb.read_text()):
            (lb_pp if t["n_prompt"] > 0 else lb_tg).append(t["avg_ts"])
        s = json.loads(sg.read_text())
        sg_pp.append(s["pp_tokens_per_second"]["mean"])
        sg_tg.append(s["tg_tokens_per_second"]["mean"])
    if not lb_pp:
        return
    print("| test | llama-bench t/s | ServeGate engine t/s | ServeGate / llama-bench |")
    print("| --- | ---: | ---: | ---: |")
    for name, a, b in (("pp512", lb_pp, sg_pp), ("tg128", lb_tg, sg_tg)):
        ma, mb = statistics.mean(a), statistics.mean(b)
        print(f"| {name} | {ma:.1f} (rounds: {', '.join(f'{x:.1f}' for x in a)}) | {mb:.1f} (rounds: {', '.join(f'{x:.1f}' for x in b)}) | {mb / ma:.2f} |")
    bw = out / "bandwidth.json"
    if bw.exists():
        b = json.loads(bw.read_text())
        model = Path([l.split(": ", 1)[1] for l in (out / "machine.txt").read_text().splitlines() if l.startswith("model:")][0])
        size = model.stat().st_size
        tg = statistics.mean(sg_tg)
        print()
        print(f"Memory: copy bandwidth {b['copy_read_gb_per_s_best']:.1f} GB/s read (best of 10, 512 MiB buffers). "
              f"Decode reads the {size / 1e6:.0f} MB of weights once per token: {tg:.1f} tokens/s x {size / 1e6:.0f} MB = "
              f"{tg * size / 1e9:.2f} GB/s, {100 * tg * size / 1e9 / b['copy_read_gb_per_s_best']:.0f}% of the ceiling "
              f"(ceiling {b['copy_read_gb_per_s_best'] * 1e9 / size:.0f} tokens/s).")


def metric(r, key, field="p50"):
    v = r[key][field] if isinstance(r.get(key), dict) else r.get(key)
    return float("nan") if v is None else v


def serving():
    print()
    print("| scenario | server | output tok/s | TTFT p50 ms | TTFT p99 ms | ITL p50 ms | duration s | cached ratio |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    scenarios = ["c1", "c8", "prefix-burst", "prefix-cold", "prefix-warm"]
    servers = [("llama-np1", "llama-server -np 1"), ("servegate-p1", "ServeGate --parallel 1"),
               ("llama-np8", "llama-server -np 8"), ("llama-np8-kvu", "llama-server -np 8 -kvu"), ("servegate-p8", "ServeGate --parallel 8"),
               ("servegate-p8-shared", "ServeGate --parallel 8, shared KV")]
    for sc in scenarios:
        for key, label in servers:
            r = load(f"{key}-{sc}")
            if r is None:
                continue
            print(f"| {sc} | {label} | {r['output_tokens_per_second']:.1f} | {metric(r, 'ttft_ms'):.1f} | {metric(r, 'ttft_ms', 'p99'):.1f} | "
                  f"{metric(r, 'itl_ms'):.2f} | {r['duration_s']:.2f} | {r.get('cached_token_ratio') or 0:.2f} |")


engine()
serving()
