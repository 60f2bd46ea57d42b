#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds lox_process_bench (Release) and runs it RUNS times (default 3), each
# run first waiting (up to WAIT_QUIET seconds, default 900) until other
# processes use < 0.15 CPU, then prints the median of the per-run medians,
# the ratios liblox / Python multiprocessing.Pool(2) (with each run's ratio)
# and the targets of issue #5. Extra arguments go to every lox_process_bench
# run. The Python side is bench/process_peer.py, run with /usr/bin/python3.
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

PROGRAM=lox_process_bench
BUILD_NAME=build-bench-process
LOG=process-run
. "$(dirname "$0")/common.sh"
bench_build
bench_runs "$@"

# csv,<case>,<shape>,<peer>,<median>,<min>,<ok|error>,<other load>,<reps redone>,<CPUs used>,<unit>
# Units: a ns/task, b ms/batch, c ns per byte moved (in + out; GB/s = 1 /
# this), d us. Median across runs of each run's median; min across runs of
# each run's min.
awk -F, -v runs="$RUNS" '
  function median(key,   c, i, j, t, a) {
    c = n[key]; for (i = 1; i <= c; i++) a[i] = v[key, i]
    for (i = 2; i <= c; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
  }
  # "x / y" for every run that has both keys, as a list.
  function per_run(kx, ky, inv,   i, s) {
    s = ""
    for (i = 1; i <= run; i++)
      if (((kx, i) in per) && ((ky, i) in per))
        s = s (s == "" ? "" : ", ") sprintf("%.2f", inv ? per[ky, i] / per[kx, i] : per[kx, i] / per[ky, i])
    return s
  }
  # Median over runs of per[kx, run] / per[ky, run].
  function median_ratio(kx, ky,   i, c, j, t, a) {
    c = 0
    for (i = 1; i <= run; i++) if (((kx, i) in per) && ((ky, i) in per)) a[++c] = per[kx, i] / per[ky, i]
    for (i = 2; i <= c; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
  }
  FNR == 1 { run++ }
  /^csv,/ && $7 == "error" { err[$2 "," $3 "," $4]++ }
  /^csv,/ && $7 == "ok" {
    key = $2 "," $3 "," $4; n[key]++; v[key, n[key]] = $5 + 0; per[key, run] = $5 + 0; unit[key] = $11
    if (!(key in mn) || $6 + 0 < mn[key]) mn[key] = $6 + 0
    if (!(key in seen)) { seen[key] = 1; keys[++nkeys] = key }
  }
  END {
    for (k = 1; k <= nkeys; k++) med[keys[k]] = median(keys[k])
    printf "\nMedian of %d run(s)\n\n", runs
    printf "| case | peer | median | best | unit | runs | note |\n|---|---|---:|---:|---|---:|---|\n"
    for (k = 1; k <= nkeys; k++) {
      key = keys[k]; split(key, f, ",")
      note = ""
      if (f[1] == "c") note = sprintf("%.3f GB/s (best %.3f)", 1 / med[key], 1 / mn[key])
      printf "| %s | %s | %.4g | %.4g | %s | %d | %s |\n", (f[2] == f[1] ? f[1] : f[1] " " f[2]), f[3], med[key], mn[key], unit[key], n[key], note
    }
    for (e in err) printf "ERROR rows: %s in %d run(s)\n", e, err[e]
    printf "\nRatios and targets (issue #5; medians across runs, per run in brackets)\n\n"
    la = "a,a,lox scatter all + gather"; pa = "a,a,python apply_async all + get"; pm = "a,a,python starmap (default chunksize)"
    if ((la in med) && (pa in med)) {
      x = med[pa] / med[la]
      printf "(a) apply_async ns/task / lox ns/task = %.1fx (per run %s; target >= 20): %s\n", x, per_run(pa, la, 0), (x >= 20 ? "met" : "NOT met")
      if (pm in med) printf "    starmap (default chunksize) ns/task / lox ns/task = %.2fx (per run %s)\n", med[pm] / med[la], per_run(pm, la, 0)
    }
    # Case b: each run calibrates its own tasks, so the speed-up is taken per
    # run (serial median / pool median of that run) and its median reported.
    bs = "b,b,serial C (calling thread)"; bl = "b,b,lox C (worker processes)"; ps = "b,b,python serial"; pp = "b,b,python Pool apply_async + get"
    if ((bs in med) && (bl in med)) {
      x = median_ratio(bs, bl)
      printf "(b) lox speed-up over serial = %.3fx (median of per-run speed-ups %s; target >= 1.9): %s\n", x, per_run(bs, bl, 0), (x >= 1.9 ? "met" : "NOT met")
      if ((ps in med) && (pp in med)) printf "    Python Pool(2) speed-up over Python serial = %.3fx (per run %s)\n", median_ratio(ps, pp), per_run(ps, pp, 0)
    }
    for (k = 1; k <= nkeys; k++) {
      key = keys[k]; split(key, f, ",")
      if (f[1] != "c" || f[3] != "lox echo") continue
      pk = "c," f[2] ",python apply_async echo + get"
      gbs = 1 / med[key]
      line = sprintf("(c) %s: lox %.3f GB/s (in + out)", f[2], gbs)
      if (pk in med) line = line sprintf(", Python %.3f GB/s, lox %.2fx Python (per run %s)", 1 / med[pk], med[pk] / med[key], per_run(pk, key, 0))
      if (f[2] ~ /^1MiB /) line = line sprintf("; target >= 1 GB/s: %s", (gbs >= 1 ? "met" : "NOT met"))
      print line
    }
    dl = "d,d,lox create -> first result"; dp = "d,d,python Pool(2) + first apply"
    if (dl in med) printf "(d) start to first result: lox %.0f us, Python %s us (Python / lox = %s; per run %s; no target)\n", med[dl], ((dp in med) ? sprintf("%.0f", med[dp]) : "-"), ((dp in med) ? sprintf("%.1fx", med[dp] / med[dl]) : "-"), per_run(dp, dl, 0)
  }' "$OUT"/process-run[0-9]*.txt
