#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ABI guard: compares the ABI of a built liblox with the committed baseline
# abi/liblox.so.<major>.abi (libabigail's abidw/abidiff, Debian package
# abigail-tools).
#
#   scripts/check-abi.sh BUILD_DIR            check (what CI runs)
#   scripts/check-abi.sh BUILD_DIR --update   rewrite the baseline from BUILD_DIR
#
# What fails: any exported lox_* function removed, any change to a function's
# parameters or return type, any change to a public type (the options
# structs, the callback typedefs). What passes: new functions (they are
# listed), and changes to anything private (the handles are opaque; what is
# behind them is not ABI). The check also proves once per run that it can
# fail: it removes one function from a copy of the baseline and changes the
# signature of another, and requires abidiff to reject both.
#
# Public structs: even appending a member to a lox_*_opts struct fails. That
# is on purpose: a program built against the old header passes a smaller
# struct, and lox_*_opts_init of the new library would write past its end.
#
# Updating the baseline is for a deliberate, incompatible change only, and
# goes with a new major version: bump LOX_VERSION_MAJOR (the SONAME becomes
# liblox.so.<major+1>), build RelWithDebInfo, run --update, commit the new
# abi/liblox.so.<major+1>.abi and say why in the issue. Compatible
# additions need no update (they pass); refreshing the baseline after one
# only makes the additions part of what later changes are checked against.
#
# The baseline is made from a RelWithDebInfo build (it needs DWARF) with
# Debian 12's g++; other compilers may describe the same types differently.
#
# Prints one "PASS: ..." or "FAIL: ..." line per check; exits 1 if any failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
usage() { echo "usage: $0 BUILD_DIR [--update]" >&2; exit 2; }
[ $# -ge 1 ] && [ -d "$1" ] || usage
build=$1
update=0
case "${2:-}" in
  "") ;;
  --update) update=1 ;;
  *) usage ;;
esac

failed=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failed=1; }

for tool in abidw abidiff; do
  command -v "$tool" >/dev/null 2>&1 ||
    { fail "abi: $tool not found (Debian package abigail-tools; scripts/deps.sh installs it)"; exit 1; }
done

header=$root/include/lox/lox.h
major=$(sed -n 's/^#define LOX_VERSION_MAJOR \([0-9]*\).*/\1/p' "$header")
lib=$(find "$build" -name "liblox.so.$major.*" -type f -not -path '*/CMakeFiles/*' | head -n 1)
[ -n "$lib" ] || { fail "abi: no liblox.so.$major.* under $build (build it first)"; exit 1; }
baseline=$root/abi/liblox.so.$major.abi
keep_public=$root/abi/public-only.suppr

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lox-abi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The ABI corpus of the library: only lox_* functions (the suppression file
# drops the rest), only types of the public headers in full (--hd with
# --drop-private-types keeps the handles opaque), and no paths or line
# numbers, so that the same library gives the same file in any checkout.
dump() {
  abidw --suppr "$keep_public" --hd "$root/include/lox" --drop-private-types \
        --no-show-locs --no-comp-dir-path --no-corpus-path --type-id-style hash \
        "$lib" --out-file "$1"
}

if [ "$update" = 1 ]; then
  mkdir -p "$(dirname "$baseline")"
  dump "$baseline" || { fail "abi: abidw failed on $lib"; exit 1; }
  pass "abi: wrote ${baseline#"$root"/} from $lib ($(grep -c '<elf-symbol ' "$baseline") functions)"
  exit 0
fi

[ -f "$baseline" ] ||
  { fail "abi: no baseline ${baseline#"$root"/} for major version $major (see --update in $0)"; exit 1; }
if ! dump "$tmp/current.abi"; then
  fail "abi: abidw failed on $lib"
  exit 1
fi

# abidiff's exit status is a bit mask: 1 error, 2 usage, 4 ABI change,
# 8 incompatible change. With added symbols filtered out, any bit fails.
functions=$(grep -c '<elf-symbol ' "$tmp/current.abi")
abidiff --no-added-syms "$baseline" "$tmp/current.abi" >"$tmp/diff.txt" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
  added=$(abidiff "$baseline" "$tmp/current.abi" 2>/dev/null |
          sed -n "s/^  \[A\] 'function [^(]* \(lox_[a-z0-9_]*\)(.*/\1/p" | paste -sd ' ')
  pass "abi: liblox.so.$major ($functions functions) is compatible with ${baseline#"$root"/}${added:+; added: $added}"
else
  sed 's/^/    | /' "$tmp/diff.txt"
  fail "abi: liblox.so.$major is incompatible with ${baseline#"$root"/} (abidiff status $rc, report above)"
fi

# Self-test: the same comparison must reject a baseline copy that lost a
# function, and one where a function's return type changed. The functions
# are the first ones in the baseline, whatever they are.
victim=$(sed -n "s/^ *<function-decl name='\(lox_[a-z0-9_]*\)'.*/\1/p" "$baseline" | head -n 1)
awk -v f="$victim" '
  index($0, "<elf-symbol name=\x27" f "\x27") { next }
  index($0, "<function-decl name=\x27" f "\x27") { skip = 1 }
  skip { if (index($0, "</function-decl>")) skip = 0; next }
  { print }' "$baseline" >"$tmp/removed.abi"
abidiff --no-added-syms "$baseline" "$tmp/removed.abi" >"$tmp/removed.txt" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q "\[D\] 'function .*$victim" "$tmp/removed.txt"; then
  pass "abi: self-test: removing $victim is reported as incompatible (abidiff status $rc)"
else
  sed 's/^/    | /' "$tmp/removed.txt"
  fail "abi: self-test: removing $victim from the baseline went unnoticed (abidiff status $rc)"
fi

# Signature change: the first function whose return type differs from its
# first parameter's type gets that parameter's type as its return type.
awk '
  /<function-decl name=\x27lox_/ && !done { inside = 1; name = $0; sub(/.*<function-decl name=\x27/, "", name); sub(/\x27.*/, "", name); param = "" }
  inside && /<parameter type-id=/ && param == "" { param = $0; sub(/.*type-id=\x27/, "", param); sub(/\x27.*/, "", param) }
  inside && /<return type-id=/ {
    ret = $0; sub(/.*type-id=\x27/, "", ret); sub(/\x27.*/, "", ret)
    if (param != "" && param != ret) { sub("type-id=\x27" ret "\x27", "type-id=\x27" param "\x27"); done = 1; print name > "/dev/stderr" }
  }
  /<\/function-decl>/ { inside = 0 }
  { print }' "$baseline" >"$tmp/changed.abi" 2>"$tmp/changed.name"
changed=$(cat "$tmp/changed.name")
abidiff --no-added-syms "$baseline" "$tmp/changed.abi" >"$tmp/changed.txt" 2>&1
rc=$?
if [ -n "$changed" ] && [ "$rc" -ne 0 ] && grep -q "\[C\] 'function .*$changed" "$tmp/changed.txt"; then
  pass "abi: self-test: changing the return type of $changed is reported (abidiff status $rc)"
else
  sed 's/^/    | /' "$tmp/changed.txt"
  fail "abi: self-test: a return type change of '${changed:-?}' went unnoticed (abidiff status $rc)"
fi

exit "$failed"
