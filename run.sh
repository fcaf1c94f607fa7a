#!/usr/bin/env bash
# Installs what is missing, builds, and starts ServeGate on http://127.0.0.1:8080.
#   ./run.sh [--port N] [--model PATH ...] [--parallel N] [--backend cpu|cuda] [any ServeGate.Gateway option]
# With no --model it serves the embedded demo models (generated on first run, then cached).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

fetch_args=()
for arg in "$@"; do
  if [ "$arg" = "cuda" ]; then fetch_args+=(--cuda); fi
done

eng/ensure-deps.sh
eng/fetch-llama.sh "${fetch_args[@]}"

eng/build-gateway.sh
exec dotnet artifacts/gateway/ServeGate.Gateway.dll "$@"
