#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds lox_bench (Release) and runs it RUNS times (default 3), each run
# first waiting (up to WAIT_QUIET seconds, default 900) until other processes
# use < 0.15 CPU, then prints the median of the per-run figures and the
# targets. Extra arguments go to every lox_bench run (e.g. --case a --reps 3).
#
#   bench/run.sh                      # build + 3 full runs (~1 min each)
#   RUNS=1 bench/run.sh --case c      # one run of case c only
#   SKIP_BUILD=1 bench/run.sh         # reuse the existing build
#   REV=HEAD bench/run.sh             # measure a committed liblox revision
#                                     # (git archive of REV, with this bench/)
#
# Logs: $OUT/run<i>.txt (tables, csv lines) and run<i>.err (progress).
set -eu

PROGRAM=lox_bench
BUILD_NAME=build-bench
LOG=run
. "$(dirname "$0")/common.sh"
bench_build
bench_runs "$@"

# csv,<case>,<peer>,<units>,<median ns/unit>,<min ns/unit>,<ok|error>,<other load>,<reps redone>
# Median across runs of each run's median; min across runs of each run's min.
grep -h '^csv,' "$OUT"/run*.txt | grep -E '^csv,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,ok' | sort -t, -k2,2 -k3,3 -k5,5g | awk -F, -v runs="$RUNS" '
  function verdict(ok) { return ok ? "met" : "NOT met" }
  { key = $2 "," $3; n[key]++; v[key, n[key]] = $5
    if (!(key in mn) || $6 + 0 < mn[key]) mn[key] = $6 + 0
    if (!(key in seen)) { seen[key] = 1; keys[++nkeys] = key } }
  END {
    for (k = 1; k <= nkeys; k++) {
      key = keys[k]; c = n[key]
      med[key] = (c % 2) ? v[key, (c + 1) / 2] : (v[key, c / 2] + v[key, c / 2 + 1]) / 2
    }
    printf "\nMedian of %d run(s) (ns per task / per round trip; case m: bytes per pending task)\n\n", runs
    printf "| case | peer     | median   | best min | runs | ratio |\n|------|----------|----------|----------|------|-------|\n"
    best = ""
    split("tbb asio glib std", peers, " ")
    for (p = 1; p <= 4; p++) { key = "a," peers[p]; if ((key in med) && (best == "" || med[key] < med[best])) best = key }
    nc = split("m a b c", cases, " "); np = split("serial lox tbb asio glib std pingpong", order, " ")
    for (ci = 1; ci <= nc; ci++) for (pi = 1; pi <= np; pi++) {
      key = cases[ci] "," order[pi]; if (!(key in med)) continue
      cs = cases[ci]; r = ""
      if (cs == "a" && best != "") r = sprintf("%.3fx vs %s", med[key] / med[best], substr(best, 3))
      if (cs == "b" && ("b,serial" in med)) r = sprintf("speed-up %.3fx", med["b,serial"] / med[key])
      if (cs == "c" && ("c,pingpong" in med)) r = sprintf("%.3fx vs ping-pong", med[key] / med["c,pingpong"])
      if (cs == "m") r = "best min = malloc heap bytes/task"
      printf "| %-4s | %-8s | %8.1f | %8.1f | %4d | %s |\n", cs, order[pi], med[key], mn[key], n[key], r
    }
    printf "\nTargets (medians across runs)\n\n"
    if (best != "" && ("a,lox" in med)) { x = med["a,lox"] / med[best]
      printf "(a) liblox / fastest peer (%s) = %.3f  (target <= 0.25): %s\n", substr(best, 3), x, verdict(x <= 0.25) }
    if (("b,lox" in med) && ("b,serial" in med)) { x = med["b,serial"] / med["b,lox"]
      printf "(b) liblox speed-up vs serial = %.3f  (target >= 1.9): %s\n", x, verdict(x >= 1.9) }
    if (("c,lox" in med) && ("c,pingpong" in med)) { x = med["c,lox"] / med["c,pingpong"]
      printf "(c) liblox / cv ping-pong = %.3f  (target <= 2): %s\n", x, verdict(x <= 2) }
    if ("m,lox" in med) { x = med["m,lox"]
      printf "(m) bytes per pending liblox task = %.1f  (target <= 64): %s\n", x, verdict(x <= 64) }
  }'
