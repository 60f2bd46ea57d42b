#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds lox_bench (Release) and runs it RUNS times, then prints the median
# of the per-run figures and the targets (bench/common/runner.sh, then
# bench/median.py thread). Extra arguments go to every lox_bench run (e.g.
# --case a --reps 3).
#
#   bench/run.sh                      # build + 3 full runs (~1 min each)
#   RUNS=1 bench/run.sh --case c      # one run of case c only
#   SKIP_BUILD=1 bench/run.sh         # reuse the existing build
#   REV=HEAD bench/run.sh             # measure a committed liblox revision
#                                     # (git archive of REV, with this bench/)
#
# Build directory: build-bench (build-bench-rev with REV). Logs:
# $OUT/run<i>.txt (tables, csv lines) and run<i>.err (progress).
set -eu

PROGRAM=lox_bench BUILD_NAME=build-bench LOG=run SUITE=thread
. "$(dirname "$0")/common/runner.sh"
bench_main "$@"
