#!/usr/bin/env bash
# Builds the ServeGate host into artifacts/gateway (what ./run.sh starts). Quiet unless the build fails.
# Published ReadyToRun for this machine's runtime: ServeGate's own code arrives precompiled, as the framework's does,
# so the first request after a start does not wait for the JIT (tiered compilation is off, see the csproj): the
# first small completion took ~330 ms on a fresh process and ~170 ms ReadyToRun, against ~50 ms warm
# (docs/architecture.md, "Startup").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! dotnet publish src/ServeGate.Gateway -c Release --use-current-runtime --self-contained false \
    -p:PublishReadyToRun=true -nologo -v q -clp:ErrorsOnly -o artifacts/gateway >"$log" 2>&1; then
  cat "$log" >&2
  echo "build failed" >&2
  exit 1
fi
