#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds lox_sync_bench (Release) and runs it RUNS times (default 3), each run
# first waiting (up to WAIT_QUIET seconds, default 900) until other processes
# use < 0.15 CPU, then prints the median of the per-run medians and the
# targets of issue #3. Extra arguments go to every lox_sync_bench run.
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

PROGRAM=lox_sync_bench
BUILD_NAME=build-bench-sync
LOG=sync-run
. "$(dirname "$0")/common.sh"
bench_build
bench_runs "$@"

# csv,<case>,<peer>,<median ns>,<min ns>,<ok|error>,<other load>,<reps redone>
# (case u: ns per pair; cases t100/t95/t50: wall ns per op of both threads.)
# Median across runs of each run's median; min across runs of each run's min.
grep -h '^csv,' "$OUT"/sync-run*.txt | grep -E '^csv,[^,]*,[^,]*,[^,]*,[^,]*,ok' | sort -t, -k2,2 -k3,3 -k4,4g | awk -F, -v runs="$RUNS" '
  function verdict(ok) { return ok ? "met" : "NOT met" }
  { key = $2 "," $3; n[key]++; v[key, n[key]] = $4
    if (!(key in mn) || $5 + 0 < mn[key]) mn[key] = $5 + 0
    if (!(key in seen)) { seen[key] = 1; keys[++nkeys] = key } }
  END {
    for (k = 1; k <= nkeys; k++) {
      key = keys[k]; c = n[key]
      med[key] = (c % 2) ? v[key, (c + 1) / 2] : (v[key, c / 2] + v[key, c / 2 + 1]) / 2
    }
    printf "\nMedian of %d run(s)\n\n", runs
    printf "| case | peer | median | best | runs | ratio |\n|---|---|---:|---:|---:|---|\n"
    np = split("pthread_mutex|std::mutex|lox_lock|lox::lock (C++ layer)|lox_qlock|pthread_rwlock read|std::shared_mutex read|lox_rwlock read|pthread_rwlock write|std::shared_mutex write|lox_rwlock write|sem_wait/sem_post|lox_index_semaphore", up, "|")
    for (i = 1; i <= np; i++) {
      key = "u," up[i]; if (!(key in med)) continue
      p = up[i]; ref = "pthread_mutex"
      if (p ~ / read$/) ref = "pthread_rwlock read"; else if (p ~ / write$/) ref = "pthread_rwlock write"; else if (p ~ /sem/) ref = "sem_wait/sem_post"
      r = ("u," ref in med) ? sprintf("%.2fx %s", med[key] / med["u," ref], ref) : ""
      printf "| u: ns per pair | %s | %.1f | %.1f | %d | %s |\n", p, med[key], mn[key], n[key], r
    }
    split("t100 t95 t50", tc, " "); split("lox_rwlock pthread_rwlock std::shared_mutex pthread_mutex", tp, " ")
    for (c = 1; c <= 3; c++) for (i = 1; i <= 4; i++) {
      key = tc[c] "," tp[i]; if (!(key in med)) continue
      base = tc[c] ",pthread_rwlock"
      r = (base in med) ? sprintf("%.2fx pthread_rwlock", med[base] / med[key]) : ""
      printf "| %s: Mops/s | %s | %.2f | %.2f | %d | %s |\n", tc[c], tp[i], 1e3 / med[key], 1e3 / mn[key], n[key], r
    }
    printf "\nTargets (medians across runs)\n\n"
    if (("u,lox_lock" in med) && ("u,pthread_mutex" in med)) { x = med["u,lox_lock"] / med["u,pthread_mutex"]
      printf "lox_lock pair / pthread_mutex = %.3f  (target <= 1.2): %s\n", x, verdict(x <= 1.2) }
    if (("u,lox_rwlock read" in med) && ("u,pthread_rwlock read" in med)) { x = med["u,lox_rwlock read"] / med["u,pthread_rwlock read"]
      printf "lox_rwlock read pair / pthread_rwlock read = %.3f  (target <= 1.0): %s\n", x, verdict(x <= 1.0) }
    for (c = 1; c <= 2; c++) if ((tc[c] ",lox_rwlock" in med) && (tc[c] ",pthread_rwlock" in med)) {
      x = med[tc[c] ",pthread_rwlock"] / med[tc[c] ",lox_rwlock"]
      printf "lox_rwlock throughput / pthread_rwlock at %s%% reads = %.3f  (target >= 2): %s\n", substr(tc[c], 2), x, verdict(x >= 2) }
    if (("u,lox_qlock" in med) && ("u,pthread_mutex" in med)) { x = med["u,lox_qlock"] / med["u,pthread_mutex"]
      printf "lox_qlock pair / pthread_mutex = %.3f  (target <= 1.2): %s\n", x, verdict(x <= 1.2) }
    if (("u,lox_index_semaphore" in med) && ("u,sem_wait/sem_post" in med)) { x = med["u,lox_index_semaphore"] / med["u,sem_wait/sem_post"]
      printf "lox_index_semaphore pair / sem_wait+sem_post = %.3f  (target <= 1.5): %s\n", x, verdict(x <= 1.5) }
  }'
