#!/usr/bin/env bash
# Installs the Debian packages ServeGate's scripts and tests need, only those missing. Silent when nothing is.
#   eng/ensure-deps.sh [command:package ...]   (a command with a '/' is a path glob, e.g. /usr/lib/postgresql/*/bin/initdb)
set -euo pipefail
need=()
for cmd_pkg in "npm:npm" "git:git" "openssl:openssl" "curl:curl" "$@"; do
  cmd="${cmd_pkg%%:*}"; pkg="${cmd_pkg#*:}"
  if [[ "$cmd" == */* ]]; then
    compgen -G "$cmd" >/dev/null || need+=("$pkg")
  else
    command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
  fi
done
[ "${#need[@]}" -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-deps: missing ${need[*]} and no apt-get to install them" >&2; exit 1
fi
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "ensure-deps: installing ${need[*]}" >&2
$sudo apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
