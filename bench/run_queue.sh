#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds lox_queue_bench (Release) and runs it RUNS times, then prints the
# median of the per-run medians, lox_queue's items/s over the fastest peer's
# per shape (with each run's ratio) and the target (>= 2x)
# (bench/common/runner.sh, then bench/median.py queue). Extra arguments go to
# every lox_queue_bench run.
#
#   bench/run_queue.sh                       # build + 3 runs (~1-2 min each)
#   RUNS=1 bench/run_queue.sh --case q       # one run of the queue throughput
#   SKIP_BUILD=1 bench/run_queue.sh          # reuse the existing build
#   REV=HEAD bench/run_queue.sh              # measure a committed liblox revision
#                                            # (git archive of REV, with this bench/)
#
# Build directory: build-bench-queue (build-bench-queue-rev with REV), not
# the other scripts', so all can run. Logs: $OUT/queue-run<i>.txt and .err.
set -eu

PROGRAM=lox_queue_bench BUILD_NAME=build-bench-queue LOG=queue-run SUITE=queue
. "$(dirname "$0")/common/runner.sh"
bench_main "$@"
