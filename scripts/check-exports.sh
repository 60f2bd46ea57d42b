#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks the ABI surface of an installed liblox:
#   - `nm -D --defined-only` lists only lox_* symbols, each bound to a LOX_*
#     version node (and the node itself, e.g. LOX_0, as an 'A' symbol);
#   - every function the installed headers declare with LOX_API is exported,
#     and nothing is exported that they do not declare;
#   - the SONAME is liblox.so.<major>, <major> being LOX_VERSION_MAJOR of the
#     installed lox.h, and that name exists as a link to the library.
#
#   scripts/check-exports.sh PREFIX       an installed tree
#   scripts/check-exports.sh BUILD_DIR    a built tree: installed into a
#                                         temporary prefix first
#
# Prints one "PASS: ..." or "FAIL: ..." line per check; exits 1 if any failed.
set -uo pipefail

[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: $0 PREFIX|BUILD_DIR" >&2; exit 2; }
prefix=$1
failed=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failed=1; }

if [ -f "$prefix/CMakeCache.txt" ]; then
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/lox-exports.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  cmake --install "$prefix" --prefix "$tmp" >"$tmp.log" 2>&1 ||
    { cat "$tmp.log"; rm -f "$tmp.log"; fail "exports: cmake --install $prefix failed"; exit 1; }
  rm -f "$tmp.log"
  prefix=$tmp
fi

header=$prefix/include/lox/lox.h
lib=$(find "$prefix" -name 'liblox.so.*' -type f | head -n 1)
if [ ! -f "$header" ] || [ -z "$lib" ]; then
  fail "exports: no include/lox/lox.h or liblox.so.* file under $prefix"
  exit 1
fi
libname=$(basename "$lib")
major=$(sed -n 's/^#define LOX_VERSION_MAJOR \([0-9]*\).*/\1/p' "$header")

# --- only lox_* symbols, each with a LOX_* version ----------------------------
# nm -D prints "ADDRESS TYPE NAME@@VERSION" ("NAME@VERSION" for a non-default one).
bad=$(nm -D --defined-only "$lib" | awk '
  { type = $2; name = $3; sym = name; ver = ""
    if (index(name, "@")) { sym = substr(name, 1, index(name, "@") - 1); ver = name; sub(/^[^@]*@@?/, "", ver) }
    if (type == "A" && sym ~ /^LOX_[0-9.]+$/) next
    if (sym ~ /^lox_/ && ver ~ /^LOX_[0-9.]+$/) next
    print "  " type " " name }')
nsyms=$(nm -D --defined-only "$lib" | awk '$3 ~ /^lox_/' | wc -l)
if [ -z "$bad" ] && [ "$nsyms" -gt 0 ]; then
  pass "exports: $libname exports only lox_* symbols ($nsyms), all versioned LOX_*"
else
  fail "exports: $libname exports symbols that are not versioned lox_* ones:${bad:+$'\n'}$bad"
fi

# --- exported == declared in the installed headers ------------------------------
declared=$(find "$prefix/include/lox" -type f \( -name '*.h' -o -name '*.hpp' \) -exec cat {} + |
           sed -nE 's/.*LOX_API[^(]*[^A-Za-z0-9_](lox_[A-Za-z0-9_]+)[[:space:]]*\(.*/\1/p' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '{ sub(/@.*/, "", $3) } $3 ~ /^lox_/ { print $3 }' | sort -u)
not_exported=$(comm -23 <(echo "$declared") <(echo "$exported") | tr '\n' ' ')
not_declared=$(comm -13 <(echo "$declared") <(echo "$exported") | tr '\n' ' ')
if [ -z "$declared" ]; then
  fail "exports: found no LOX_API function in the installed headers"
elif [ -z "$not_exported$not_declared" ]; then
  pass "exports: the $(echo "$declared" | wc -l) LOX_API functions of the headers are exactly the exported ones"
else
  fail "exports: declared but not exported: ${not_exported:-none}; exported but not declared: ${not_declared:-none}"
fi

# --- SONAME ---------------------------------------------------------------------------
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
link=$(dirname "$lib")/liblox.so.$major
if [ -z "$major" ]; then
  fail "soname: no LOX_VERSION_MAJOR in $header"
elif [ "$soname" != "liblox.so.$major" ]; then
  fail "soname: $libname has SONAME '${soname:-none}', expected liblox.so.$major"
elif [ "$(readlink -f "$link")" != "$(readlink -f "$lib")" ]; then
  fail "soname: liblox.so.$major is not installed as a link to $libname"
else
  pass "soname: $libname has SONAME liblox.so.$major (LOX_VERSION_MAJOR $major)"
fi

exit "$failed"
