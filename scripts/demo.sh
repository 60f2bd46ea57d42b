#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds liblox (Release, no tests) into build-demo and runs the demo tour:
# lox's documented thread examples, run natively through the C ABI, then the
# GPU pool and restroom examples of the synchronization objects, then the
# queues: Effective Python's pipeline and lox's Announcement and Funnel, and
# the process pool: lox's multiprocessing example and a CPU-bound job.
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
      lox_pipeline lox_announce_funnel lox_process lox_chain_cpp
echo
build-demo/examples/lox_demo_tour "$@"
# The tour's chaining chapter in C++: lox::task, chaining through scatter
# arguments, when_all/then, a cancelled round (examples/chain.cpp).
echo
echo "4b. Chaining in C++ (lox/task.hpp): the same graphs, typed"
build-demo/examples/lox_chain_cpp
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
# The process pool: 5 sleeping jobs on 2 worker processes, foo(x, y) in
# other processes, and a CPU-bound job's speed-up on 2 cores.
echo
build-demo/examples/lox_process "$@"
