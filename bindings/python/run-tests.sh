#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs the Python binding's tests against a liblox install prefix.
#   bindings/python/run-tests.sh PREFIX
# PREFIX holds lib/liblox.so.0 (or lib/<triplet>/, lib64/) and lox.pc.
# Prints "PASS: python: <test id>" / "FAIL: python: <test id>" /
# "SKIP: python: <test id>" per test; exits 1 if any test or pytest failed.
# Installs nothing and writes nothing into the source tree.
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 LIBLOX_PREFIX" >&2
    exit 2
fi
prefix=$1
here=$(cd "$(dirname "$0")" && pwd)

lib=""
for d in "$prefix/lib" "$prefix"/lib/*-linux-gnu* "$prefix/lib64" "$prefix"/lib*; do
    if [ -e "$d/liblox.so.0" ]; then lib="$d/liblox.so.0"; break; fi
done
if [ -z "$lib" ]; then
    lib=$(find "$prefix" -name liblox.so.0 2>/dev/null | head -n 1)
fi
if [ -z "$lib" ]; then
    echo "FAIL: python: no liblox.so.0 under $prefix" >&2
    exit 1
fi
pc=$(find "$prefix" -name lox.pc 2>/dev/null | head -n 1)
echo "python: liblox = $lib${pc:+ (pkg-config: $pc)}"

LOX_LIBRARY=$(cd "$(dirname "$lib")" && pwd)/liblox.so.0
export LOX_LIBRARY
export PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
unset LOX_DEBUG

log=$(mktemp "${TMPDIR:-/tmp}/lox-python-tests.XXXXXX")
trap 'rm -f "$log"' EXIT INT TERM

cd "$here" || exit 1
# A test that hangs dumps every thread's stack after 300 s (faulthandler); the
# whole run is stopped after 900 s so that CI never waits forever (for
# example on a non-daemon thread left blocked by a failed test).
timeout -k 30 900 /usr/bin/python3 -m pytest -v -rA -p no:cacheprovider \
    -o faulthandler_timeout=300 tests >"$log" 2>&1
rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "FAIL: python: pytest did not finish within 900 s (killed)" >>"$log"
fi
cat "$log"

# -rA short summary lines: "PASSED tests/x.py::t", "FAILED tests/x.py::t - msg",
# "ERROR tests/x.py::t - msg", "SKIPPED [1] tests/x.py:12: reason".
echo
fails=0
while IFS= read -r line; do
    case $line in
        "PASSED "*) id=${line#PASSED }; echo "PASS: python: $id" ;;
        "XPASS "*) id=${line#XPASS }; echo "PASS: python: ${id%% - *}" ;;
        "FAILED "*) id=${line#FAILED }; echo "FAIL: python: ${id%% - *}"; fails=$((fails + 1)) ;;
        "ERROR "*) id=${line#ERROR }; echo "FAIL: python: ${id%% - *}"; fails=$((fails + 1)) ;;
        "SKIPPED "*) id=${line#SKIPPED }; echo "SKIP: python: $id" ;;
        "XFAIL "*) id=${line#XFAIL }; echo "SKIP: python: ${id%% - *}" ;;
    esac
done <<EOT
$(sed -n '/short test summary info/,$p' "$log")
EOT

if [ "$rc" -ne 0 ] || [ "$fails" -ne 0 ]; then
    echo "python: FAILED (pytest exit $rc, $fails failing)"
    exit 1
fi
echo "python: all tests passed"
exit 0
