#!/usr/bin/env bash
# One scenario (c1 or c8) on llama-server and on ServeGate in adjacent pairs: both servers started once and kept
# running (idle, a server's compute threads sleep), then N pairs of runs, the order swapped every pair
# (llama, servegate, servegate, llama, ...), each pair's ratio taken over runs ~20 s apart. rounds.sh starts each
# server fresh for every run, so its two runs of a round are minutes apart, and this VM's speed drifts 10-25% within
# minutes; here what drifts between the two runs of a pair is seconds of it.
#
#   loadtests/reference/paired.sh [--pairs 10] [--scenario c8] [--out /tmp/paired] [ENV=VALUE ...]
#
# ENV=VALUE settings go to ServeGate. Needs what scenario.sh needs (run-benchmarks.sh builds it all).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
. "$here/scenarios.sh"
pairs=10; scenario=c8; out=/tmp/paired
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) pairs="$2"; shift 2 ;;
    --scenario) scenario="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) break ;;
  esac
done
case "$scenario" in c1 | c8) ;; *) echo "paired.sh: --scenario c1 or c8" >&2; exit 2 ;; esac
rm -rf "$out"; mkdir -p "$out"
reference_setup "$out"

llama_port="$(free_port)"
start_server llama "$llama_port" "$out/llama-server.log"
llama_pid="$server_pid"; llama_ready="$server_ready"
sg_port="$(free_port)"
start_server servegate "$sg_port" "$out/servegate.log" "$@"
sg_pid="$server_pid"
trap 'kill "$llama_pid" "$sg_pid" 2>/dev/null || true' EXIT
wait_ready "$llama_ready" || exit 1
wait_ready "$server_ready" || exit 1

run() { # run SERVER NAME ARGS...: one load-test run against SERVER's port into $out/NAME
  if [ "$1" = llama ]; then set_loadtest "$llama_port"; else set_loadtest "$sg_port"; fi
  local name="$2"; shift 2
  "${loadtest[@]}" --out "$out/$name" "$@" > "$out/$name.log" 2>&1 || true
}
# The scenario's arguments with another seed: every run sends prompts neither server has seen. Both keep what they
# served (llama-server also in its host-memory prompt cache, --cache-ram), so a repeated seed would be a warm run.
seeded() { # seeded SEED: the scenario's arguments into `args`, its --seed replaced
  set_scenario_args "$scenario"; args=()
  local i; for ((i = 0; i < ${#scenario_args[@]}; i++)); do
    if [ "${scenario_args[$i]}" = --seed ]; then args+=(--seed "$1"); i=$((i + 1)); else args+=("${scenario_args[$i]}"); fi
  done
}
# Each server's process warm-up, then one unmeasured run of the scenario on each (ServeGate's first pays the JIT).
set_scenario_args process-warm-up
run llama warm-up-llama "${scenario_args[@]}"; run servegate warm-up-servegate "${scenario_args[@]}"
seeded 1000; run llama warm-llama "${args[@]}"
seeded 1001; run servegate warm-servegate "${args[@]}"
for p in $(seq 1 "$pairs"); do
  if [ $((p % 2)) -eq 1 ]; then order="llama servegate"; else order="servegate llama"; fi
  seeded $((1100 + p))  # the same new prompts for both servers of a pair
  for server in $order; do run "$server" "$server-$p" "${args[@]}"; done
  python3 - "$out" "$p" "$scenario" <<'PY' | tee -a "$out/lines.txt"
import json, sys
out, p, scenario = sys.argv[1:4]
r = {s: json.load(open(f"{out}/{s}-{p}/result.json")) for s in ("llama", "servegate")}
tps = {s: r[s]["output_tokens_per_second"] for s in r}
print(f"pair {p:>2} {scenario}: llama-server {tps['llama']:7.2f} tok/s, ServeGate {tps['servegate']:7.2f} tok/s"
      f" (TTFT p50 {r['servegate']['ttft_ms']['p50']:7.1f} ms, llama-server {r['llama']['ttft_ms']['p50']:7.1f} ms),"
      f" ratio {tps['servegate'] / tps['llama']:.3f}")
PY
done
python3 - "$out" "$pairs" "$scenario" <<'PY' | tee "$out/summary.txt"
import json, math, statistics, sys
out, pairs, scenario = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ratios = []
for p in range(1, pairs + 1):
    r = {s: json.load(open(f"{out}/{s}-{p}/result.json")) for s in ("llama", "servegate")}
    ratios.append(r["servegate"]["output_tokens_per_second"] / r["llama"]["output_tokens_per_second"])
logs = [math.log(x) for x in ratios]
mean, sd = statistics.mean(logs), statistics.stdev(logs) if len(logs) > 1 else 0.0
half = 2.0 * sd / math.sqrt(len(logs))  # ~95% interval of the geometric mean
print(f"{scenario}, {pairs} pairs: ServeGate / llama-server output tok/s median {statistics.median(ratios):.3f},"
      f" geometric mean {math.exp(mean):.3f} (~95% interval {math.exp(mean - half):.3f}-{math.exp(mean + half):.3f}),"
      f" range {min(ratios):.3f}-{max(ratios):.3f}, ServeGate ahead in {sum(x > 1 for x in ratios)} of {pairs}")
PY
