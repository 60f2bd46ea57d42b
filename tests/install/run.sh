#!/usr/bin/env bash
# Install/consumer test. Installs a built liblox into a temporary prefix
# (cmake --install BUILD_DIR --prefix TMP) and builds two separate consumer
# projects against that installed copy alone:
#   (a) consumer.c compiled with `cc ... $(pkg-config --cflags --libs lox)`
#   (b) cmake/: find_package(lox 0.1 CONFIG REQUIRED) + lox::lox, in C++ when
#       lox/lox.hpp is installed, else in C
# Both run lox's first example and must print [0, 2, 6, 12, 20]. Also checks
# that find_package(lox 1.0) is refused (0.x and 1.x are not compatible).
#
#   tests/install/run.sh BUILD_DIR      (a configured and built tree)
#
# Prints one "PASS: ..." or "FAIL: ..." line per check; exits 1 if any failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] && [ -f "$1/CMakeCache.txt" ] ||
  { echo "usage: $0 BUILD_DIR (a configured and built liblox tree)" >&2; exit 2; }
build=$(cd "$1" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lox-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
expected='[0, 2, 6, 12, 20]'
failed=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failed=1; }
show() { sed 's/^/    | /' "$1"; }
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)

# --- install ----------------------------------------------------------------
if ! cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
  show "$tmp/install.log"
  fail "install: cmake --install $build --prefix <tmp> failed"
  exit 1
fi
header=$prefix/include/lox/lox.h
pc=$(find "$prefix" -path '*/pkgconfig/lox.pc' | head -n 1)
libdir=$(dirname "$(dirname "${pc:-/nonexistent/pkgconfig/lox.pc}")")
version() { sed -n "s/^#define LOX_VERSION_$1 \([0-9]*\).*/\1/p" "$header"; }
major=$(version MAJOR 2>/dev/null)
want_version=$major.$(version MINOR 2>/dev/null).$(version PATCH 2>/dev/null)
missing=()
for f in "$header" "$pc" "$libdir/liblox.so" "$libdir/liblox.so.$major" \
         "$libdir/cmake/lox/lox-config.cmake" "$libdir/cmake/lox/lox-config-version.cmake"; do
  [ -e "$f" ] || missing+=("${f#"$prefix"/}")
done
if [ ${#missing[@]} -eq 0 ] && [ -n "$pc" ]; then
  pass "install: lox.h, liblox.so.$major, lox.pc and the CMake package under <prefix>/${libdir#"$prefix"/}"
else
  fail "install: missing from the installed tree: ${missing[*]:-lox.pc}"
  exit 1
fi

# Runs a consumer binary against the installed library; checks where liblox
# was loaded from, the exit status and the output.
run_consumer() {
  local what=$1 exe=$2 out rc
  local loaded
  loaded=$(LD_LIBRARY_PATH=$libdir ldd "$exe" | awk '/liblox\.so/ { print $3 }')
  if [ "$loaded" != "$libdir/liblox.so.$major" ]; then
    fail "$what: loads liblox from '${loaded:-nowhere}', not from the install prefix"
    return
  fi
  out=$(LD_LIBRARY_PATH=$libdir "$exe" 2>"$tmp/stderr")
  rc=$?
  if [ "$rc" -eq 0 ] && [ "$out" = "$expected" ]; then
    pass "$what: printed $out"
  else
    show "$tmp/stderr"
    fail "$what: exit status $rc, printed '$out' (expected '$expected')"
  fi
}

# --- (a) pkg-config + a C compiler --------------------------------------------
export PKG_CONFIG_PATH=$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
pc_version=$(pkg-config --modversion lox 2>&1)
pc_prefix=$(pkg-config --variable=prefix lox 2>&1)
flags=$(pkg-config --cflags --libs lox 2>&1)
flags_rc=$?
if [ "$flags_rc" -ne 0 ]; then
  fail "pkg-config: pkg-config --cflags --libs lox failed: $flags"
elif [ "$pc_version" != "$want_version" ]; then
  fail "pkg-config: lox.pc says version '$pc_version', lox.h says $want_version"
elif [ "$(cd "$pc_prefix" 2>/dev/null && pwd -P)" != "$(cd "$prefix" && pwd -P)" ]; then
  fail "pkg-config: lox.pc has prefix=$pc_prefix, not the prefix it was installed to" \
       "(cmake --install --prefix does not relocate it)"
else
  pass "pkg-config: lox $pc_version, prefix is the install prefix, flags: ${flags//$prefix/<prefix>}"
fi
if [ "$flags_rc" -ne 0 ]; then
  fail "pkg-config consumer (C): not built, pkg-config gave no flags"
# shellcheck disable=SC2086 # the flags are meant to be split
elif ${CC:-cc} -std=c99 -pedantic -Wall -Wextra -Werror "$here/consumer.c" -o "$tmp/consumer-c" \
       $flags >"$tmp/cc.log" 2>&1; then
  run_consumer "pkg-config consumer (C)" "$tmp/consumer-c"
else
  show "$tmp/cc.log"
  fail "pkg-config consumer (C): does not compile with \$(pkg-config --cflags --libs lox) = $flags"
fi

# --- (b) CMake: find_package(lox 0.1 CONFIG REQUIRED) -------------------------
cm=$tmp/cmake-consumer
if cmake -S "$here/cmake" -B "$cm" "${generator[@]}" -DCMAKE_PREFIX_PATH="$prefix" \
     >"$tmp/cmake.log" 2>&1 && cmake --build "$cm" >>"$tmp/cmake.log" 2>&1; then
  lang=$(sed -n 's/^-- consumer language: \([^ ]*\).*/\1/p' "$tmp/cmake.log")
  found=$(sed -n 's/^-- lox .* found in \(.*\)$/\1/p' "$tmp/cmake.log")
  if [ "${found#"$prefix"/}" = "$found" ]; then
    fail "CMake consumer: find_package found lox in '$found', outside the install prefix"
  else
    run_consumer "CMake consumer ($lang, find_package(lox 0.1) + lox::lox)" "$cm/consumer"
  fi
else
  show "$tmp/cmake.log"
  fail "CMake consumer: configuring or building against find_package(lox 0.1) failed"
fi

# --- find_package(lox 1.0) must be refused -------------------------------------
if cmake -S "$here/cmake" -B "$tmp/cmake-1.0" "${generator[@]}" -DCMAKE_PREFIX_PATH="$prefix" \
     -DLOX_WANT=1.0 >"$tmp/cmake-1.0.log" 2>&1; then
  fail "CMake version check: find_package(lox 1.0) accepted lox $want_version"
elif tr -s ' \n' ' ' <"$tmp/cmake-1.0.log" | grep -q 'compatible with requested version "1.0"'; then
  pass "CMake version check: find_package(lox 1.0) refuses lox $want_version"
else
  show "$tmp/cmake-1.0.log"
  fail "CMake version check: find_package(lox 1.0) failed for another reason"
fi

exit "$failed"
