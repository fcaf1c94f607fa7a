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

eng/ensure-deps.sh "redis-server:redis-server"
eng/fetch-llama.sh

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! dotnet build ServeGate.sln -c Release -nologo -v q -clp:ErrorsOnly >"$log" 2>&1; then
  cat "$log"; echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi

# Test assemblies run one after another: each llama.cpp test uses every core.
status=0
dotnet test ServeGate.sln -c Release --no-build -nologo -m:1 "${filter[@]}" \
  --logger "console;verbosity=normal" 2>&1 | tee "$log" | grep -E '^\s*(Failed|Skipped) |^(Passed|Failed)!|error|Error Message|Assert' || true
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

sum() { grep -oE "$1:\s+[0-9]+" "$log" | awk '{ s += $2 } END { print s + 0 }'; }
passed="$(grep -E '^(Passed|Failed)!' "$log" | sum Passed)"
failed="$(grep -E '^(Passed|Failed)!' "$log" | sum Failed)"
skipped="$(grep -E '^(Passed|Failed)!' "$log" | sum Skipped)"
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
