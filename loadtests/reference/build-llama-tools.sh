#!/usr/bin/env bash
# Builds the reference tools from the pinned llama.cpp source (the npm package node-llama-cpp@3.22.1 carries it as a
# git bundle; see eng/fetch-llama.sh): llama-bench, llama-server and llama-batched-bench, for the benchmarks in
# docs/benchmarks.md. Release, with the CPU backend built as llama.cpp's own release binaries build it: every x86
# variant as a loadable library, the best one for the CPU chosen at start (the same choice, from the same list, as the
# prebuilt libraries ServeGate loads). Not -march=native: on an Intel CPU with AVX512-FP16, GCC 12's native build
# takes ggml's half-precision arithmetic path, whose flash attention ran 3-5x slower than the released variants
# (docs/benchmarks.md, "Session 7"), which would compare ServeGate with a build no user runs.
# Idempotent: does nothing when the binaries exist. Takes ~15 minutes on 2 cores.
#   loadtests/reference/build-llama-tools.sh   -> prints the bin folder
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${SERVEGATE_CACHE:-$HOME/.cache/servegate}"
src="$cache/llama.cpp/3.22.1/src"
build="$cache/llama.cpp/3.22.1/build-release"
bin="$build/bin"
if [ -x "$bin/llama-bench" ] && [ -x "$bin/llama-server" ] && [ -x "$bin/llama-batched-bench" ]; then
  echo "$bin"; exit 0
fi
"$repo/eng/ensure-deps.sh" "cmake:cmake" "g++:g++"
"$repo/eng/fetch-llama.sh" --source >&2
# No OpenMP: the prebuilt libraries ServeGate loads use ggml's own thread pool, so both sides run the same threading.
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON \
  -DGGML_OPENMP=OFF -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON >&2
cmake --build "$build" -j"$(nproc)" --target llama-bench llama-server llama-batched-bench >&2
echo "$bin"
