// SPDX-License-Identifier: Apache-2.0
// lox_sync_bench: liblox's synchronization objects side by side with
// pthread and std peers, in one run (see bench/README.md, "Synchronization").
//
// Cases:
//   u  uncontended acquire+release pair, one thread (pairs.cpp):
//        lox_lock vs pthread_mutex (and std::mutex, and lox::lock through
//        std::lock_guard to show the C++ layer's cost), lox_rwlock read vs
//        pthread_rwlock read vs std::shared_mutex shared (and the write
//        pairs), lox_qlock vs pthread_mutex, lox_index_semaphore vs
//        sem_wait/sem_post
//   t  throughput of a reader/writer lock with 2 threads (default) at 100%,
//        95% and 50% reads: lox_rwlock vs pthread_rwlock vs std::shared_mutex
//        (and pthread_mutex, every op exclusive, as a reference)
//        (throughput.cpp).
//
// Harness (bench/common): every peer in the same process and run, medians
// of several repetitions, repetitions disturbed by other processes
// (measured from /proc/stat) are redone after waiting for a quiet second,
// an optional first wait for a quiet machine, a watchdog for hangs, a table
// printed, csv lines for bench/run_sync.sh.
#include "sync.hpp"

#include "../common/options.hpp"
#include "../common/output.hpp"

#include <lox/lox.h>

#include <cstdio>
#include <thread>

namespace lox_bench::sync {
namespace {

Options parse(int argc, char** argv) {
  Options o;
  Cli cli("lox_sync_bench", 3, "run_sync.sh");
  cli.reps(o.reps);
  cli.cases("u = uncontended acquire+release pairs, t = rwlock throughput (default: both)", {"u", "t"}, o.cases);
  cli.count("--pairs", "acquire+release pairs per repetition in case u (default 5000000)", o.pairs);
  cli.number("--t-ms", "X", "duration of one repetition of case t, milliseconds (default 300)", o.t_ms);
  cli.count("--threads", "threads in case t (default 2)", o.threads);
  cli.text("--peer", "TEXT", "only the rows whose peer name contains TEXT (e.g. lox_rwlock, under perf)", o.peer);
  cli.parse(argc, argv);
  return o;
}

void print_summary(const Summary& s) {
  targets_head();
  target_line("lox_lock pair <= 1.2x pthread_mutex", s.lock, true, 1.2);
  target_line("lox_rwlock read pair <= 1.0x pthread_rwlock read", s.rw_read, true, 1.0);
  target_line("lox_rwlock throughput >= 2x pthread_rwlock, 100% reads", s.t100, false, 2.0);
  target_line("lox_rwlock throughput >= 2x pthread_rwlock, 95% reads", s.t95, false, 2.0);
  target_line("(no target) lox_rwlock throughput vs pthread_rwlock, 50% reads", s.t50, false, 0.0);
  target_line("lox_qlock pair <= 1.2x pthread_mutex", s.qlock, true, 1.2);
  target_line("lox_index_semaphore pair <= 1.5x sem_wait/sem_post", s.sem, true, 1.5);
}

int run(int argc, char** argv) {
  const Options o = parse(argc, argv);
  Session session("lox_sync_bench");
  std::printf("# lox_sync_bench: liblox %s; %d threads in case t; %u CPUs online\n", lox_version_string(), o.threads,
              std::thread::hardware_concurrency());
  session.begin(3);
  Summary sum;
  if (o.want_case('u')) case_u(o, sum);
  if (o.want_case('t')) case_t(o, sum);
  print_summary(sum);
  return session.end();
}

}  // namespace
}  // namespace lox_bench::sync

int main(int argc, char** argv) { return lox_bench::sync::run(argc, argv); }
