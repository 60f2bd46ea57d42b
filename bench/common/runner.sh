# SPDX-License-Identifier: Apache-2.0
# What every bench/run*.sh script does (sourced, POSIX sh): builds a bench
# program against liblox (the working tree, or REV as committed), runs it
# RUNS times (default 3), each run first waiting (up to WAIT_QUIET seconds,
# default 900) until other processes use < 0.15 CPU, then prints the medians
# across the runs with bench/median.py. The caller sets PROGRAM (the CMake
# target), BUILD_NAME (build directory under the repository root), LOG (log
# file prefix) and SUITE (median.py's report), then calls bench_main "$@":
# the arguments go to every run of the program.
#
# Environment: RUNS, WAIT_QUIET, SKIP_BUILD=1 (reuse the existing build),
# REV (measure liblox as committed at REV: a git archive of REV, with the
# working tree's bench/), BUILD (the build directory), OUT (the logs:
# $OUT/$LOG<i>.txt with the tables and csv lines of run i, and .err with its
# progress; default $BUILD/bench-runs).

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REV=${REV:-}
if [ -n "$REV" ]; then
  BUILD=${BUILD:-$ROOT/$BUILD_NAME-rev}
else
  BUILD=${BUILD:-$ROOT/$BUILD_NAME}
fi
RUNS=${RUNS:-3}
OUT=${OUT:-$BUILD/bench-runs}
WAIT_QUIET=${WAIT_QUIET:-900}

bench_build() {
  SRC=$ROOT
  if [ -n "$REV" ]; then
    # The library as committed at REV (the working tree may hold someone's
    # unfinished changes), built with the bench as it is here.
    SRC=$BUILD-src
    if [ "${SKIP_BUILD:-0}" != 1 ]; then
      rm -rf "$SRC" && mkdir -p "$SRC"
      git -C "$ROOT" archive "$REV" | tar -x -C "$SRC"
      rm -rf "$SRC/bench" && cp -r "$ROOT/bench" "$SRC/bench"
    fi
  fi
  if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOX_BUILD_BENCH=ON \
      -DBUILD_TESTING=OFF -DLOX_BUILD_EXAMPLES=OFF >/dev/null
    cmake --build "$BUILD" --target "$PROGRAM"
  fi
}

bench_runs() {
  mkdir -p "$OUT"
  rm -f "$OUT/$LOG"*.txt "$OUT/$LOG"*.err
  # Which liblox was measured.
  {
    if [ -n "$REV" ]; then
      echo "liblox source: git archive of $REV = $(git -C "$ROOT" rev-parse --short "$REV"); last library commit in it: $(git -C "$ROOT" log -1 --format='%h %cd %s' --date=iso "$REV" -- src capi include 2>/dev/null)"
    else
      echo "liblox source: working tree; last commit touching the library: $(git -C "$ROOT" log -1 --format='%h %cd %s' --date=iso -- src capi include 2>/dev/null)"
      dirty=$(git -C "$ROOT" status --short -- src capi include 2>/dev/null | tr '\n' ' ')
      [ -n "$dirty" ] && echo "uncommitted changes measured too: $dirty"
    fi
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  } | tee "$OUT/${LOG}source.txt" >&2
  i=1
  while [ "$i" -le "$RUNS" ]; do
    echo "run $i of $RUNS -> $OUT/$LOG$i.txt" >&2
    "$BUILD/bench/$PROGRAM" --csv --wait-quiet "$WAIT_QUIET" "$@" >"$OUT/$LOG$i.txt" 2>"$OUT/$LOG$i.err" || {
      echo "run $i failed (exit $?); see $OUT/$LOG$i.err" >&2
      tail -5 "$OUT/$LOG$i.err" >&2
      exit 1
    }
    grep -E '^# (machine|WARNING|total)' "$OUT/$LOG$i.txt" >&2 || true
    i=$((i + 1))
  done
}

bench_main() {
  bench_build
  bench_runs "$@"
  python3 "$ROOT/bench/median.py" "$SUITE" "$RUNS" "$OUT/$LOG"[0-9]*.txt
}
