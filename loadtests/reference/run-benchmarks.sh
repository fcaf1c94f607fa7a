#!/usr/bin/env bash
# The standard comparison: ServeGate against llama.cpp's own tools built from the pinned source, on the same
# generated model, on this machine, in one run. Writes every raw result under OUT (default loadtests/results/<time>)
# and prints a summary; docs/benchmarks.md records the latest one.
#
#   loadtests/reference/run-benchmarks.sh [--out DIR] [--preset smollm2-135m] [--type q4_k_m] [--only engine|serving]
#
# 1. engine:  llama-bench pp512/tg128 vs ServeGate's scheduler in-process (tests/ServeGate.Benchmarks)
# 2. serving: llama-server vs ServeGate over HTTP with the load tester: concurrency 1 and 8 (64 tokens, distinct
#             prompts), a shared-prefix burst (16 requests, concurrency 8, ~1,200-token common prefix, cold cache),
#             and a warm repeated prefix; ServeGate in both KV layouts. Every server is started fresh on loopback and stopped afterwards.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
. "$here/scenarios.sh"

out="loadtests/results/$(date -u +%Y%m%dT%H%M%SZ)"
preset=smollm2-135m
type=q4_k_m
only=all
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --preset) preset="$2"; shift 2 ;;
    --type) type="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    *) echo "run-benchmarks.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
threads="$(nproc)"

eng/ensure-deps.sh
eng/fetch-llama.sh
bin="$(loadtests/reference/build-llama-tools.sh)"
dotnet build tests/ServeGate.Benchmarks -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
dotnet build loadtests/ServeGate.LoadTests -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
eng/build-gateway.sh
bench=(dotnet tests/ServeGate.Benchmarks/bin/Release/net10.0/ServeGate.Benchmarks.dll)
loadtest=(dotnet loadtests/ServeGate.LoadTests/bin/Release/net10.0/servegate-loadtest.dll)
model="$("${bench[@]}" generate "$preset" "$type" 2>/dev/null | tail -n 1)"
model_id="$(basename "$model" .gguf)"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') ($(nproc) cores)"
  echo "memory: $(free -g | awk '/Mem:/ {print $2}') GiB"
  echo "model: $model"
  echo "llama.cpp: $(git -C "${SERVEGATE_CACHE:-$HOME/.cache/servegate}/llama.cpp/3.22.1/src" describe --tags --always 2>/dev/null)"
  echo "threads: $threads"
} | tee "$out/machine.txt"

if [ "$only" = all ] || [ "$only" = engine ]; then
  "${bench[@]}" bandwidth 512 > "$out/bandwidth.json"
  # Alternate the two, three rounds each, so drift on the machine hits both alike.
  for round in 1 2 3; do
    "$bin/llama-bench" -m "$model" -p 512 -n 128 -t "$threads" -r 3 -o json > "$out/llama-bench-$round.json" 2>/dev/null
    "${bench[@]}" engine "$model" 512 128 3 > "$out/servegate-engine-$round.json" 2>/dev/null
  done
fi

server_pid=""
stop_server() { if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""; fi; }
trap stop_server EXIT

start_llama_server() { # port extra-args...
  local port="$1"; shift
  "$bin/llama-server" -m "$model" --host 127.0.0.1 --port "$port" -t "$threads" -tb "$threads" -c 16384 --no-webui "$@" \
    > "$out/llama-server-$port.log" 2>&1 &
  server_pid=$!
  wait_ready "http://127.0.0.1:$port/health"
}

start_servegate() { # port parallel [kv-layout]
  ServeGate__Worker__KvLayout="${3:-PerSequence}" dotnet artifacts/gateway/ServeGate.Gateway.dll --port "$1" --model "$model" --parallel "$2" --ctx-size 2048 \
    > "$out/servegate-$1.log" 2>&1 &
  server_pid=$!
  wait_ready "http://127.0.0.1:$1/ready"
}

run_load() { # name port model args...
  local name="$1" port="$2" id="$3"; shift 3
  "${loadtest[@]}" --url "http://127.0.0.1:$port" --model "$id" --endpoint completions --ignore-eos --no-keep-alive --progress none \
    --out "$out/$name" "$@" > "$out/$name.log" 2>&1 || echo "load test $name failed (see $out/$name.log)" >&2
}

run_scenario() { # name port scenario (loadtests/reference/scenarios.sh)
  set_scenario_args "$3"
  run_load "$1" "$2" "$model_id" "${scenario_args[@]}"
}

serving_suite() { # label start-command...
  local label="$1"; shift
  local port
  # Concurrency 1 and 8: distinct prompts, 64 output tokens each.
  port="$(free_port)"; "$@" "$port"
  run_scenario "$label-c1" "$port" c1
  run_scenario "$label-c8" "$port" c8
  run_scenario "$label-sweep" "$port" sweep
  stop_server
  # Shared-prefix burst on a cold cache; the server process is warm (one unrelated request first).
  port="$(free_port)"; "$@" "$port"
  run_scenario "$label-burst-process-warm-up" "$port" process-warm-up
  run_scenario "$label-prefix-burst" "$port" burst
  stop_server
  # Warm prefix: one cold request with a ~1,000-token prefix, then the same prefix again (sequentially).
  port="$(free_port)"; "$@" "$port"
  run_scenario "$label-prefix-process-warm-up" "$port" process-warm-up
  run_scenario "$label-prefix-cold" "$port" prefix-cold
  run_scenario "$label-prefix-warm" "$port" prefix-warm
  stop_server
}

if [ "$only" = all ] || [ "$only" = serving ]; then
  llama_np1() { start_llama_server "$1" -np 1; }
  llama_np8() { start_llama_server "$1" -np 8; }
  llama_np8_kvu() { start_llama_server "$1" -np 8 -kvu; }
  servegate8() { start_servegate "$1" 8; }
  servegate8_shared() { start_servegate "$1" 8 Shared; }
  servegate1() { start_servegate "$1" 1; }
  port="$(free_port)"; llama_np1 "$port"
  run_load "llama-np1-c1" "$port" "$model_id" --concurrency 1 --requests 8 --prompt-tokens 128 --max-tokens 64 --seed 11
  stop_server
  port="$(free_port)"; servegate1 "$port"
  run_load "servegate-p1-c1" "$port" "$model_id" --concurrency 1 --requests 8 --prompt-tokens 128 --max-tokens 64 --seed 11
  stop_server
  serving_suite llama-np8 llama_np8
  serving_suite llama-np8-kvu llama_np8_kvu
  serving_suite servegate-p8 servegate8
  serving_suite servegate-p8-shared servegate8_shared
fi

if [ "$only" = all ] || [ "$only" = serving ]; then
  "${loadtest[@]}" compare "$out/llama-np8-sweep/result.json" "$out/servegate-p8-sweep/result.json" --out "$out/compare-sweep" > /dev/null 2>&1 || true
  "${loadtest[@]}" compare "$out/llama-np8-prefix-burst/result.json" "$out/llama-np8-kvu-prefix-burst/result.json" \
    "$out/servegate-p8-prefix-burst/result.json" "$out/servegate-p8-shared-prefix-burst/result.json" --out "$out/compare-prefix-burst" > /dev/null 2>&1 || true
fi
echo "results in $out"
python3 "$here/summarize.py" "$out" | tee "$out/summary.md"
