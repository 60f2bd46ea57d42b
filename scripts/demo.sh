#!/usr/bin/env bash
# Builds liblox (Release, no tests) into build-demo and runs the demo tour:
# lox's documented thread examples, run natively through the C ABI, then the
# GPU pool and restroom examples of the synchronization objects, then the
# queues: Effective Python's pipeline and lox's Announcement and Funnel.
# Installs the Debian/Ubuntu packages it needs first (scripts/deps.sh).
#
#   scripts/demo.sh            the tour (a few seconds of simulated I/O)
#   scripts/demo.sh --quick    the same with every delay 20 times shorter
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
echo "demo: building liblox and the examples into build-demo/ ..."
cmake -S . -B build-demo -G Ninja -Wno-dev -DCMAKE_BUILD_TYPE=Release \
      -DBUILD_TESTING=OFF -DLOX_BUILD_EXAMPLES=ON -DLOX_BUILD_BENCH=OFF -DLOX_SANITIZE= >/dev/null
cmake --build build-demo -j "${LOX_JOBS:-2}" --target lox_demo_tour lox_gpu_pool lox_restroom \
      lox_pipeline lox_announce_funnel
echo
build-demo/examples/lox_demo_tour "$@"
# The synchronization examples: the GPU pool (index semaphore) and the
# restroom (LightSwitch, then RWLock).
echo
build-demo/examples/lox_gpu_pool "$@"
echo
build-demo/examples/lox_restroom "$@"
# The queues: a download -> resize -> upload pipeline on bounded, closable
# lox_queues, then lox's Announcement and Funnel examples.
echo
build-demo/examples/lox_pipeline "$@"
echo
build-demo/examples/lox_announce_funnel "$@"
