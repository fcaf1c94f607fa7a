#!/usr/bin/env bash
# Structured output and embeddings against llama-server on the same model, in adjacent pairs (issue: constrained
# decoding at least llama-server's constrained speed with the same schema; a batch of 64 short embedding inputs at
# least llama-server --embeddings' throughput). Both servers are started once and kept running; every pair runs the
# same requests on each, the order swapped every pair. Plain (unconstrained) runs are measured beside the constrained
# ones, so each server's constrained/plain ratio comes from the same minutes.
#
#   loadtests/reference/beyond-text.sh [--pairs 4] [--concurrency 4] [--requests 8] [--max-tokens 64] [--out DIR]
#
# Needs what scenario.sh needs (run-benchmarks.sh builds the gateway into artifacts/gateway, build-llama-tools.sh
# llama-server). Prints one line per run and a summary; everything also lands in DIR.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
. "$here/scenarios.sh"
pairs=4; parallel=4; requests=8; max_tokens=64; out=/tmp/beyond-text
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) pairs="$2"; shift 2 ;;
    --concurrency) parallel="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
    --max-tokens) max_tokens="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "beyond-text.sh: unknown switch $1" >&2; exit 2 ;;
  esac
done
rm -rf "$out"; mkdir -p "$out"
reference_setup "$out"

# llama-server serves embeddings only as a separate server (--embeddings), with ServeGate's default pooling (mean).
declare -A port pid
port[llama]="$(free_port)"; start_server llama "${port[llama]}" "$out/llama-server.log"; pid[llama]="$server_pid"; wait_for_llama="$server_ready"
port[llama_emb]="$(free_port)"; start_server llama "${port[llama_emb]}" "$out/llama-server-embeddings.log" --embeddings --pooling mean
pid[llama_emb]="$server_pid"; wait_for_emb="$server_ready"
port[servegate]="$(free_port)"; start_server servegate "${port[servegate]}" "$out/servegate.log"; pid[servegate]="$server_pid"
trap 'kill "${pid[@]}" 2>/dev/null || true' EXIT
wait_ready "$wait_for_llama"; wait_ready "$wait_for_emb"; wait_ready "$server_ready"

run() { # run SERVER MODE SEED: one measured run, its JSON line appended to $out/runs.jsonl
  local target="$1" url_port="${port[$1]}"
  [ "$2" = embeddings ] && [ "$1" = llama ] && url_port="${port[llama_emb]}"
  python3 "$here/beyond-text.py" "http://127.0.0.1:$url_port" "$id" "$target" "$2" "$parallel" \
    "$([ "$2" = embeddings ] && echo 6 || echo "$requests")" "$max_tokens" "$3" | tee -a "$out/runs.jsonl"
}
# Warm-up: one small run of each kind on each server (ServeGate's first requests pay the JIT).
for s in llama servegate; do for m in plain constrained embeddings; do run "$s" "$m" 1 > /dev/null; done; done
: > "$out/runs.jsonl"
for p in $(seq 1 "$pairs"); do
  if [ $((p % 2)) -eq 1 ]; then order="llama servegate"; else order="servegate llama"; fi
  for m in plain constrained embeddings; do for s in $order; do run "$s" "$m" $((100 + p)); done; done
done
python3 - "$out/runs.jsonl" "$pairs" <<'PY' | tee "$out/summary.txt"
import json, math, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
pairs = int(sys.argv[2])
def rates(server, mode): return [r["per_second"] for r in runs if r["server"] == server and r["mode"] == mode]
def gmean(xs): return math.exp(statistics.mean(math.log(x) for x in xs))
for mode in ("plain", "constrained", "embeddings"):
    sg, ll = rates("servegate", mode), rates("llama", mode)
    unit = "inputs/s" if mode == "embeddings" else "tokens/s"
    print(f"{mode:11}: ServeGate {statistics.median(sg):8.1f} {unit}, llama-server {statistics.median(ll):8.1f} (medians of {pairs});"
          f" ServeGate/llama-server per pair {[round(a / b, 3) for a, b in zip(sg, ll)]}, geometric mean {gmean([a / b for a, b in zip(sg, ll)]):.3f}")
for server in ("servegate", "llama"):
    ratios = [c / p for c, p in zip(rates(server, "constrained"), rates(server, "plain"))]
    print(f"{server:9} constrained/plain per pair {[round(x, 3) for x in ratios]}, geometric mean {gmean(ratios):.3f}")
PY
