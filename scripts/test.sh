#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The test command (what CI runs, through .ci/run): installs what is missing,
# then builds and runs every test of liblox.
#
#   scripts/test.sh [STAGE...]        default: every stage, in this order
#
#   normal    RelWithDebInfo build, the whole CTest suite
#   asan      the whole CTest suite built with -DLOX_SANITIZE=address,undefined
#   tsan      the whole CTest suite built with -DLOX_SANITIZE=thread
#   fuzz      tests/scenarios/fuzz: clang build with -DLOX_FUZZ=ON in build-ci/fuzz, then
#             each libFuzzer harness runs LOX_FUZZ_SECONDS (default 60) on a
#             scratch copy of its corpus; one PASS/FAIL per harness
#   install   tests/scenarios/install/run.sh: install the normal build into a temporary
#             prefix, build and run consumer projects against it (pkg-config, CMake)
#   exports   scripts/check-exports.sh: the installed library exports only lox_*
#             symbols and has the SONAME liblox.so.<major>
#   abi       scripts/check-abi.sh: the ABI is compatible with the committed
#             baseline abi/liblox.so.<major>.abi (libabigail)
#   python    bindings/python/run-tests.sh: pytest suite of the `lox` package
#   rust      bindings/rust/run-tests.sh: cargo test --offline of the crate
#   go        bindings/go/run-tests.sh: go vet and go test of the cgo binding
#             (the bindings run against the normal build installed into
#             build-ci/prefix)
#
# Build trees go to build-ci/<stage> and are reused by the next run. Every
# stage runs even when an earlier one failed; the script then exits 1. The
# counts come from CTest's JUnit report and from the PASS:/FAIL: lines of the
# extra checks; the last line printed is "N passed, M failed".
#
# Environment: LOX_JOBS (default 2) build and CTest parallelism,
# LOX_TEST_TIMEOUT (default 300) seconds allowed to each test,
# LOX_FUZZ_SECONDS (default 60) seconds of fuzzing per harness.
set -uo pipefail

cd "$(dirname "$0")/.."
root=$PWD
jobs=${LOX_JOBS:-2}
timeout=${LOX_TEST_TIMEOUT:-300}
all_stages=(normal asan tsan fuzz install exports abi python rust go)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${all_stages[@]}")
for s in "${stages[@]}"; do
  case " ${all_stages[*]} " in
    *" $s "*) ;;
    *) echo "test.sh: unknown stage '$s' (stages: ${all_stages[*]})" >&2; exit 2 ;;
  esac
done

scripts/deps.sh --test || { echo "test.sh: installing the dependencies failed" >&2; exit 1; }

# Sanitizer settings: the whole run fails on the first report, and no
# suppression file hides anything of ours.
asan_env=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
          UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
tsan_env=(TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1)
# ThreadSanitizer cannot map its shadow memory when the kernel randomises
# mmap with more than 28 bits; it then needs ASLR off (setarch -R).
tsan_run=()
if [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)" -gt 28 ] &&
   setarch "$(uname -m)" -R true 2>/dev/null; then
  tsan_run=(setarch "$(uname -m)" -R)
fi

total_pass=0 total_fail=0 total_skip=0
summary=() failures=()
t_all=$SECONDS

if [ -t 1 ]; then
  banner() { printf '\n\033[1m==== %s\033[0m\n' "$*"; }
else
  banner() { printf '\n==== %s\n' "$*"; }
fi

# record STAGE DESCRIPTION PASSED FAILED SKIPPED SECONDS
record() {
  summary+=("$(printf '%-8s %-26s %5d passed %3d failed %3d skipped %6ds' "$@")")
  total_pass=$((total_pass + $3)) total_fail=$((total_fail + $4)) total_skip=$((total_skip + $5))
}

# build STAGE SANITIZE ENV...: configures and builds build-ci/STAGE (keeps going
# past a failing target so that the tests that did build still run). The
# build runs test programs too (GoogleTest discovery), so it gets the same
# environment and runner prefix (the caller's `run` array, if any) as CTest.
build() {
  local stage=$1 san=$2; shift 2
  local dir=$root/build-ci/$stage
  mkdir -p "$root/build-ci"
  env "$@" cmake -S "$root" -B "$dir" -G Ninja -Wno-dev \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOX_SANITIZE="$san" \
      -DBUILD_TESTING=ON -DLOX_BUILD_EXAMPLES=ON -DLOX_BUILD_BENCH=OFF >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; return 1; }
  env "$@" ${run[@]+"${run[@]}"} cmake --build "$dir" -j "$jobs" -- -k 0
}

# Counts a JUnit report of CTest: prints "F name" per failed test, then
# "C passed failed skipped". A test CTest could not run (missing executable)
# is a failure; one skipped on purpose (GTEST_SKIP, SKIP_RETURN_CODE) or
# disabled is a skip.
count_junit() {
  awk '
    function attr(k,   m) { if (match($0, k "=\"[^\"]*\"")) return substr($0, RSTART + length(k) + 2, RLENGTH - length(k) - 3); return "" }
    /<testcase / {
      name = attr("name"); st = attr("status"); pending = ""
      if (st == "run") pass++
      else if (st == "fail") { fail++; print "F " name }
      else if (st == "disabled") skip++
      else pending = name
      next
    }
    pending != "" && /<skipped / {
      if ($0 ~ /message="SKIP_/) skip++; else { fail++; print "F " pending }
      pending = ""
    }
    END { print "C", pass + 0, fail + 0, skip + 0 }' "$1"
}

# suite STAGE DESCRIPTION SANITIZE RUNNER... -- ENV...
suite() {
  local stage=$1 what=$2 san=$3; shift 3
  local run=() envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do run+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  envs=("$@")
  local dir=$root/build-ci/$stage junit=$root/build-ci/$stage.junit.xml t0=$SECONDS
  local pass=0 fail=0 skip=0 extra=0
  banner "$stage: build ($what)"
  if ! build "$stage" "$san" "${envs[@]}"; then
    failures+=("$stage: build failed (the tests that built still ran)")
    extra=1
  fi
  banner "$stage: ctest ($what)"
  rm -f "$junit"
  if [ -f "$dir/CTestTestfile.cmake" ]; then
    (cd "$dir" && env "${envs[@]}" ${run[@]+"${run[@]}"} ctest -j "$jobs" --output-on-failure \
        --timeout "$timeout" --no-tests=error --output-junit "$junit")
    local rc=$?
    if [ -f "$junit" ]; then
      local line
      while IFS= read -r line; do
        case "$line" in
          "F "*) failures+=("$stage: ${line#F }") ;;
          "C "*) read -r _ pass fail skip <<<"$line" ;;
        esac
      done < <(count_junit "$junit")
    fi
    if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
      failures+=("$stage: ctest exited with status $rc")
      extra=$((extra + 1))
    fi
  else
    failures+=("$stage: not configured, no test ran")
    extra=$((extra + 1))
  fi
  record "$stage" "($what)" "$pass" $((fail + extra)) "$skip" $((SECONDS - t0))
}

# check STAGE DESCRIPTION COMMAND...: runs a script that prints PASS:/FAIL: lines.
check() {
  local stage=$1 what=$2; shift 2
  local log=$root/build-ci/$stage.log t0=$SECONDS pass fail line
  mkdir -p "$root/build-ci"
  banner "$stage: $what"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  pass=$(grep -c '^PASS:' "$log")
  fail=$(grep -c '^FAIL:' "$log")
  while IFS= read -r line; do failures+=("$stage: ${line#FAIL: }"); done < <(grep '^FAIL:' "$log")
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
    failures+=("$stage: $1 exited with status $rc")
    fail=1
  fi
  record "$stage" "($what)" "$pass" "$fail" 0 $((SECONDS - t0))
}

# fuzz_stage: builds the libFuzzer harnesses with clang and runs each one for
# LOX_FUZZ_SECONDS on a scratch copy of its committed corpus (the corpus in
# the tree is never modified; new inputs and crash files stay in
# build-ci/fuzz-run/). Prints PASS:/FAIL: lines for `check`.
fuzz_stage() {
  local dir=$root/build-ci/fuzz run=$root/build-ci/fuzz-run secs=${LOX_FUZZ_SECONDS:-60} h rc execs
  CC=clang CXX=clang++ cmake -S "$root" -B "$dir" -G Ninja -Wno-dev -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DLOX_FUZZ=ON -DBUILD_TESTING=OFF -DLOX_BUILD_EXAMPLES=OFF -DLOX_BUILD_BENCH=OFF >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; echo "FAIL: fuzz: configure (clang, -DLOX_FUZZ=ON)"; return 1; }
  cmake --build "$dir" -j "$jobs" --target fuzz_capi fuzz_frames ||
    { echo "FAIL: fuzz: build"; return 1; }
  for h in capi frames; do
    rm -rf "$run/$h" && mkdir -p "$run/$h/corpus" && cp "$root/tests/scenarios/fuzz/corpus/$h/"* "$run/$h/corpus/"
    (cd "$run/$h" && "$dir/tests/scenarios/fuzz/fuzz_$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 corpus >"$run/$h.log" 2>&1)
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/$h.log")
    grep -E '^#[0-9]+[[:space:]]+DONE|SUMMARY|invariant broken' "$run/$h.log"
    if [ "$rc" -eq 0 ]; then
      echo "PASS: fuzz_$h: ${execs:-?} executions in ${secs} s"
    else
      echo "FAIL: fuzz_$h: exit $rc after ${execs:-?} executions (log and crash file in $run)"
    fi
  done
}

# The install, exports, abi and binding stages use the normal build tree;
# build it if the normal stage did not run.
normal_built=0
need_normal() {
  [ "$normal_built" = 1 ] && return 0
  banner "normal: build (for the install checks)"
  build normal "" && normal_built=1
}

# The bindings load liblox from an installed copy of the normal build, as a
# user's program would (pkg-config, the loader), not from the build tree.
prefix=$root/build-ci/prefix
prefix_ready=0
need_prefix() {
  need_normal || return 1
  [ "$prefix_ready" = 1 ] && return 0
  rm -rf "$prefix"
  cmake --install "$root/build-ci/normal" --prefix "$prefix" >"$prefix.log" 2>&1 ||
    { cat "$prefix.log"; return 1; }
  prefix_ready=1
}

# binding LANG: runs bindings/LANG/run-tests.sh against the installed prefix.
binding() {
  local lang=$1
  if need_prefix; then
    check "$lang" "$lang binding" "bindings/$lang/run-tests.sh" "$prefix"
  else
    failures+=("$lang: liblox could not be built and installed for the binding")
    record "$lang" "($lang binding)" 0 1 0 0
  fi
}

for stage in "${stages[@]}"; do
  case "$stage" in
    normal)  suite normal "RelWithDebInfo" "" --; normal_built=1 ;;
    asan)    suite asan "address,undefined" "address,undefined" -- "${asan_env[@]}" ;;
    tsan)    suite tsan "thread" "thread" ${tsan_run[@]+"${tsan_run[@]}"} -- "${tsan_env[@]}" ;;
    fuzz)    check fuzz "libFuzzer, ${LOX_FUZZ_SECONDS:-60} s each" fuzz_stage ;;
    install) need_normal; check install "consumer projects" tests/scenarios/install/run.sh "$root/build-ci/normal" ;;
    exports) need_normal; check exports "symbols and SONAME" scripts/check-exports.sh "$root/build-ci/normal" ;;
    abi)     need_normal; check abi "ABI vs baseline" scripts/check-abi.sh "$root/build-ci/normal" ;;
    python|rust|go) binding "$stage" ;;
  esac
done

elapsed=$((SECONDS - t_all))
banner "liblox test summary"
printf '%s\n' "${summary[@]}"
printf 'wall time: %dm%02ds\n' $((elapsed / 60)) $((elapsed % 60))
if [ ${#failures[@]} -gt 0 ]; then
  echo "failed:"
  printf '  %s\n' "${failures[@]}"
fi
[ "$total_skip" -gt 0 ] && echo "skipped on purpose: $total_skip"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
