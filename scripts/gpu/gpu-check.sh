#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CUDA check (issue 16): parity of gpu: 'cuda' with HuggingFace and the CPU on the tiny fixture,
# then the benchmark on the 1.5B-shaped F16 and Q8_0 models against llama-bench and
# llama-embedding -ngl 99, all on node-llama-cpp 3.21.1's prebuilt CUDA backend.
#
# On a CUDA machine with network, from a clean clone (../shared beside it, as for the tests):
#   scripts/gpu/gpu-check.sh                 # npm ci, build the tools, convert, parity, bench
# On a machine with no network and no Node.js (a lent GPU machine), from a bundle made here by
# `node scripts/gpu/bundle-gpu-check.mjs --out DIR`, whose a/ and b/ may arrive in separate transfers:
#   gpu-check.sh unpack DIR/a            # Node, addon, libggml-cuda.so, tools, scripts -> $GPU_CHECK_HOME
#   gpu-check.sh prepare                 # 1.5B-shaped checkpoint -> F16, Q8_0 (CPU); CUDA smoke test
#   gpu-check.sh unpack-weights DIR/b    # the parity fixture's weights
#   gpu-check.sh parity                  # writes $OUT/gpu-parity.json
#   gpu-check.sh bench [MODEL...]        # writes $OUT/bench-MODEL.{json,md}
# Results go to $OUT (default ./gpu-check-results). Exit status: the first failing stage's.
set -uo pipefail

OUT=${OUT:-$PWD/gpu-check-results}
GPU_CHECK_HOME=${GPU_CHECK_HOME:-/root/gpu-check}
THREADS=${THREADS:-8}
BENCH_LINES=${BENCH_LINES:-768}
mkdir -p "$OUT"
log() { echo "[gpu-check] $*" >&2; }

# The CUDA 13 runtime and cuBLAS that libggml-cuda.so needs, wherever this machine keeps them
# (the toolkit, or pip's nvidia-* wheels in a Python environment), and the driver's libcuda.so.1.
cuda_libraries() {
  local dirs=() lib found
  for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcuda.so.1; do
    found=$(ldconfig -p 2>/dev/null | grep -F "$lib " | head -1)
    [ -n "$found" ] && continue
    found=$(find /usr/local/cuda/ /usr/local/cuda/lib64/ /usr/local/nvidia/ /opt/ /usr/lib/ -name "$lib" 2>/dev/null | head -1)
    if [ -n "$found" ]; then dirs+=("$(dirname "$found")"); else log "not found: $lib"; fi
  done
  local IFS=:
  export LD_LIBRARY_PATH="${dirs[*]}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  log "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
}

# How each stage runs its scripts: from a checkout (this file in scripts/gpu/), tsx; from a
# bundle (this file beside payload.tar.xz, or unpacked), the bundled JavaScript under its Node.
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
if [ "$(basename "$SCRIPT_DIR")" = gpu ] && [ -f "$SCRIPT_DIR/../../package.json" ]; then
  MODE=checkout
  REPO=$(dirname "$(dirname "$SCRIPT_DIR")")
  cd "$REPO" || exit 1
  run_script() {
    local name=$1; shift
    case $name in
      logtriage) node bin/logtriage.js "$@" ;;
      bench) npx tsx scripts/bench/bench.ts "$@" ;;
      *) npx tsx "scripts/gpu/$name.ts" "$@" ;;
    esac
  }
else
  MODE=bundle
  REPO=$GPU_CHECK_HOME/repo
  export PATH="$GPU_CHECK_HOME/node-bin:$PATH"
  export LOGTRIAGE_CACHE_DIR=$GPU_CHECK_HOME/cache LOGTRIAGE_BENCH_PREBUILT=$REPO/.bench-build
  run_script() { local name=$1; shift; node "$REPO/.bench-build/$name.mjs" "$@"; }
fi
# JIT-compiled PTX (3.21.1 ships no sm_90 cubin) is cached across processes: keep all of it.
export CUDA_CACHE_MAXSIZE=${CUDA_CACHE_MAXSIZE:-4294967296}

stage_unpack() {
  local from want name file
  from=$(cd "$1" && pwd) || return 1
  mkdir -p "$GPU_CHECK_HOME/node-bin"
  cd "$GPU_CHECK_HOME" || return 1
  tar -xJf "$from/payload.tar.xz" || return 1
  xz -dc "$from/node.xz" > node-bin/node && chmod +x node-bin/node || return 1
  xz -dc "$from/libggml-cuda.so.xz" > "$(cuda_backend_file)" || return 1
  while read -r want name; do
    case $name in node) file=node-bin/node ;; *) file=$(cuda_backend_file) ;; esac
    [ "$(sha256sum < "$file" | cut -d' ' -f1)" = "$want" ] || { log "SHA-256 of $name differs from the bundle's"; return 1; }
  done < "$from/SHA256SUMS"
  log "SHA-256 of node and libggml-cuda.so verified"
  [ -x /usr/bin/time ] || cp bin/time /usr/bin/time || return 1
  cp "$from/gpu-check.sh" "$GPU_CHECK_HOME/gpu-check.sh"
  mkdir -p cache/llama-tools
  printf '{"binDir":"%s","release":"bundled"}\n' "$GPU_CHECK_HOME/tools" > cache/llama-tools/current.json
  log "unpacked into $GPU_CHECK_HOME: node $(node-bin/node --version)"
}

stage_unpack_weights() {
  [ -d "$GPU_CHECK_HOME/shared" ] || { log "nothing unpacked in $GPU_CHECK_HOME (a fresh machine?): run unpack first"; return 1; }
  cp "$1/model.safetensors" "$GPU_CHECK_HOME/shared/fixtures/qwen2-tiny-public/model/model.safetensors"
}

machine_report() {
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv | tee "$OUT/nvidia-smi.csv"
  nvidia-smi | head -15
  node --version
  grep -m1 'model name' /proc/cpuinfo; nproc
}

stage_prepare() {
  machine_report
  cuda_libraries
  # The 1.5B-shaped random checkpoint and its F16 / Q8_0 conversions (CPU, cached); Q8_0
  # converts while the GPU smoke test runs.
  run_script bench --prepare --models f16 --threads "$(nproc)" || return 1
  run_script bench --prepare --models q8_0 --threads "$(nproc)" & local q8=$!
  # Does the addon load the CUDA backend and see the card?
  run_script logtriage info --devices 2>&1 | tee "$OUT/info-devices.txt"
  # llama-bench on the same libraries: the first JIT compile of the PTX (cached for later runs).
  local cache=${LOGTRIAGE_CACHE_DIR:-$HOME/.cache/logtriage} tools
  tools=$(sed 's/.*"binDir":"\([^"]*\)".*/\1/' "$cache/llama-tools/current.json")
  time GGML_BACKEND_PATH=$(cuda_backend_file) "$tools/llama-bench" -m "$cache/bench/qwen2-1.5b-random-f16.gguf" \
    -p 512 -n 0 -ngl 99 -r 2 -o md 2>&1 | tee "$OUT/llama-bench-smoke.txt"
  wait $q8
}

cuda_backend_file() {
  echo "$REPO/node_modules/@node-llama-cpp/linux-x64-cuda/bins/linux-x64-cuda/libggml-cuda.so"
}

stage_parity() {
  cuda_libraries
  run_script check-gpu-parity --gpu cuda --out "$OUT" --threads "$THREADS" 2>&1 | tee "$OUT/parity.log"
}

stage_bench() {
  cuda_libraries
  local models=("$@") status=0 m
  [ ${#models[@]} -gt 0 ] || models=(f16 q8_0)
  # One run per model, so a model that runs out of time leaves the others' reports.
  for m in "${models[@]}"; do
    run_script bench --gpu cuda --models "$m" --lines "$BENCH_LINES" --rounds 2 --threads "$THREADS" --out "$OUT/bench-$m" || status=1
    mv "$OUT/bench-$m/bench.json" "$OUT/bench-$m.json" 2>/dev/null
    mv "$OUT/bench-$m/bench.md" "$OUT/bench-$m.md" 2>/dev/null
    rm -rf "$OUT/bench-$m"
  done
  return $status
}

stage=${1:-all}
[ $# -gt 0 ] && shift
log "stage $stage ($MODE mode), results in $OUT"
case $stage in
  unpack) stage_unpack "$1" ;;
  unpack-weights) stage_unpack_weights "$1" ;;
  prepare) stage_prepare ;;
  parity) stage_parity ;;
  bench) stage_bench "$@" ;;
  all)
    [ "$MODE" = checkout ] || { log "'all' runs from a checkout; a bundle runs its stages one by one"; exit 2; }
    npm ci || exit 1
    node scripts/build/build-native.mjs --tools || exit 1
    stage_prepare || exit 1
    stage_parity; parity=$?
    stage_bench || exit 1
    exit $parity
    ;;
  *) log "unknown stage '$stage'"; exit 2 ;;
esac
