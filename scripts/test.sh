#!/usr/bin/env bash
# The whole test suite: the include graph's rules (scripts/check-layers), then
# unit and integration tests (ctest; every integration script twice, on SQLite
# and on a private PostgreSQL cluster that ctest starts: scripts/pg-cluster)
# on a Release build
# (what a packager builds, -O3) with -Werror, the same again on a Debug build
# (-O0) under AddressSanitizer + UndefinedBehaviorSanitizer, then every
# libFuzzer target for a short run over its seed corpus. Warnings are errors
# here (VT_WERROR) at both optimisation levels, not in a packager's build.
# FUZZ_SECONDS (default 20) sets the length of each fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
jobs=$(nproc)
# install-deps.sh put chromium and libfaketime here: the browser and clock
# tests must run, not skip.
export VT_REQUIRE_BROWSER=1 VT_REQUIRE_FAKETIME=1
export VT_ARTIFACTS="${VT_ARTIFACTS:-$PWD/build/test-artifacts}"

echo "== layers (scripts/check-layers) =="
./scripts/check-layers --self-test
./scripts/check-layers

echo "== build and test (Release) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DVT_WERROR=ON -DVT_TEST_POSTGRESQL=ON >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== build and test (ASan + UBSan) =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVT_SANITIZE=ON -DVT_WERROR=ON -DVT_TEST_POSTGRESQL=ON >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j"$jobs")

echo "== fuzz (short runs) =="
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DVT_SANITIZE=ON -DVT_FUZZ=ON -DVT_WERROR=ON >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzzers
seconds=${FUZZ_SECONDS:-20}
for f in build-fuzz/fuzz_*; do
  name=$(basename "$f")
  corpus=$(mktemp -d)
  [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  echo "-- $name ($seconds s)"
  "$f" -max_total_time="$seconds" -print_final_stats=1 "$corpus" 2>&1 | tail -n 3
  rm -rf "$corpus"
done
echo "all tests passed"
