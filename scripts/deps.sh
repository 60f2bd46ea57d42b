#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian/Ubuntu packages liblox needs that are not installed yet.
#
#   scripts/deps.sh           build, test and demo: compilers, CMake, Ninja,
#                             pkg-config, fmt, spdlog, GoogleTest/GoogleMock
#   scripts/deps.sh --bench   also what bench/ compares against: Google
#                             Benchmark, oneTBB, Boost, GLib
#   scripts/deps.sh --test    also what the full test command needs: the ABI
#                             tools (abigail-tools), Go, Python's pytest, clang
#                             with libFuzzer (libclang-rt-14-dev), and
#                             Rust's cargo when no cargo is found (on PATH or
#                             in ~/.cargo/bin, e.g. from rustup)
#
# Asks dpkg which packages are missing and runs `apt-get update` and
# `apt-get install` only when something is; silent when nothing is.
# Uses sudo only when not run as root.
set -euo pipefail

pkgs=(cmake ninja-build gcc g++ binutils pkg-config
      libfmt-dev libspdlog-dev libgtest-dev libgmock-dev)
for arg in "$@"; do
  case "$arg" in
    --bench) pkgs+=(libbenchmark-dev libtbb-dev libboost-dev libglib2.0-dev) ;;
    --test)
      pkgs+=(abigail-tools golang-go python3 python3-pytest clang libclang-rt-14-dev)
      if ! command -v cargo >/dev/null 2>&1 && [ ! -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
        pkgs+=(cargo rustc)
      fi ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "deps: unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps: no dpkg-query: not a Debian/Ubuntu system; install by hand: ${pkgs[*]}" >&2
  exit 0
fi

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 ||
    { echo "deps: not root and no sudo; install these by hand: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${missing[*]}"
