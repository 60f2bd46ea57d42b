#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the Go binding's checks against an installed liblox:
#   bindings/go/run-tests.sh PREFIX
# PREFIX is a liblox install prefix (lox.pc is looked for under it, in lib/
# or lib/<triplet>/). Runs `go vet`, `go test -v` and, when the toolchain
# supports it, `go test -race` (set LOX_GO_RACE=0 to skip), and prints one
# line per test: "PASS: go: <TestName>" / "FAIL: go: <TestName>" (race run:
# "<TestName>-race"). Exits 1 if anything failed. Installs nothing, needs
# no network (GOPROXY=off; the module has no dependencies).
set -u -o pipefail

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
    echo "usage: $0 PREFIX   (a liblox install prefix)" >&2
    exit 2
fi
PREFIX=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)

PC=$(find "$PREFIX" -name lox.pc -path '*/pkgconfig/*' 2>/dev/null | sort | head -n 1)
if [ -z "$PC" ]; then
    echo "FAIL: go: setup (no lox.pc under $PREFIX)"
    exit 1
fi
PCDIR=$(dirname "$PC")
LIBDIR=$(dirname "$PCDIR")

command -v go >/dev/null 2>&1 || { echo "FAIL: go: setup (no go toolchain in PATH)"; exit 1; }

export PKG_CONFIG_PATH="$PCDIR${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# Extra search paths, in case the .pc file's own prefix is off, and the rpath
# through which the test binaries find liblox (no LD_LIBRARY_PATH needed).
export CGO_CFLAGS="${CGO_CFLAGS:-} -I$PREFIX/include"
export CGO_LDFLAGS="${CGO_LDFLAGS:-} -L$LIBDIR -Wl,-rpath,$LIBDIR"
export CGO_ENABLED=1
export GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off GO111MODULE=on GOFLAGS=
unset LOX_DEBUG   # it would force inline pools for every test

# A usable build cache: the user's if HOME is writable, else a temp dir.
TMP=""
cleanup() { [ -n "$TMP" ] && rm -rf "$TMP"; }
trap cleanup EXIT
if [ -z "${HOME:-}" ] || [ ! -d "$HOME" ] || [ ! -w "$HOME" ] || ! go env GOCACHE >/dev/null 2>&1; then
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/lox-go.XXXXXX")
    export HOME="$TMP" GOCACHE="$TMP/cache" GOPATH="$TMP/gopath" GOMODCACHE="$TMP/gopath/pkg/mod"
fi

cd "$HERE" || exit 1
failed=0

# report LOG SUFFIX: one line per test from `go test -v` output.
report() {
    local log=$1 suffix=$2 n=0
    while read -r verdict name; do
        n=$((n + 1))
        case $verdict in
            PASS) echo "PASS: go: $name$suffix" ;;
            SKIP) echo "SKIP: go: $name$suffix" ;;
            *) echo "FAIL: go: $name$suffix"; failed=1 ;;
        esac
    done < <(sed -n -E 's/^ *--- (PASS|FAIL|SKIP): ([^ ]+).*/\1 \2/p' "$log")
    return 0
}

LOG=$(mktemp "${TMPDIR:-/tmp}/lox-go-log.XXXXXX")
trap 'cleanup; rm -f "$LOG"' EXIT

if go vet ./... >"$LOG" 2>&1; then
    echo "PASS: go: vet"
else
    cat "$LOG"
    echo "FAIL: go: vet"
    failed=1
fi

go test -v -count=1 -timeout 10m ./... 2>&1 | tee "$LOG"
rc=$?
echo "---- summary ----"
report "$LOG" ""
if [ $rc -ne 0 ] && ! grep -q -E '^ *--- FAIL:' "$LOG"; then
    echo "FAIL: go: go-test (exit $rc, see the output above)"
    failed=1
fi

if [ "${LOX_GO_RACE:-1}" != 0 ] && go test -race -run XXX_none ./... >/dev/null 2>&1; then
    go test -race -v -count=1 -timeout 10m ./... >"$LOG" 2>&1
    rc=$?
    grep -E '^(FAIL|ok|WARNING: DATA RACE|panic)' "$LOG"
    report "$LOG" "-race"
    if [ $rc -ne 0 ]; then
        cat "$LOG"
        grep -q -E '^ *--- FAIL:' "$LOG" || echo "FAIL: go: go-test-race (exit $rc)"
        failed=1
    fi
else
    echo "SKIP: go: race (disabled, or -race unsupported by this toolchain)"
fi

exit $failed
