#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Compile-checks the CUDA build of llama.cpp from node-llama-cpp's bundle (the same source the
# from-source path builds) for one architecture, sm_90, without building all of it: CMake is
# configured exactly as `npm run build:native:source -- --gpu cuda` does, then the CUDA backend's
# main translation unit and one quantized matmul instance are compiled. Needs nvcc; no GPU.
# Too slow for the regular test run (minutes on 2 cores); run by hand or in a CUDA CI job.
#   scripts/gpu/check-cuda-build.sh [extra .cu objects...]
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v nvcc >/dev/null || { echo "check-cuda-build: nvcc not found (install the CUDA toolkit)" >&2; exit 1; }
command -v ninja >/dev/null || { echo "check-cuda-build: ninja not found" >&2; exit 1; }

cache="${LOGTRIAGE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/logtriage}"
# The pinned node-llama-cpp version, from its one definition.
nlc=$(node --input-type=module -e "import { NODE_LLAMA_CPP_VERSION } from './scripts/build/platforms.mjs'; console.log(NODE_LLAMA_CPP_VERSION)")
src=$(ls -d "$cache"/llama.cpp/"$nlc"-* 2>/dev/null | head -n1)
if [ -z "$src" ]; then
  node scripts/build/build-native.mjs >/dev/null  # clones the bundle's source into the cache
  src=$(ls -d "$cache"/llama.cpp/"$nlc"-* | head -n1)
fi
build="$cache/cuda-check/$(basename "$src")-sm90"

cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DGGML_BACKEND_DL=ON \
  -DGGML_NATIVE=OFF -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF \
  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF >/dev/null

objects=(
  ggml/src/ggml-cuda/CMakeFiles/ggml-cuda.dir/ggml-cuda.cu.o
  ggml/src/ggml-cuda/CMakeFiles/ggml-cuda.dir/template-instances/mmq-instance-q8_0.cu.o
  "$@"
)
start=$(date +%s)
ninja -C "$build" "${objects[@]}"
echo "check-cuda-build: ${#objects[@]} CUDA objects compiled for sm_90 in $(( $(date +%s) - start )) s ($build)"
