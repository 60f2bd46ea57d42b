#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install/consumer test. Installs a built liblox into a temporary prefix
# (cmake --install BUILD_DIR --prefix TMP) and builds separate consumer
# projects against that installed copy alone, with none of liblox's private
# dependencies (fmt, spdlog) visible to them:
#   (a) consumer.c compiled with the README's line
#       `cc ... $(pkg-config --cflags --libs lox) -Wl,-rpath,$(pkg-config --variable=libdir lox)`
#       where pkg-config sees only <prefix>/lib/pkgconfig (PKG_CONFIG_LIBDIR)
#   (b) cmake/: find_package(lox 0.1 CONFIG REQUIRED) + lox::lox, in C++ when
#       lox/lox.hpp is installed, else in C, with find_package of fmt, spdlog
#       and Threads disabled
#   (c) a Go program using bindings/go (`#cgo pkg-config: lox`) and (d) a
#       Rust program using bindings/rust (build.rs runs pkg-config), when go
#       and cargo are installed, with the same PKG_CONFIG_LIBDIR
# Every consumer runs lox's first example, without LD_LIBRARY_PATH (an rpath
# finds liblox in the prefix), and must print [0, 2, 6, 12, 20]. Also checks
# that lox.pc and the CMake package carry no private dependency, that
# find_package(lox 1.0) is refused (0.x and 1.x are not compatible), and the
# licence: LICENSE installed under share/doc/lox and declared by the
# Python, Rust and Go packages, and an SPDX identifier in every source file.
#
#   tests/scenarios/install/run.sh BUILD_DIR      (a configured and built tree)
#
# Prints one "PASS: ..." or "FAIL: ..." line per check ("SKIP: ..." when a
# toolchain is missing); exits 1 if any failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
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
skip() { echo "SKIP: $*"; }
show() { sed 's/^/    | /' "$1"; }
real() { readlink -f "$1" 2>/dev/null || echo "$1"; }
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

# --- licence ----------------------------------------------------------------
lic=$(find "$prefix" -path '*/doc/lox/LICENSE' | head -n 1)
apache=/usr/share/common-licenses/Apache-2.0
if [ ! -f "$src/LICENSE" ]; then
  fail "licence: no LICENSE at the root of the source tree"
elif ! grep -q 'Apache License' "$src/LICENSE" || ! grep -q 'Version 2.0, January 2004' "$src/LICENSE" ||
     { [ -f "$apache" ] && ! cmp -s "$apache" "$src/LICENSE"; }; then
  fail "licence: LICENSE is not the Apache License 2.0 text verbatim"
elif [ -z "$lic" ] || ! cmp -s "$lic" "$src/LICENSE"; then
  fail "licence: LICENSE not installed as <prefix>/share/doc/lox/LICENSE (found: '${lic:-nothing}')"
else
  pass "licence: LICENSE (Apache-2.0) installed as <prefix>/${lic#"$prefix"/}"
fi
bad=()
grep -q '^license = "Apache-2.0"$' "$src/bindings/rust/Cargo.toml" || bad+=("rust: Cargo.toml license")
grep -q '^__license__ = "Apache-2.0"$' "$src/bindings/python/lox/__init__.py" || bad+=("python: lox.__license__")
# pkg.go.dev and module zips need a regular file in the module root (a
# symlink is left out of the zip).
{ [ -f "$src/bindings/go/LICENSE" ] && [ ! -L "$src/bindings/go/LICENSE" ] &&
  cmp -s "$src/bindings/go/LICENSE" "$src/LICENSE"; } || bad+=("go: bindings/go/LICENSE, a copy of LICENSE")
if [ ${#bad[@]} -eq 0 ]; then
  pass "licence: the Python, Rust and Go packages declare Apache-2.0"
else
  fail "licence: missing or wrong: ${bad[*]}"
fi

# Every source file (code, scripts, build files) names its licence in its
# first lines; data (fuzz corpus, ABI baseline), Markdown and lock files are
# not source. The list is the tracked files when this is a git checkout,
# else every file under the tree.
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  sources=$(git -C "$src" ls-files)
else
  sources=$(cd "$src" && find . -type f ! -path './.git/*' ! -path './build*' | sed 's|^\./||')
fi
unlabelled=()
while IFS= read -r f; do
  case "$f" in
    tests/scenarios/fuzz/corpus/* | abi/* | *.md | *Cargo.lock | *LICENSE | *.gitignore) continue ;;
    *.c | *.h | *.cpp | *.hpp | *.rs | *.go | *.py | *.sh | *.cmake | *.in | *.toml | *CMakeLists.txt | \
      *go.mod | *.map | .ci/run) ;;
    *) continue ;;
  esac
  head -n 3 "$src/$f" | grep -q 'SPDX-License-Identifier: Apache-2.0' || unlabelled+=("$f")
done <<<"$sources"
if [ ${#unlabelled[@]} -eq 0 ]; then
  pass "licence: every source file carries SPDX-License-Identifier: Apache-2.0"
else
  fail "licence: no SPDX-License-Identifier in the first lines of ${#unlabelled[@]} source files: ${unlabelled[*]:0:10}"
fi

# Runs a consumer binary against the installed library, without
# LD_LIBRARY_PATH: it must find liblox through its own rpath/runpath. Checks
# the dynamic section, where liblox was loaded from, the exit status and the
# output.
run_consumer() {
  local what=$1 exe=$2 out rc loaded rpath dir found=""
  rpath=$(readelf -d "$exe" 2>/dev/null | sed -n 's/.*(\(RUNPATH\|RPATH\)).*\[\(.*\)\]$/\2/p')
  local IFS=:
  for dir in $rpath; do
    [ "$(real "$dir")" = "$(real "$libdir")" ] && found=$dir
  done
  unset IFS
  if [ -z "$found" ]; then
    fail "$what: no RUNPATH/RPATH to the install prefix's lib dir (readelf -d: '${rpath:-none}')"
    return
  fi
  loaded=$(env -u LD_LIBRARY_PATH ldd "$exe" | awk '/liblox\.so/ { print $3 }')
  if [ -z "$loaded" ] || [ "$(real "$loaded")" != "$(real "$libdir/liblox.so.$major")" ]; then
    fail "$what: without LD_LIBRARY_PATH loads liblox from '${loaded:-nowhere}', not from the install prefix"
    return
  fi
  out=$(env -u LD_LIBRARY_PATH "$exe" 2>"$tmp/stderr")
  rc=$?
  if [ "$rc" -eq 0 ] && [ "$out" = "$expected" ]; then
    pass "$what: printed $out, liblox found through the runpath ${found//$prefix/<prefix>} (no LD_LIBRARY_PATH)"
  else
    show "$tmp/stderr"
    fail "$what: exit status $rc, printed '$out' (expected '$expected')"
  fi
}

# --- (a) pkg-config + a C compiler --------------------------------------------
# pkg-config sees the prefix's lox.pc and nothing else: no fmt.pc, no
# spdlog.pc, as on a machine without their -dev packages.
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
export PKG_CONFIG_LIBDIR=$libdir/pkgconfig
pc_version=$(pkg-config --modversion lox 2>&1)
pc_prefix=$(pkg-config --variable=prefix lox 2>&1)
pc_libdir=$(pkg-config --variable=libdir lox 2>&1)
flags=$(pkg-config --cflags --libs lox 2>&1)
flags_rc=$?
cflags=$(pkg-config --cflags lox 2>&1)
if [ "$flags_rc" -ne 0 ]; then
  fail "pkg-config: PKG_CONFIG_LIBDIR=<prefix>/${libdir#"$prefix"/}/pkgconfig pkg-config --cflags --libs lox failed: $flags"
elif [ "$pc_version" != "$want_version" ]; then
  fail "pkg-config: lox.pc says version '$pc_version', lox.h says $want_version"
elif [ "$(cd "$pc_prefix" 2>/dev/null && pwd -P)" != "$(cd "$prefix" && pwd -P)" ]; then
  fail "pkg-config: lox.pc has prefix=$pc_prefix, not the prefix it was installed to" \
       "(cmake --install --prefix does not relocate it)"
elif [ "$(real "$pc_libdir")" != "$(real "$libdir")" ]; then
  fail "pkg-config: lox.pc has libdir=$pc_libdir, not where liblox.so was installed"
else
  pass "pkg-config: lox $pc_version with only the prefix's pkgconfig dir visible, prefix is the install prefix, flags: ${flags//$prefix/<prefix>}"
fi
# A shared liblox's private dependencies must not reach its public flags:
# Requires.private pulls their .pc files in (and fails without them) and
# adds their cflags (spdlog's -DSPDLOG_SHARED_LIB -DSPDLOG_COMPILED_LIB break
# an application using header-only spdlog).
# Checked on lox.pc itself and on the cflags pkg-config gives when the
# system's .pc files are visible too (where fmt.pc and spdlog.pc, if
# installed, would add their flags).
requires=$(grep -E '^Requires(\.private)?:' "$pc" | grep -v -E '^Requires(\.private)?:[[:space:]]*$' | tr '\n' ' ')
cflags_sys=$(env -u PKG_CONFIG_LIBDIR PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags lox 2>&1)
if [ -n "$requires" ]; then
  fail "pkg-config private dependencies: lox.pc has '$requires'"
elif printf '%s\n' "$cflags" "$cflags_sys" | grep -qi -E 'spdlog|fmt'; then
  fail "pkg-config private dependencies: cflags carry fmt/spdlog flags: ${cflags_sys//$prefix/<prefix>}"
else
  pass "pkg-config private dependencies: no Requires(.private), cflags are '${cflags//$prefix/<prefix>}' (no SPDLOG/fmt flags)"
fi
# The README shows the line the consumer is built with.
# shellcheck disable=SC2016 # literal text, not expanded
rpath_flag='-Wl,-rpath,$(pkg-config --variable=libdir lox)'
# shellcheck disable=SC2016 # literal text, not expanded
if grep -qF -- '$(pkg-config --cflags --libs lox) '"$rpath_flag" "$src/README.md"; then
  pass "README: shows the rpath way, cc ... \$(pkg-config --cflags --libs lox) $rpath_flag"
else
  fail "README: no consumer line with $rpath_flag (./a.out fails with 'liblox.so.$major: cannot open shared object file' outside the system dirs)"
fi
# shellcheck disable=SC2086 # the flags are meant to be split
if [ "$flags_rc" -ne 0 ]; then
  fail "pkg-config consumer (C): not built, pkg-config gave no flags"
elif ${CC:-cc} -std=c99 -pedantic -Wall -Wextra -Werror "$here/consumer.c" -o "$tmp/consumer-c" \
       $flags "-Wl,-rpath,$pc_libdir" >"$tmp/cc.log" 2>&1; then
  run_consumer "pkg-config consumer (C)" "$tmp/consumer-c"
else
  show "$tmp/cc.log"
  fail "pkg-config consumer (C): does not compile with \$(pkg-config --cflags --libs lox) = $flags"
fi

# --- (b) CMake: find_package(lox 0.1 CONFIG REQUIRED) -------------------------
# The exported lox::lox must not name fmt, spdlog or Threads (no INTERFACE_*
# link items or definitions, no IMPORTED_LINK_DEPENDENT_LIBRARIES) and the
# package must not find_dependency() them.
cmake_files=("$libdir"/cmake/lox/lox-config.cmake "$libdir"/cmake/lox/lox-targets*.cmake)
leaks=$(grep -H -v '^[[:space:]]*#' "${cmake_files[@]}" | grep -i -E 'fmt|spdlog|Threads|find_dependency' |
        sed 's/^[^:]*\/\([^/:]*\):[[:space:]]*/\1: /' | tr -s ' \n' ' ')
if [ -z "$leaks" ]; then
  pass "CMake package: lox::lox and lox-config.cmake name no private dependency (fmt, spdlog, Threads, find_dependency)"
else
  fail "CMake package: private dependencies in the installed package: ${leaks//$prefix/<prefix>}"
fi
# The consumer is configured with fmt, spdlog and Threads impossible to find.
no_private=(-DCMAKE_DISABLE_FIND_PACKAGE_fmt=ON -DCMAKE_DISABLE_FIND_PACKAGE_spdlog=ON
            -DCMAKE_DISABLE_FIND_PACKAGE_Threads=ON)
cm=$tmp/cmake-consumer
if cmake -S "$here/cmake" -B "$cm" "${generator[@]}" -DCMAKE_PREFIX_PATH="$prefix" "${no_private[@]}" \
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
  fail "CMake consumer: configuring or building against find_package(lox 0.1) failed" \
       "(find_package of fmt, spdlog and Threads disabled)"
fi

# --- (c) Go: bindings/go, `#cgo pkg-config: lox` ------------------------------
# Same PKG_CONFIG_LIBDIR as (a); the rpath comes from CGO_LDFLAGS.
if ! command -v go >/dev/null 2>&1; then
  skip "Go consumer: no go toolchain"
else
  gm=$tmp/go-consumer
  mkdir -p "$gm"
  cat >"$gm/go.mod" <<EOF
module loxconsumer

go 1.19

require liblox.dev/lox v0.0.0

replace liblox.dev/lox => $src/bindings/go
EOF
  cat >"$gm/main.go" <<'EOF'
package main

import (
	"fmt"
	"os"
	"strings"

	"liblox.dev/lox"
)

func main() {
	pool, err := lox.NewThreadPool[int](4)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer pool.Close()
	for i := 0; i < 5; i++ {
		x, y := i, i+1
		if _, err := pool.Scatter(func() (int, error) { return x * y, nil }); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	results, err := pool.Gather()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	parts := make([]string, len(results))
	for i, r := range results {
		parts[i] = fmt.Sprint(r.Value)
	}
	fmt.Printf("[%s]\n", strings.Join(parts, ", "))
}
EOF
  go_env=(CGO_ENABLED=1 GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off GO111MODULE=on GOFLAGS=-mod=mod
          CGO_CFLAGS= CGO_LDFLAGS="-Wl,-rpath,$pc_libdir")
  if [ -z "${HOME:-}" ] || [ ! -w "${HOME:-/nonexistent}" ]; then
    go_env+=(HOME="$tmp/go-home" GOCACHE="$tmp/go-home/cache" GOPATH="$tmp/go-home/gopath")
  fi
  if (cd "$gm" && env "${go_env[@]}" go build -o "$tmp/consumer-go" .) >"$tmp/go.log" 2>&1; then
    run_consumer "Go consumer (bindings/go, cgo pkg-config)" "$tmp/consumer-go"
  else
    show "$tmp/go.log"
    fail "Go consumer: bindings/go does not build with only the prefix's lox.pc visible"
  fi
fi

# --- (d) Rust: bindings/rust, build.rs runs pkg-config --------------------------
# Same PKG_CONFIG_LIBDIR; the rpath is passed the Rust way (RUSTFLAGS).
cargo=$(command -v cargo || true)
[ -z "$cargo" ] && [ -x "${HOME:-/nonexistent}/.cargo/bin/cargo" ] && cargo=$HOME/.cargo/bin/cargo
[ -z "$cargo" ] && [ -x /root/.cargo/bin/cargo ] && cargo=/root/.cargo/bin/cargo
if [ -z "$cargo" ]; then
  skip "Rust consumer: no cargo"
else
  rm_=$tmp/rust-consumer
  mkdir -p "$rm_/src"
  cat >"$rm_/Cargo.toml" <<EOF
[package]
name = "lox-consumer"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
lox = { path = "$src/bindings/rust" }

[workspace]
EOF
  cat >"$rm_/src/main.rs" <<'EOF'
fn main() -> Result<(), lox::Error> {
    let pool = lox::ThreadPool::new(4)?;
    for i in 0..5u64 {
        pool.scatter(move || i * (i + 1))?;
    }
    let values: Vec<String> = pool.gather()?.into_iter().map(|r| r.unwrap().to_string()).collect();
    println!("[{}]", values.join(", "));
    Ok(())
}
EOF
  cargodir=$(dirname "$cargo")
  rust_env=(CARGO_TARGET_DIR="$tmp/rust-target" RUSTFLAGS="-C link-arg=-Wl,-rpath,$pc_libdir")
  [ -x "$cargodir/rustc" ] && [ -z "${RUSTC:-}" ] && rust_env+=(RUSTC="$cargodir/rustc")
  if (cd "$rm_" && env "${rust_env[@]}" "$cargo" build --offline -j 2) >"$tmp/rust.log" 2>&1; then
    # shellcheck disable=SC2016 # build.rs's fallback warning, literally
    if grep -q 'using `--libs lox` only' "$tmp/rust.log"; then
      show "$tmp/rust.log"
      fail "Rust consumer: build.rs could not get \`pkg-config --libs --cflags lox\` with only the prefix's lox.pc"
    else
      run_consumer "Rust consumer (bindings/rust, build.rs pkg-config)" "$tmp/rust-target/debug/lox-consumer"
    fi
  else
    show "$tmp/rust.log"
    fail "Rust consumer: bindings/rust does not build with only the prefix's lox.pc visible"
  fi
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
