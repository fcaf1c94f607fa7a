#!/usr/bin/env bash
# Installs what is missing, builds, and starts ServeGate on http://127.0.0.1:8080.
#   ./run.sh [--port N] [--model PATH ...] [--parallel N] [--backend cpu|cuda] [any ServeGate.Gateway option]
# With no --model it serves the embedded demo models (generated on first run, then cached).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

fetch_args=()
for arg in "$@"; do
  [ "$arg" = "cuda" ] && fetch_args+=(--cuda)
done

eng/ensure-deps.sh
eng/fetch-llama.sh "${fetch_args[@]}"

out=artifacts/gateway
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! dotnet build src/ServeGate.Gateway -c Release -nologo -v q -clp:ErrorsOnly -o "$out" >"$log" 2>&1; then
  cat "$log" >&2
  echo "run.sh: build failed" >&2
  exit 1
fi
rm -f "$log"
trap - EXIT
exec dotnet "$out/ServeGate.Gateway.dll" "$@"
