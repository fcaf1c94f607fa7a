#!/usr/bin/env bash
# Fetches the pinned llama.cpp build (npm: @node-llama-cpp/linux-x64) and the matching source bundle
# (npm: node-llama-cpp, for the vocab-only GGUF tokenizers and the reference tools) into a cache,
# checking every tarball against eng/llama-cpp.lock. Idempotent and silent when everything is present.
#
#   eng/fetch-llama.sh            CPU libraries + vocab files
#   eng/fetch-llama.sh --cuda     also the CUDA build (143 MB; ./test.sh fetches it to check the no-GPU error)
#   eng/fetch-llama.sh --cuda-ext also the CUDA fallback libggml-cuda.so for other GPU architectures (177 MB)
#   eng/fetch-llama.sh --source   also a checkout of the llama.cpp source (to build llama-bench/llama-server)
#
# Cache: ${SERVEGATE_CACHE:-$HOME/.cache/servegate}/llama.cpp/<version>/{cpu,cuda,vocab,src}
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lock="$here/llama-cpp.lock"
version=3.22.1
cache="${SERVEGATE_CACHE:-$HOME/.cache/servegate}"
root="$cache/llama.cpp/$version"
want_cuda=0
want_cuda_ext=0
want_source=0
for arg in "$@"; do
  case "$arg" in
    --cuda) want_cuda=1 ;;
    --cuda-ext) want_cuda=1; want_cuda_ext=1 ;;
    --source) want_source=1 ;;
    *) echo "fetch-llama.sh: unknown argument '$arg' (expected --cuda, --cuda-ext or --source)" >&2; exit 2 ;;
  esac
done

say() { echo "fetch-llama: $*" >&2; }

# pack_verified NAME@VERSION DIR: npm pack the package into DIR and check its sha512 against the lock file.
pack_verified() {
  local spec="$1" dir="$2" expected actual tgz
  expected="$(awk -v s="$spec" '$1 == s { print $2 }' "$lock")"
  [ -n "$expected" ] || { say "no pinned integrity for $spec in $lock"; exit 1; }
  mkdir -p "$dir"
  tgz="$(cd "$dir" && npm pack --silent "$spec" 2>/dev/null | tail -n 1)"
  [ -f "$dir/$tgz" ] || { say "npm pack $spec failed"; exit 1; }
  actual="sha512-$(openssl dgst -sha512 -binary "$dir/$tgz" | base64 -w0)"
  if [ "$actual" != "$expected" ]; then
    say "integrity mismatch for $spec: expected $expected, got $actual"
    rm -f "$dir/$tgz"
    exit 1
  fi
  echo "$dir/$tgz"
}

# install_libs PACKAGE TARGET: unpack the bins/linux-x64* folder of a prebuilt package into TARGET.
install_libs() {
  local spec="$1" target="$2" tmp tgz
  [ -f "$target/.complete" ] && return 0
  command -v npm >/dev/null || { say "npm is required (apt-get install npm)"; exit 1; }
  say "fetching $spec"
  tmp="$(mktemp -d)"
  tgz="$(pack_verified "$spec" "$tmp")"
  tar -xzf "$tgz" -C "$tmp"
  rm -rf "$target.partial" && mkdir -p "$target.partial"
  cp -a "$tmp"/package/bins/*/. "$target.partial/"
  rm -rf "$tmp" "$target"
  mv "$target.partial" "$target"
  echo "$spec" > "$target/.complete"
}

# The source bundle gives the vocab-only tokenizers (models/ggml-vocab-*.gguf) and, with --source, the tree.
ensure_bundle() {
  [ -f "$root/bundle/gitRelease.bundle" ] && return 0
  say "fetching node-llama-cpp@$version (llama.cpp source bundle)"
  local tmp tgz
  tmp="$(mktemp -d)"
  tgz="$(pack_verified "node-llama-cpp@$version" "$tmp")"
  tar -xzf "$tgz" -C "$tmp" package/llama/gitRelease.bundle package/llama/patches
  mkdir -p "$root/bundle"
  cp -a "$tmp/package/llama/patches" "$root/bundle/"
  mv "$tmp/package/llama/gitRelease.bundle" "$root/bundle/gitRelease.bundle"
  rm -rf "$tmp"
}

install_vocab() {
  [ -f "$root/vocab/.complete" ] && return 0
  ensure_bundle
  local tmp
  tmp="$(mktemp -d)"
  git clone -q --no-checkout "$root/bundle/gitRelease.bundle" "$tmp/src" 2>/dev/null
  rm -rf "$root/vocab.partial" && mkdir -p "$root/vocab.partial"
  for v in llama-spm qwen2 starcoder llama-bpe; do
    git -C "$tmp/src" show "HEAD:models/ggml-vocab-$v.gguf" > "$root/vocab.partial/ggml-vocab-$v.gguf"
  done
  rm -rf "$tmp" "$root/vocab"
  mv "$root/vocab.partial" "$root/vocab"
  touch "$root/vocab/.complete"
}

install_source() {
  [ -f "$root/src/.complete" ] && return 0
  ensure_bundle
  say "checking out the llama.cpp source into $root/src"
  rm -rf "$root/src"
  git clone -q "$root/bundle/gitRelease.bundle" "$root/src" 2>/dev/null
  touch "$root/src/.complete"
}

install_libs "@node-llama-cpp/linux-x64@$version" "$root/cpu"
install_vocab
if [ "$want_cuda" = 1 ]; then
  install_libs "@node-llama-cpp/linux-x64-cuda@$version" "$root/cuda"
fi
if [ "$want_cuda_ext" = 1 ]; then
  install_libs "@node-llama-cpp/linux-x64-cuda-ext@$version" "$root/cuda-ext"
fi
if [ "$want_source" = 1 ]; then
  install_source
fi
