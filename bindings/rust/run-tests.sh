#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds and tests the Rust binding against an installed liblox.
#
#   bindings/rust/run-tests.sh PREFIX
#
# PREFIX is a liblox install prefix (lox.pc is looked up under it: lib/,
# lib64/ or lib/<triplet>/). Prints one line per test:
#   PASS: rust: <test>   FAIL: rust: <test>   SKIP: rust: <test> (ignored)
# and exits 1 if any test failed or cargo itself failed. Installs nothing;
# builds in $LOX_BINDINGS_BUILD/rust-target, or in a temporary directory.
# Environment: CARGO (cargo to use), LOX_RUST_TEST_TIMEOUT (seconds, 1800).
set -u

if [ $# -ne 1 ]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
prefix=$1
if [ ! -d "$prefix" ]; then
    echo "run-tests.sh: $prefix is not a directory" >&2
    exit 1
fi
prefix=$(cd "$prefix" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

pc=$(find "$prefix" -name lox.pc -path '*/pkgconfig/*' 2>/dev/null | sort | head -n 1)
if [ -z "$pc" ]; then
    echo "run-tests.sh: no lox.pc under $prefix" >&2
    exit 1
fi
pcdir=$(dirname "$pc")
PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH

libdir=$(pkg-config --variable=libdir lox 2>/dev/null)
if [ -z "$libdir" ] || [ ! -d "$libdir" ]; then
    libdir=$(dirname "$pcdir")   # .../lib/pkgconfig -> .../lib
fi
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH

# The tests need real worker threads: liblox's debug mode would run every
# task inline in scatter.
unset LOX_DEBUG

cargo=${CARGO:-}
if [ -z "$cargo" ]; then
    if command -v cargo >/dev/null 2>&1; then
        cargo=$(command -v cargo)
    elif [ -x /root/.cargo/bin/cargo ]; then
        cargo=/root/.cargo/bin/cargo
    elif [ -x "${HOME:-/nonexistent}/.cargo/bin/cargo" ]; then
        cargo="$HOME/.cargo/bin/cargo"
    else
        echo "run-tests.sh: cargo not found (PATH, /root/.cargo/bin, \$HOME/.cargo/bin)" >&2
        exit 1
    fi
fi
# rustc next to the chosen cargo, if there is one (a rustup cargo outside
# PATH needs its own rustc).
cargodir=$(dirname "$cargo")
if [ -z "${RUSTC:-}" ] && [ -x "$cargodir/rustc" ]; then
    RUSTC="$cargodir/rustc"
    export RUSTC
fi
if [ -z "${RUSTDOC:-}" ] && [ -x "$cargodir/rustdoc" ]; then
    RUSTDOC="$cargodir/rustdoc"
    export RUSTDOC
fi

if [ -n "${LOX_BINDINGS_BUILD:-}" ]; then
    build="$LOX_BINDINGS_BUILD/rust-target"
    mkdir -p "$build" || exit 1
    cleanup=
else
    build=$(mktemp -d "${TMPDIR:-/tmp}/lox-rust.XXXXXX") || exit 1
    cleanup=$build
fi
CARGO_TARGET_DIR=$build
export CARGO_TARGET_DIR
out="$build/test-stdout.log"
err="$build/test-stderr.log"

echo "rust: $("$cargo" --version 2>/dev/null), ${RUSTC:-rustc}: $("${RUSTC:-rustc}" --version 2>/dev/null)" >&2
echo "rust: liblox $(pkg-config --modversion lox) from $pcdir, building in $build" >&2

run_timeout=
if command -v timeout >/dev/null 2>&1; then
    run_timeout="timeout ${LOX_RUST_TEST_TIMEOUT:-1800}"
fi

# stdout (the test lines) and stderr (cargo's progress, liblox's log
# messages, panic messages) go to separate files so they cannot interleave.
(cd "$here" && $run_timeout "$cargo" test --offline --no-fail-fast -j 2 >"$out" 2>"$err")
rc=$?

# libtest prints "test NAME ... ok|FAILED|ignored" on stdout (doc tests are
# named "src/FILE.rs - ITEM (line N)"). Test function names are unique
# across the crate's test files.
awk '
    /^test .* \.\.\. / {
        line = $0
        sub(/^test /, "", line)
        n = index(line, " ... ")
        name = substr(line, 1, n - 1)
        res = substr(line, n + 5)
        if (res == "ok") print "PASS: rust: " name
        else if (res ~ /^ignored/) print "SKIP: rust: " name
        else print "FAIL: rust: " name
    }
' "$out" > "$build/results.txt"
cat "$build/results.txt"

passed=$(grep -c '^PASS: ' "$build/results.txt")
failed=$(grep -c '^FAIL: ' "$build/results.txt")
status=0
if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
    status=1
    echo "rust: cargo test exited with $rc; last lines of its output:" >&2
    tail -n 40 "$out" >&2
    tail -n 40 "$err" >&2
fi
echo "rust: $passed passed, $failed failed (cargo exit $rc)" >&2

if [ -n "$cleanup" ]; then
    rm -rf "$cleanup"
fi
exit $status
