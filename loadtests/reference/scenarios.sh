# The load tester's arguments for each scenario of the standard comparison, defined once for run-benchmarks.sh and
# scenario.sh (both source this file). `set_scenario_args NAME` sets the array `scenario_args`.
#   c1, c8           distinct ~128-token prompts, 64 output tokens, concurrency 1 and 8
#   sweep            the same at concurrency 1, 2, 4 and 8
#   burst            16 requests, concurrency 8, ~1,300-token prompts sharing ~1,200 tokens, cold cache
#   prefix-cold      one ~1,040-token prompt on a cold cache; prefix-warm: four more sharing ~1,000 tokens of it
#   turn-cold        the same with a ~56-token new part (a chat turn's): turn-warm, four more sharing ~984 tokens
#   revisit-cold     32 distinct ~256-token prompts, concurrency 8, 16 output tokens (more prompts than either server
#                    keeps in its KV cache); revisit-warm: the same 32 again (llama-server restores them from its
#                    host-memory prompt cache, --cache-ram; ServeGate from its host tier when it is on:
#                    ServeGate__Worker__HostCacheMiB=1024)
#   process-warm-up  one short request that shares nothing with the others (the server process is warm, its KV
#                    cache still cold: ServeGate's first request after start also pays the JIT)
set_scenario_args() {
  case "$1" in
    c1) scenario_args=(--concurrency 1 --requests 8 --prompt-tokens 128 --max-tokens 64 --seed 11) ;;
    c8) scenario_args=(--concurrency 8 --requests 32 --prompt-tokens 128 --max-tokens 64 --seed 12) ;;
    sweep) scenario_args=(--sweep 1,2,4,8 --requests 16 --prompt-tokens 128 --max-tokens 64 --seed 15) ;;
    burst) scenario_args=(--concurrency 8 --requests 16 --prompt-tokens 1300 --shared-prefix-ratio 0.93 --max-tokens 16 --seed 13 --warmup 0) ;;
    prefix-cold) scenario_args=(--concurrency 1 --requests 1 --prompt-tokens 1040 --shared-prefix-ratio 0.96 --max-tokens 8 --seed 14 --warmup 0) ;;
    prefix-warm) scenario_args=(--concurrency 1 --requests 4 --prompt-tokens 1040 --shared-prefix-ratio 0.96 --max-tokens 8 --seed 14 --warmup 0) ;;
    turn-cold) scenario_args=(--concurrency 1 --requests 1 --prompt-tokens 1040 --shared-prefix-ratio 0.946 --max-tokens 8 --seed 16 --warmup 0) ;;
    turn-warm) scenario_args=(--concurrency 1 --requests 4 --prompt-tokens 1040 --shared-prefix-ratio 0.946 --max-tokens 8 --seed 16 --warmup 0) ;;
    revisit-cold | revisit-warm) scenario_args=(--concurrency 8 --requests 32 --prompt-tokens 256 --max-tokens 16 --seed 17 --warmup 0) ;;
    process-warm-up) scenario_args=(--concurrency 1 --requests 1 --prompt-tokens 16 --max-tokens 4 --seed 99 --warmup 0) ;;
    *) return 1 ;;
  esac
}

# The servers and the load tester as scenario.sh and paired.sh run them: the same switches for every comparison.
# Expect $model, $id (the model's file name without .gguf) and $llama_bin (build-llama-tools.sh) to be set.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# start_server servegate|llama PORT LOG [ARGS...]: ServeGate (artifacts/gateway, or $GATEWAY_DIR; ARGS are ENV=VALUE
# settings) or llama-server (ARGS are extra switches) in the background; its pid in `server_pid`, the URL that
# answers once it is ready in `server_ready`. Both serve $parallel sequences at once (8 unless set), 2,048 cells each.
start_server() {
  local server="$1" port="$2" log="$3"; shift 3
  if [ "$server" = servegate ]; then
    env "$@" dotnet "${GATEWAY_DIR:-artifacts/gateway}/ServeGate.Gateway.dll" --port "$port" --model "$model" --parallel "${parallel:-8}" --ctx-size 2048 > "$log" 2>&1 &
    server_ready="http://127.0.0.1:$port/ready"
  else
    "$llama_bin/llama-server" -m "$model" --port "$port" -np "${parallel:-8}" -c $((2048 * ${parallel:-8})) -t 2 --alias "$id" "$@" > "$log" 2>&1 &
    server_ready="http://127.0.0.1:$port/health"
  fi
  server_pid=$!
}

# wait_ready URL: up to 2 minutes; fails (status 1, a message) if the server never answers.
wait_ready() {
  for _ in $(seq 1 240); do curl -sf "$1" > /dev/null && return 0; sleep 0.5; done
  echo "$1 did not answer within 2 minutes" >&2
  return 1
}

# set_loadtest PORT: the load tester's command against that server into `loadtest` (--out and the scenario follow).
set_loadtest() {
  loadtest=(timeout 600 dotnet loadtests/ServeGate.LoadTests/bin/Release/net10.0/servegate-loadtest.dll --url "http://127.0.0.1:$1"
    --model "$id" --endpoint completions --ignore-eos --no-keep-alive --progress none)
}

# reference_setup OUT: the SmolLM2-135M-shaped model both servers serve ($model, $id), llama-server's folder
# ($llama_bin, built on first use), and the date, commit, load and CPU into OUT/machine.txt.
reference_setup() {
  local cache="${SERVEGATE_CACHE:-$HOME/.cache/servegate}"
  model="$cache/models/servegate-demo-base-smollm2-135m-q4_k_m.gguf"
  id="$(basename "$model" .gguf)"
  llama_bin="$("$(dirname "${BASH_SOURCE[0]}")/build-llama-tools.sh")"
  {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD), load: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') ($(nproc) cores)"
  } | tee "$1/machine.txt"
}
