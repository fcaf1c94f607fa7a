#!/usr/bin/env bash
# Usage: loadtests/reference/ledger-overhead.sh [OUT_DIR]   (after ./test.sh or eng/build-gateway.sh; three adjacent pairs)
# Ledger on (durable spool, default) vs off (ServeGate:Metering:Durable=false) in adjacent runs on one machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
model=${SERVEGATE_CACHE:-$HOME/.cache/servegate}/models/servegate-demo-base-smollm2-135m-q4_k_m.gguf  # tests/ServeGate.Benchmarks: generate smollm2-135m q4_k_m
lt=$(ls loadtests/ServeGate.LoadTests/bin/Release/*/servegate-loadtest.dll)
out=${1:-$(mktemp -d)}; mkdir -p "$out"
for pair in 1 2 3; do
  for mode in on off; do
    off=0; [ $mode = off ] && off=1; port=$((18100 + pair * 10 + off))
    dir=$(mktemp -d)
    durable=true; [ $mode = off ] && durable=false
    dotnet artifacts/gateway/ServeGate.Gateway.dll --port $port --model $model --parallel 4 --data-dir $dir \
      --ServeGate:Metering:Durable=$durable > $out/gw-$pair-$mode.log 2>&1 &
    gw=$!
    for i in $(seq 1 120); do curl -sf http://127.0.0.1:$port/ready >/dev/null && break; sleep 0.5; done
    dotnet $lt --url http://127.0.0.1:$port --model servegate-demo-base-smollm2-135m-q4_k_m --endpoint completions --concurrency 4 --requests 48 \
      --prompt-tokens 64 --max-tokens 32 --ignore-eos --seed $pair --out $out/$pair-$mode > $out/lt-$pair-$mode.log 2>&1 || true
    kill $gw; wait $gw 2>/dev/null || true
    python3 - "$out/$pair-$mode/result.json" "$pair" "$mode" <<'PY'
import json,sys
r=json.load(open(sys.argv[1]))
def find(d,keys):
    for k,v in d.items():
        if isinstance(v,dict):
            f=find(v,keys)
            if f: return f
        if k in keys: return (k,v)
s=json.dumps(r)[:0]
flat={}
def walk(d,p=''):
    if isinstance(d,dict):
        for k,v in d.items(): walk(v,p+k+'.')
    elif isinstance(d,(int,float)): flat[p[:-1]]=d
walk(r)
keys=[k for k in flat if any(x in k for x in ['output_tokens_per_second','e2e','ttft','errors'])][:12]
print(sys.argv[2],sys.argv[3],{k:round(flat[k],3) for k in keys})
PY
  done
done
