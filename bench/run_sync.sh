#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds lox_sync_bench (Release) and runs it RUNS times, then prints the
# median of the per-run medians and the targets (bench/common/runner.sh,
# then bench/median.py sync). Extra arguments go to every lox_sync_bench run.
#
#   bench/run_sync.sh                     # build + 3 runs (~1 min each)
#   RUNS=1 bench/run_sync.sh --case u     # one run of the uncontended pairs
#   SKIP_BUILD=1 bench/run_sync.sh        # reuse the existing build
#   REV=HEAD bench/run_sync.sh            # measure a committed liblox revision
#                                         # (git archive of REV, with this bench/)
#
# Build directory: build-bench-sync (build-bench-sync-rev with REV), not
# bench/run.sh's, so both can run. Logs: $OUT/sync-run<i>.txt and .err.
set -eu

PROGRAM=lox_sync_bench BUILD_NAME=build-bench-sync LOG=sync-run SUITE=sync
. "$(dirname "$0")/common/runner.sh"
bench_main "$@"
