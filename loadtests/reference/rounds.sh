#!/usr/bin/env bash
# Issue 3's serving targets in alternating rounds: each round runs c1, c8, burst and prefix (scenario.sh) on
# llama-server and on ServeGate, each server started fresh, the order of the two servers swapped every round; then
# prints every round's ratios and their medians against the targets. One pass of run-benchmarks.sh is not enough on
# a machine whose speed drifts by 10-25% within minutes: a ratio taken within one round, minutes apart at most, is.
#
#   loadtests/reference/rounds.sh [--rounds 3] [--out /tmp/rounds] [--scenarios "c1 c8 burst prefix"] [ENV=VALUE ...]
#   (also "turn": a chat turn's ~56 new tokens on a cached history, and "revisit": 32 prompts sent again, more than
#   the KV cache holds, reported beside the targets)
#
# ENV=VALUE settings go to ServeGate (e.g. ServeGate__Worker__KvLayout=Shared). Needs what scenario.sh needs
# (run-benchmarks.sh builds the llama.cpp tools, the gateway, the load tester and the model).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rounds=3; out=/tmp/rounds; scenarios="c1 c8 burst prefix"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --scenarios) scenarios="$2"; shift 2 ;;
    *) break ;;
  esac
done
rm -rf "$out"; mkdir -p "$out"
# The machine, since results from different ones do not compare (sessions 1-6 ran on an AMD VM, session 7 on an Intel one).
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') ($(nproc) cores)"
  echo "cpu family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') model $(grep -m1 -E '^model\s' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "llama-server: $("$here/build-llama-tools.sh")/llama-server"
  echo "ggml CPU variant: ${CPU_VARIANT:-the best the CPU reports, for each server}"
} | tee "$out/machine.txt"
for r in $(seq 1 "$rounds"); do
  for s in $scenarios; do
    if [ $((r % 2)) -eq 1 ]; then order="llama servegate"; else order="servegate llama"; fi
    for server in $order; do
      if [ "$server" = servegate ]; then extra=("$@"); else extra=(); fi
      OUT="$out" "$here/scenario.sh" "$server-$r" "$s" "$server" "${extra[@]}" | tee -a "$out/lines.txt"
    done
  done
done
python3 - "$out" "$rounds" "$scenarios" <<'PY'
import json, os, statistics, sys
out, rounds, scenarios = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()

def load(server, r, s, part="run"):
    path = f"{out}/{server}-{r}-{s}/{part}/result.json"
    return json.load(open(path)) if os.path.exists(path) else None

rows = []  # (measure, target, per-round values, met when)
def add(measure, target, values, ok):
    values = [v for v in values if v is not None]
    if values:
        median = statistics.median(values)
        rows.append((measure, target, values, median, ok(median)))

R = range(1, rounds + 1)
def ratio(s, field, r, sub=None, inverse=False):
    a, b = load("servegate", r, s), load("llama", r, s)
    if not a or not b:
        return None
    va, vb = (a[field][sub], b[field][sub]) if sub else (a[field], b[field])
    return vb / va if inverse else va / vb

if "c1" in scenarios:
    add("c1 output tok/s vs llama-server", ">= 0.95", [ratio("c1", "output_tokens_per_second", r) for r in R], lambda m: m >= 0.95)
    add("c1 ITL p50 vs llama-server", "<= 1.05", [ratio("c1", "itl_ms", r, "p50") for r in R], lambda m: m <= 1.05)
if "c8" in scenarios:
    add("c8 output tok/s vs llama-server", ">= 1.00", [ratio("c8", "output_tokens_per_second", r) for r in R], lambda m: m >= 1.0)
if "c1" in scenarios and "c8" in scenarios:
    def speedups(r):
        sg = [load("servegate", r, s) for s in ("c8", "c1")]
        ll = [load("llama", r, s) for s in ("c8", "c1")]
        if None in sg or None in ll:
            return None
        return (sg[0]["output_tokens_per_second"] / sg[1]["output_tokens_per_second"]) / (ll[0]["output_tokens_per_second"] / ll[1]["output_tokens_per_second"])
    add("c8/c1 speedup vs llama-server's", ">= 1.00", [speedups(r) for r in R], lambda m: m >= 1.0)
if "burst" in scenarios:
    add("burst p99 TTFT vs llama-server", "<= 0.25", [ratio("burst", "ttft_ms", r, "p99") for r in R], lambda m: m <= 0.25)
    add("burst total time vs llama-server", "<= 0.40", [ratio("burst", "duration_s", r) for r in R], lambda m: m <= 0.40)
def warm(server, r, s):
    w, c = load(server, r, s), load(server, r, s, "cold")
    return w["ttft_ms"]["p50"] / c["ttft_ms"]["p50"] if w and c else None
if "prefix" in scenarios:
    add("warm/cold TTFT, ServeGate", "<= 0.10", [warm("servegate", r, "prefix") for r in R], lambda m: m <= 0.10)
    add("warm/cold TTFT, llama-server (reference)", "-", [warm("llama", r, "prefix") for r in R], lambda m: None)
if "turn" in scenarios:  # not an issue target: a chat turn's ~56 new tokens on a cached history
    add("turn: warm TTFT vs llama-server", "-", [ratio("turn", "ttft_ms", r, "p50") for r in R], lambda m: None)
    add("turn: warm/cold TTFT, ServeGate", "-", [warm("servegate", r, "turn") for r in R], lambda m: None)
    add("turn: warm/cold TTFT, llama-server", "-", [warm("llama", r, "turn") for r in R], lambda m: None)
if "revisit" in scenarios:  # not an issue target: 32 prompts again, more than the KV cache holds
    add("revisit: warm TTFT p50 vs llama-server", "-", [ratio("revisit", "ttft_ms", r, "p50") for r in R], lambda m: None)
    add("revisit: warm total time vs llama-server", "-", [ratio("revisit", "duration_s", r) for r in R], lambda m: None)
    add("revisit: warm/cold TTFT, ServeGate", "-", [warm("servegate", r, "revisit") for r in R], lambda m: None)
    add("revisit: warm/cold TTFT, llama-server", "-", [warm("llama", r, "revisit") for r in R], lambda m: None)

lines = ["| measure | target | per round | median | met |", "| --- | --- | --- | ---: | --- |"]
for measure, target, values, median, met in rows:
    lines.append(f"| {measure} | {target} | {', '.join(f'{v:.2f}' for v in values)} | {median:.2f} | {'' if met is None else ('yes' if met else 'no')} |")
text = "\n".join(lines)
open(f"{out}/summary.md", "w").write(text + "\n")
print(text)
PY
