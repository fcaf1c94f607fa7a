#!/usr/bin/env bash
# Installs what is missing, builds, runs every test. Ends with "N passed, N failed, N skipped".
#   ./test.sh [--filter EXPR]     (EXPR is passed to dotnet test --filter)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
filter=()
while [ $# -gt 0 ]; do
  case "$1" in
    --filter) filter=(--filter "$2"); shift 2 ;;
    *) echo "test.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

# Debian's postgresql puts its server binaries under /usr/lib/postgresql/<version>/bin, not on PATH; chromium: the
# dashboard tests (tests/ServeGate.Dashboard.Tests).
eng/ensure-deps.sh "redis-server:redis-server" "/usr/lib/postgresql/*/bin/initdb:postgresql" "chromium:chromium"
eng/fetch-llama.sh --cuda

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! dotnet build ServeGate.sln -c Release -nologo -v q -clp:ErrorsOnly >"$log" 2>&1; then
  cat "$log"; echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi
eng/build-gateway.sh || { echo "0 passed, 1 failed"; exit 1; }

# Test assemblies run one after another: each llama.cpp test uses every core.
set +e
dotnet test ServeGate.sln -c Release --no-build -nologo -m:1 "${filter[@]}" \
  --logger "console;verbosity=minimal" 2>&1 | tee "$log" \
  | grep --line-buffered -vE '^(Test run for|A total of|\s*$|Build started|Determining projects)'
status="${PIPESTATUS[0]}"
set -e

# Each assembly ends with "Passed!  - Failed: 0, Passed: 52, Skipped: 0, Total: 52, ..." (or "Failed!  - ...").
sum() { grep -E '^(Passed|Failed)!' "$log" | grep -oE "$1:\s+[0-9]+" | awk '{ s += $2 } END { print s + 0 }'; }
passed="$(sum Passed)"
failed="$(sum Failed)"
skipped="$(sum Skipped)"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # a crashed or aborted run counts as a failure
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
