#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds lox_graph_bench (Release) and runs it RUNS times, then prints the
# median of the per-run medians, the ratios behind the targets (with each
# run's ratio) and the targets (bench/common/runner.sh, then bench/median.py
# graph). Extra arguments go to every lox_graph_bench run.
#
#   bench/run_graph.sh                       # build + 3 runs (~2 min each)
#   RUNS=1 bench/run_graph.sh --case h,a     # one run of the lox-only cases
#   SKIP_BUILD=1 bench/run_graph.sh          # reuse the existing build
#   REV=HEAD bench/run_graph.sh              # measure a committed liblox revision
#                                            # (git archive of REV, with this bench/)
#
# Build directory: build-bench-graph (build-bench-graph-rev with REV), not
# the other scripts', so all can run. Logs: $OUT/graph-run<i>.txt and .err.
set -eu

PROGRAM=lox_graph_bench BUILD_NAME=build-bench-graph LOG=graph-run SUITE=graph
. "$(dirname "$0")/common/runner.sh"
bench_main "$@"
