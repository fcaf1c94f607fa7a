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
