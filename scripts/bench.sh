#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds and runs the benchmarks of bench/ (the lox_bench program; see
# bench/README.md). Installs what they compare against first (Google
# Benchmark, oneTBB, Boost, GLib: scripts/deps.sh --bench). Release build in
# build-bench/; arguments are passed to lox_bench.
#
#   scripts/bench.sh [LOX_BENCH_ARGS...]     e.g. --help, --case a --reps 3
#
# bench/run.sh (same build tree) runs it several times and prints medians.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh --bench
echo "bench: building lox_bench into build-bench/ ..."
cmake -S . -B build-bench -G Ninja -Wno-dev -DCMAKE_BUILD_TYPE=Release \
      -DBUILD_TESTING=OFF -DLOX_BUILD_EXAMPLES=OFF -DLOX_BUILD_BENCH=ON -DLOX_SANITIZE= >/dev/null
cmake --build build-bench -j "${LOX_JOBS:-2}" --target lox_bench
exe=$(find build-bench -type f -name lox_bench -perm -u+x | head -n 1)
[ -n "$exe" ] || { echo "bench: the build produced no lox_bench program" >&2; exit 1; }
echo
exec "$exe" "$@"
