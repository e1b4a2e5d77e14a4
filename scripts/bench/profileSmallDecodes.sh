#!/bin/bash
# Where a decode of n tokens spends its time (docs/performance.md, "Small decodes"): llama-bench
# under `perf record` for each n, then the hottest symbols and perf stat's CPUs busy. Run it on a
# quiet host: on a busy one the barrier waits hide the kernels.
#   scripts/bench/profileSmallDecodes.sh <model.gguf> [llama-tools dir] [threads] [sizes...]
set -euo pipefail
model=${1:?usage: profileSmallDecodes.sh <model.gguf> [llama-tools dir] [threads] [sizes...]}
tools=${2:-$(ls -d "${LOGTRIAGE_CACHE_DIR:-$HOME/.cache/logtriage}"/llama-tools/*-linux-x64 | head -1)}
threads=${3:-2}
shift $(( $# < 3 ? $# : 3 ))
sizes=${*:-1 2 4 16}
out=$(mktemp -d)
for n in $sizes; do
  perf record -F 999 -g -o "$out/perf-$n.data" -- "$tools/llama-bench" -m "$model" -p "$n" -n 0 -b "$n" -ub "$n" -t "$threads" -r 10 -o jsonl > "$out/lb-$n.jsonl" 2>/dev/null
  ms=$(node -e "for (const l of require('fs').readFileSync(process.argv[1], 'utf8').split('\n')) if (l.trim()) console.log((JSON.parse(l).avg_ns / 1e6).toFixed(1))" "$out/lb-$n.jsonl")
  busy=$(perf stat -e task-clock -- "$tools/llama-bench" -m "$model" -p "$n" -n 0 -b "$n" -ub "$n" -t "$threads" -r 10 2>&1 >/dev/null | grep -o '[0-9.]* CPUs utilized')
  echo "== $n tokens per decode: $ms ms per decode, $busy"
  perf report -i "$out/perf-$n.data" --no-children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9.]+%' | cut -c1-140 | head -6
done
rm -rf "$out"
