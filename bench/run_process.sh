#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds lox_process_bench (Release) and runs it RUNS times, then prints the
# median of the per-run medians, the ratios liblox / Python
# multiprocessing.Pool(2) (with each run's ratio) and the targets
# (bench/common/runner.sh, then bench/median.py process). Extra arguments go
# to every lox_process_bench run. The Python side is
# bench/process/process_peer.py, run with /usr/bin/python3.
#
#   bench/run_process.sh                     # build + 3 runs (~1.5 min each)
#   RUNS=1 bench/run_process.sh --case a     # one run of the tiny tasks
#   SKIP_BUILD=1 bench/run_process.sh        # reuse the existing build
#   REV=HEAD bench/run_process.sh            # measure a committed liblox revision
#                                            # (git archive of REV, with this bench/)
#
# Build directory: build-bench-process (build-bench-process-rev with REV), not
# the other scripts', so all can run. Logs: $OUT/process-run<i>.txt and .err.
set -eu

PROGRAM=lox_process_bench BUILD_NAME=build-bench-process LOG=process-run SUITE=process
. "$(dirname "$0")/common/runner.sh"
bench_main "$@"
