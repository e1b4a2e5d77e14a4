#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds our native code with AddressSanitizer and UBSan (against the same prebuilt llama.cpp
# libraries as the normal build) into build/sanitized, then runs the native tests with that
# addon and node preloaded with the ASan runtime. Any sanitizer report, from the test workers or
# from the child processes they start, fails the run: reports are written to files, so a report
# from a process whose crash a test expected is not lost either.
#
#   scripts/stress/build-sanitized.sh                 # build, then run the default test set
#   scripts/stress/build-sanitized.sh --no-build test/reliability/lifetimes.integration.test.ts
#
# Needs g++ (or $CXX) with libasan and libubsan: on Debian/Ubuntu, gcc's own libasan8 and
# libubsan1 (pulled in by g++); with clang, libclang-rt-<version>-dev.
# llama.cpp itself is not instrumented: ASan sees every malloc/free of the process but checks
# memory accesses only in our code.
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=build/sanitized
REPORTS="$OUT/reports"
build=1
if [[ "${1:-}" == "--no-build" ]]; then
  build=0
  shift
fi
tests=("$@")
if [[ ${#tests[@]} -eq 0 ]]; then
  tests=(
    test/binding
    test/classifier/badInput.integration.test.ts
    test/classifier/lifecycle.integration.test.ts
    test/classifier/batching.integration.test.ts
    test/reliability
  )
fi

if [[ $build -eq 1 ]]; then
  node scripts/build/build-native.mjs --sanitize --out "$OUT"
fi

cxx="${CXX:-g++}"
asan_runtime="$("$cxx" -print-file-name=libasan.so)"
if [[ ! -e "$asan_runtime" ]]; then
  echo "build-sanitized: $cxx has no libasan.so ($asan_runtime): install libasan (g++ brings it on Debian)" >&2
  exit 2
fi

rm -rf "$REPORTS"
mkdir -p "$REPORTS"
# Node and V8 are not built with ASan: their allocations look leaked at exit, so leak checking
# is off; hostile models ask for absurd sizes, which must fail as allocations, not abort.
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:detect_odr_violation=0:halt_on_error=1:abort_on_error=1:log_path=$PWD/$REPORTS/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$PWD/$REPORTS/ubsan"
export LOGTRIAGE_NATIVE_BINDING="$PWD/$OUT/Release/logtriage.node"
# Fewer hostile lines than the normal run: the point here is every code path, under ASan.
export LOGTRIAGE_FUZZ_LINES="${LOGTRIAGE_FUZZ_LINES:-2000}"
export LOGTRIAGE_FUZZ_MB_LINES="${LOGTRIAGE_FUZZ_MB_LINES:-2}"

status=0
LD_PRELOAD="$asan_runtime" npx vitest run "${tests[@]}" || status=$?

shopt -s nullglob
reports=("$REPORTS"/*)
if [[ ${#reports[@]} -gt 0 ]]; then
  echo "build-sanitized: ${#reports[@]} sanitizer report(s):" >&2
  for report in "${reports[@]}"; do
    echo "==== $report" >&2
    head -n 60 "$report" >&2
  done
  exit 1
fi
if [[ $status -ne 0 ]]; then
  echo "build-sanitized: tests failed (exit $status) without a sanitizer report" >&2
  exit "$status"
fi
echo "build-sanitized: clean (no ASan/UBSan report)"
