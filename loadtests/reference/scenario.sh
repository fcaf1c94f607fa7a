#!/usr/bin/env bash
# One scenario of the standard comparison against one freshly started server, with the server's CPU per thread:
# for repeating a comparison in alternating rounds when one pass of run-benchmarks.sh is too noisy to decide.
#
#   [PERF=1] loadtests/reference/scenario.sh NAME c1|c8|burst|prefix|turn servegate|llama [ENV=VALUE ...]
#   (prefix: run-benchmarks.sh's prefix-cold request, then its four prefix-warm requests on the same server; the line
#   adds the warm TTFT p50 as a share of the cold one; turn: the same with a ~56-token new part, scenarios.sh)
#   for r in 1 2 3; do loadtests/reference/scenario.sh llama-$r c8 llama; loadtests/reference/scenario.sh sg-$r c8 servegate; done
#
# ServeGate runs as in run-benchmarks.sh (artifacts/gateway, or another build's folder in $GATEWAY_DIR; --parallel 8
# --ctx-size 2048; ENV=VALUE settings such as ServeGate__Worker__KvLayout=Shared are passed to it); llama-server as
# `-np 8 -c 16384 -t 2` from build-llama-tools.sh (extra arguments are passed to it). Needs eng/build-gateway.sh and
# the load tester built, and the model generated (run-benchmarks.sh does all three). Prints one line; raw results in
# $OUT (default /tmp/scenario).
#
# CPU_VARIANT=zen4 (say) gives both servers that one ggml CPU variant instead of the best the CPU reports: ServeGate
# through LlamaCpp:CpuVariant, llama-server from a copy of the reference tools without the other variants, kept
# beside them. On the session-9 VM (which reports AMX) the reference's best one, sapphirerapids, died with SIGILL in
# an AMX tile load (tinygemm_kernel_amx, q8_0), while the npm package's build of it ran in ServeGate; zen4 (AVX-512,
# no AMX) runs in both.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
. "$here/scenarios.sh"
name="$1"; scenario="$2"; server="$3"; shift 3
cache="${SERVEGATE_CACHE:-$HOME/.cache/servegate}"
model="$cache/models/servegate-demo-base-smollm2-135m-q4_k_m.gguf"
id="$(basename "$model" .gguf)"
out="${OUT:-/tmp/scenario}/$name-$scenario"; rm -rf "$out"; mkdir -p "$out"
llama_bin="$("$here/build-llama-tools.sh")"
if [ -n "${CPU_VARIANT:-}" ]; then
  only="$cache/llama.cpp/3.22.1/only-$CPU_VARIANT"
  if [ ! -d "$only" ]; then
    [ -f "$llama_bin/libggml-cpu-$CPU_VARIANT.so" ] || { echo "scenario.sh: no CPU variant '$CPU_VARIANT' in $llama_bin" >&2; exit 2; }
    mkdir -p "$only.tmp"
    cp -a "$llama_bin/." "$only.tmp/"
    find "$only.tmp" -name 'libggml-cpu-*.so' ! -name "libggml-cpu-$CPU_VARIANT.so" -delete
    mv "$only.tmp" "$only"
  fi
  llama_bin="$only"
  if [ "$server" = servegate ]; then set -- "$@" "LlamaCpp__CpuVariant=$CPU_VARIANT"; fi
fi
port="$(free_port)"
start_server "$server" "$port" "$out/server.log" "$@"
pid="$server_pid"
trap 'kill "$pid" 2>/dev/null || true' EXIT
wait_ready "$server_ready" || true  # the load test then records the errors
set_loadtest "$port"
# The KV cache is cold in burst and prefix, the server process is not (scenarios.sh, process-warm-up).
set_scenario_args process-warm-up
"${loadtest[@]}" --out "$out/process-warm-up" "${scenario_args[@]}" > "$out/process-warm-up.log" 2>&1 || true
case "$scenario" in
  c1 | c8 | burst) set_scenario_args "$scenario" ;;
  prefix | turn | revisit)
    set_scenario_args "$scenario-cold"
    "${loadtest[@]}" --out "$out/cold" "${scenario_args[@]}" > "$out/cold.log" 2>&1 || true
    set_scenario_args "$scenario-warm" ;;
  *) echo "unknown scenario $scenario (c1, c8, burst, prefix, turn, revisit)" >&2; exit 2 ;;
esac
# PERF=1: also sample the server's CPU with perf (cpu-clock, 1999 Hz) while the load runs, into $out/perf.data
# (`perf report -i $out/perf.data --sort sym --stdio` lists where the time went).
if [ "${PERF:-0}" = 1 ]; then
  perf record -e cpu-clock -F 1999 -p "$pid" -o "$out/perf.data" > "$out/perf.log" 2>&1 &
  perf_pid=$!
fi
python3 "$here/cpu-by-thread.py" "$pid" -- "${loadtest[@]}" --out "$out/run" "${scenario_args[@]}" > "$out/cpu.json" 2> "$out/loadtest.log" || true
if [ -n "${perf_pid:-}" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
python3 - "$out" "$name" "$scenario" <<'PY'
import json, sys
out, name, scenario = sys.argv[1:4]
r = json.load(open(f"{out}/run/result.json")); c = json.load(open(f"{out}/cpu.json"))
t, i = r["ttft_ms"], r["itl_ms"]
print(f"{name:24s} {scenario:6s} tok/s {r['output_tokens_per_second']:7.2f}  duration {r['duration_s']:6.2f} s  TTFT p50 {t['p50']:8.1f} p99 {t['p99']:8.1f}"
      f"  ITL p50 {i['p50']:6.2f}  cached {r['cached_token_ratio']:.2f}  server CPU ms/token {c['cpu_s'] * 1000 / max(1, r['output_tokens']):5.1f}  errors {r['errors']}"
      + (f"  warm/cold TTFT {t['p50'] / cold['ttft_ms']['p50']:.3f} (cold {cold['ttft_ms']['p50']:.0f} ms)" if (cold := (json.load(open(f"{out}/cold/result.json")) if scenario in ("prefix", "turn", "revisit") else None)) else ""))
PY
