#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds lox_queue_bench (Release) and runs it RUNS times (default 3), each
# run first waiting (up to WAIT_QUIET seconds, default 900) until other
# processes use < 0.15 CPU, then prints the median of the per-run medians,
# lox_queue's items/s over the fastest peer's per shape (with each run's
# ratio) and the target of issue #4 (>= 2x). Extra arguments go to every
# lox_queue_bench run.
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

PROGRAM=lox_queue_bench
BUILD_NAME=build-bench-queue
LOG=queue-run
. "$(dirname "$0")/common.sh"
bench_build
bench_runs "$@"

# csv,<case>,<shape>,<peer>,<median ns>,<min ns>,<ok|error|na>,<other load>,<reps redone>,<CPUs used>
# (case q: ns per item moved; case a: ns per put.) Median across runs of each
# run's median; min across runs of each run's min.
awk -F, -v runs="$RUNS" '
  function median(key,   c, i, j, t, a) {
    c = n[key]; for (i = 1; i <= c; i++) a[i] = v[key, i]
    for (i = 2; i <= c; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
  }
  FNR == 1 { run++ }
  /^csv,/ && $7 == "na" { na[$2 "," $3 "," $4] = 1 }
  /^csv,/ && $7 == "ok" {
    key = $2 "," $3 "," $4; n[key]++; v[key, n[key]] = $5 + 0; per[key, run] = $5 + 0
    if (!(key in mn) || $6 + 0 < mn[key]) mn[key] = $6 + 0
    if (!(key in seen)) { seen[key] = 1; keys[++nkeys] = key }
    if ($2 == "q" && !($3 in sseen)) { sseen[$3] = 1; shapes[++nshapes] = $3 }
    if ($2 == "a" && !($3 in aseen)) { aseen[$3] = 1; subs[++nsubs] = $3 }
  }
  END {
    for (k = 1; k <= nkeys; k++) med[keys[k]] = median(keys[k])
    np = split("lox glib tbb std", peers, " ")
    printf "\nMedian of %d run(s)\n\n", runs
    printf "| shape | peer | median ns/item | best ns/item | Mitems/s | runs | lox items/s / this |\n"
    printf "|---|---|---:|---:|---:|---:|---|\n"
    for (s = 1; s <= nshapes; s++) {
      sh = shapes[s]; lk = "q," sh ",lox"
      for (p = 1; p <= np; p++) {
        key = "q," sh "," peers[p]
        if (key in na) { printf "| %s | %s | n/a | n/a | n/a | | |\n", sh, peers[p]; continue }
        if (!(key in med)) continue
        r = (lk in med) ? sprintf("%.2fx", med[key] / med[lk]) : ""
        printf "| %s | %s | %.1f | %.1f | %.2f | %d | %s |\n", sh, peers[p], med[key], mn[key], 1e3 / med[key], n[key], r
      }
    }
    printf "\nTargets (issue #4: lox_queue items/s >= 2x the fastest peer'"'"'s; medians across runs)\n\n"
    for (s = 1; s <= nshapes; s++) {
      sh = shapes[s]; lk = "q," sh ",lox"; best = ""
      for (p = 2; p <= np; p++) { key = "q," sh "," peers[p]; if ((key in med) && (best == "" || med[key] < med[best])) best = key }
      if (!(lk in med) || best == "") continue
      x = med[best] / med[lk]; split(best, b, ",")
      # Each run: lox against that run'"'"'s fastest peer.
      list = ""
      for (i = 1; i <= run; i++) {
        if (!((lk, i) in per)) continue
        bi = ""
        for (p = 2; p <= np; p++) { key = "q," sh "," peers[p]; if (((key, i) in per) && (bi == "" || per[key, i] < bi)) bi = per[key, i] }
        if (bi != "") list = list (list == "" ? "" : ", ") sprintf("%.2f", bi / per[lk, i])
      }
      printf "%s: lox_queue / fastest peer (%s) = %.3f  (per run %s; target >= 2): %s\n", sh, b[3], x, list, (x >= 2 ? "met" : "NOT met")
    }
    if (nsubs) {
      printf "\nlox_announcement_put (ns per put; median across runs)\n\n"
      printf "| subscribers | what | median ns/put | best | ns per receiver | runs |\n|---|---|---:|---:|---:|---:|\n"
      for (s = 1; s <= nsubs; s++) {
        ns = subs[s] + 0
        split("put/batch-drain put/drainer queue_put-x" ns, what, " ")
        for (w = 1; w <= 3; w++) {
          key = "a," subs[s] "," what[w]; if (!(key in med)) continue
          printf "| %d | %s | %.1f | %.1f | %.1f | %d |\n", ns, what[w], med[key], mn[key], med[key] / ns, n[key]
        }
      }
    }
  }' "$OUT"/queue-run[0-9]*.txt
