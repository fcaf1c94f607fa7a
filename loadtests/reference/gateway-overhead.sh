#!/usr/bin/env bash
# Gateway overhead (issue 4): the gateway in front of a worker against calling the worker directly, in one run.
# Writes every raw result under OUT (default loadtests/results/gateway-overhead-<time>) and prints a Markdown summary;
# docs/benchmarks.md records the latest one.
#
#   loadtests/reference/gateway-overhead.sh [--out DIR] [--rounds 2] [--preset stories15m] [--type q8_0] [--worker-threads N]
#
# --worker-threads N sets llama.cpp's compute threads of the worker and of the embedded default (default: 0, every core).
# With every core, the compute threads spin at ggml's barriers; when anything else wants a core (the gateway, the load
# tester, another job) a step waits for a descheduled thread, so on a shared 2-core machine N=1 separates the
# gateway's own cost from that amplification.
#
# Servers, all on loopback with keep-alive connections (as a gateway is called), in open local mode (no keys):
#   worker    ServeGate.WorkerHost serving the model (8 lanes)
#   gateway   ServeGate.Gateway with that worker as its only remote worker (YARP forwarder, loopback HTTP hop)
#   embedded  ServeGate.Gateway with the worker in-process (the embedded default, no hop), its own copy of the model
# Measurements, direct (the worker) and through the gateway alternating, the order flipped every round:
#   a. non-streaming completion, max_tokens 1, concurrency 1: p50/p99 latency, added p50 = gateway - direct
#   b. streaming, concurrency 8, 32 output tokens: requests/s and output tokens/s, gateway as % of direct
#   c. streaming, concurrency 1, 32 output tokens: TTFT p50, gateway - direct
#   d. the gateway process's own CPU (utime + stime from /proc/PID/stat) per streamed completion token, in b and c
#   e. decode speed at concurrency 1 and 8: worker direct, through the gateway, and the embedded default
# Every run is bounded (--requests, --duration, --timeout, and `timeout`); every server started here is stopped on
# exit, also on failure or Ctrl+C.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

out="loadtests/results/gateway-overhead-$(date -u +%Y%m%dT%H%M%SZ)"
rounds=2
worker_threads=0
preset=stories15m
type=q8_0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --preset) preset="$2"; shift 2 ;;
    --type) type="$2"; shift 2 ;;
    --worker-threads) worker_threads="$2"; shift 2 ;;
    *) echo "gateway-overhead.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
case "$rounds" in ''|*[!0-9]*|0) echo "gateway-overhead.sh: --rounds needs a positive number" >&2; exit 2 ;; esac
case "$worker_threads" in ''|*[!0-9]*) echo "gateway-overhead.sh: --worker-threads needs a number (0 = every core)" >&2; exit 2 ;; esac
mkdir -p "$out"
out="$(cd "$out" && pwd)"

pids=()
stop_servers() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
trap stop_servers EXIT
trap 'exit 130' INT TERM

eng/ensure-deps.sh /usr/bin/time:time
eng/fetch-llama.sh
for project in src/ServeGate.WorkerHost src/ServeGate.Gateway loadtests/ServeGate.LoadTests tests/ServeGate.Benchmarks; do
  dotnet build "$project" -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
done
workerhost=(dotnet src/ServeGate.WorkerHost/bin/Release/net10.0/ServeGate.WorkerHost.dll)
gatewayhost=(dotnet src/ServeGate.Gateway/bin/Release/net10.0/ServeGate.Gateway.dll)
loadtest=(dotnet loadtests/ServeGate.LoadTests/bin/Release/net10.0/servegate-loadtest.dll)
model="$(dotnet tests/ServeGate.Benchmarks/bin/Release/net10.0/ServeGate.Benchmarks.dll generate "$preset" "$type" 2>/dev/null | tail -n 1)"
model_id="$(basename "$model" .gguf)"
clk_tck="$(getconf CLK_TCK)"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1) ($(nproc) cores)"
  echo "memory: $(free -g | awk '/Mem:/ {print $2}') GiB"
  echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo ' (src modified)')"
  echo "model: $model ($(du -h "$model" | cut -f1))"
  echo "rounds: $rounds"
  echo "worker threads: $worker_threads (0 = every core)"
  echo "clk_tck: $clk_tck"
  echo "load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

wait_ready() { # url pid
  for _ in $(seq 1 240); do
    if curl -sf "$1/ready" >/dev/null 2>&1; then return 0; fi
    kill -0 "$2" 2>/dev/null || { echo "server for $1 exited" >&2; return 1; }
    sleep 0.5
  done
  echo "server at $1 did not become ready" >&2; return 1
}

start() { # name port command... ; sets started_pid. The key store and the usage ledger go to OUT, not the shared cache.
  local name="$1" port="$2"; shift 2
  ServeGate__Metering__DatabasePath="$out/$name-usage.db" ServeGate__Gateway__KeyStorePath="$out/$name-keys.db" \
    "$@" --port "$port" > "$out/$name.log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
  wait_ready "http://127.0.0.1:$port" "$started_pid"
}

worker_port="$(free_port)"
start worker "$worker_port" "${workerhost[@]}" --model "$model" --parallel 8 --ctx-size 256 "--ServeGate:Worker:Threads=$worker_threads"
worker_pid=$started_pid
gateway_port="$(free_port)"
start gateway "$gateway_port" "${gatewayhost[@]}" --worker "http://127.0.0.1:$worker_port=$model_id"
gateway_pid=$started_pid
embedded_port="$(free_port)"
start embedded "$embedded_port" "${gatewayhost[@]}" --model "$model" --parallel 8 --ctx-size 256 "--ServeGate:Worker:Threads=$worker_threads"
embedded_pid=$started_pid
declare -A port_of=([direct]="$worker_port" [gateway]="$gateway_port" [embedded]="$embedded_port")

ticks() { # pid -> utime + stime in clock ticks (fields 14 and 15; the command name in field 2 may hold spaces)
  sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
busy_ticks() { # the whole machine's busy clock ticks (user nice system irq softirq steal), to see what other jobs took
  awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

seed=100
run_load() { # test target round args...
  local test="$1" target="$2" round="$3"; shift 3
  local name="$test-$target-r$round" g0 w0 e0 b0 t0
  seed=$((seed + 1))
  mkdir -p "$out/$name"
  g0="$(ticks "$gateway_pid")"; w0="$(ticks "$worker_pid")"; e0="$(ticks "$embedded_pid")"; b0="$(busy_ticks)"; t0="$(date +%s.%N)"
  timeout 300 /usr/bin/time -f '%U %S' -o "$out/$name/loadtest-cpu.txt" \
    "${loadtest[@]}" --url "http://127.0.0.1:${port_of[$target]}" --model "$model_id" --endpoint completions \
    --ignore-eos --progress none --warmup 2 --timeout 60 --duration 120 --seed "$seed" --out "$out/$name" "$@" \
    > "$out/$name.log" 2>&1 || echo "load test $name failed (see $out/$name.log)" >&2
  printf '{"clk_tck": %s, "cores": %s, "wall_s": %s, "gateway_ticks": %s, "worker_ticks": %s, "embedded_ticks": %s, "machine_busy_ticks": %s, "loadtest_cpu_s": %s}\n' \
    "$clk_tck" "$(nproc)" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')" \
    "$(( $(ticks "$gateway_pid") - g0 ))" "$(( $(ticks "$worker_pid") - w0 ))" "$(( $(ticks "$embedded_pid") - e0 ))" \
    "$(( $(busy_ticks) - b0 ))" "$(awk '{ print $1 + $2; exit }' "$out/$name/loadtest-cpu.txt" 2>/dev/null || echo 0)" \
    > "$out/$name/cpu.json"
  echo "$name: done" >&2
}

# Each test: its load tester arguments. Prompts differ in every run (a new seed), so no run finds another's prefix cached.
declare -A test_args=(
  [a-latency]="--stream false --concurrency 1 --requests 200 --prompt-tokens 16 --max-tokens 1"
  [c-ttft]="--stream true --concurrency 1 --requests 40 --prompt-tokens 32 --max-tokens 32"
  [b-c8]="--stream true --concurrency 8 --requests 64 --prompt-tokens 32 --max-tokens 32"
  [e-decode-c1]="--stream true --concurrency 1 --requests 8 --prompt-tokens 32 --max-tokens 128"
  [e-decode-c8]="--stream true --concurrency 8 --requests 16 --prompt-tokens 32 --max-tokens 128"
)
for round in $(seq 1 "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then pair=(direct gateway); trio=(direct gateway embedded); else pair=(gateway direct); trio=(embedded gateway direct); fi
  for test in a-latency c-ttft b-c8; do
    for target in "${pair[@]}"; do
      # shellcheck disable=SC2086 # the arguments are meant to split
      run_load "$test" "$target" "$round" ${test_args[$test]}
    done
  done
  for test in e-decode-c1 e-decode-c8; do
    for target in "${trio[@]}"; do
      # shellcheck disable=SC2086
      run_load "$test" "$target" "$round" ${test_args[$test]}
    done
  done
done

echo "load after the run: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt"
stop_servers
echo "results in $out"
python3 "$here/gateway-overhead.py" "$out" | tee "$out/summary.md"
