#!/usr/bin/env bash
# Builds the ServeGate host into artifacts/gateway (what ./run.sh starts). Quiet unless the build fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! dotnet build src/ServeGate.Gateway -c Release -nologo -v q -clp:ErrorsOnly -o artifacts/gateway >"$log" 2>&1; then
  cat "$log" >&2
  echo "build failed" >&2
  exit 1
fi
