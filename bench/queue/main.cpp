// SPDX-License-Identifier: Apache-2.0
// lox_queue_bench: liblox's lox_queue side by side with GLib's GAsyncQueue,
// oneTBB's concurrent_bounded_queue and a std::mutex/condition_variable
// queue, plus the cost of lox_announcement_put (see bench/README.md,
// "Queues"; bench/run_queue.sh).
//
// Cases:
//   q  N items (default 2,000,000) through one queue, P producers and C
//        consumers (default shapes 1p1c and 2p2c), on a bounded queue
//        (capacity 1024) and an unbounded one (throughput.cpp; one file per
//        queue: lox.cpp, glib.cpp, tbb.cpp, std.cpp). Producer p puts its own
//        contiguous range of the values 1..N in increasing order; consumer c
//        gets exactly its share (N/C, the first N%C consumers one more), so
//        every peer stops the same way, without a close or a sentinel. Each
//        consumer stores what it got in a preallocated array (one store per
//        item, the same for every peer); after the timed region every value
//        must have arrived exactly once, and each consumer must have seen
//        each producer's values in increasing order (FIFO), or the row is an
//        ERROR and the program exits non-zero. Time: from releasing the
//        threads to the last thread's end. Reported: ns per item, items/s,
//        liblox items/s / the fastest peer's items/s.
//   a  lox_announcement_put with S subscribers (default 1, 4, 16), each with
//        an unbounded receive queue, one publisher thread, M items (default
//        1,000,000) (announcement.cpp):
//        "put/batch-drain"  the publisher puts batches of B items (default
//             4096), timed; after each batch, untimed, every subscriber is
//             drained (and checked: the batch, in order, then empty). ns per
//             put: the put cost alone, with short receive queues.
//        "put/drainer"      the publisher puts all M items while one drainer
//             thread takes them item by item from every subscriber in turn
//             (blocking gets, values checked). ns per put: the publisher's
//             time; the note gives the time until everything was drained.
//        "queue_put-xS"     reference, no announcement: S plain unbounded
//             lox_queues, each put into all S, batches and drains as in
//             put/batch-drain. What the group mutex and all-or-none
//             delivery add to the S enqueues.
//
// Harness (bench/common): every peer in the same process and run, medians
// of several repetitions, repetitions disturbed by other processes are
// redone after waiting for a quiet second, an optional first wait for a
// quiet machine, hangs reported precisely (which thread had moved how many
// items: crew.hpp), a table printed, csv lines for bench/run_queue.sh.
#include "queue.hpp"

#include "../common/options.hpp"
#include "../common/output.hpp"

#include <lox/lox.h>

#include <cstdio>
#include <thread>

namespace lox_bench::queue {
namespace {

Options parse(int argc, char** argv) {
  Options o;
  Cli cli("lox_queue_bench", 1, "run_queue.sh");
  cli.cases("q = queue throughput, a = announcement put cost (default: both)", {"q", "a"}, o.cases);
  cli.reps(o.reps);
  cli.count("--items", "items per repetition of case q (default 2000000)", o.items);
  cli.count("--capacity", "capacity of the bounded queues of case q (default 1024)", o.capacity);
  cli.value("--pc", "LIST", "producer x consumer shapes of case q (default 1x1,2x2)", [&](const std::string& v) {
    o.pc.clear();
    for (const std::string& s : Cli::split(v)) {
      size_t x = s.find('x');
      if (x == std::string::npos) cli.fail("--pc: '" + s + "' is not PxC");
      o.pc.emplace_back(static_cast<int>(cli.to_number("--pc", s.substr(0, x))),
                        static_cast<int>(cli.to_number("--pc", s.substr(x + 1))));
    }
  });
  cli.count("--ann-items", "puts per repetition of case a (default 1000000)", o.ann_items);
  cli.count("--ann-batch", "puts between two drains in case a's put/batch-drain (default 4096)", o.ann_batch);
  cli.value("--subs", "LIST", "subscriber counts of case a (default 1,4,16)", [&](const std::string& v) {
    o.subs.clear();
    for (const std::string& s : Cli::split(v)) o.subs.push_back(static_cast<int>(cli.to_number("--subs", s)));
  });
  cli.text("--peer", "TEXT", "only the rows whose peer name contains TEXT (lox, glib, tbb, std, put/...)", o.peer);
  cli.text("--shape", "TEXT", "only the case q shapes whose name contains TEXT (e.g. 2p2c, -bounded)", o.shape);
  cli.epilogue(
      "Exit status: 0; 1 if a row failed its check (items lost, duplicated, out of order);\n"
      "3 on a hang; 4 if a queue call failed inside a thread.\n");
  cli.parse(argc, argv);
  for (auto [p, c] : o.pc)
    if (static_cast<size_t>(p) > o.items || static_cast<size_t>(c) > o.items) cli.usage(2);
  return o;
}

void print_summary(const std::vector<Verdict>& q, const std::vector<AnnSummary>& a) {
  targets_head();
  for (const Verdict& v : q) {
    if (!v.ratio)
      std::printf("| lox_queue >= 2x the fastest peer's items/s, %s | not measured | - |\n", v.shape.c_str());
    else
      std::printf("| lox_queue >= 2x the fastest peer's items/s, %s | %.2fx (fastest peer: %s) | %s |\n",
                  v.shape.c_str(), *v.ratio, v.fastest.c_str(), *v.ratio >= 2.0 ? "yes" : "NO");
  }
  for (const AnnSummary& s : a) {
    auto f = [](const std::optional<double>& x) { return x ? fmt(*x) : std::string("-"); };
    std::printf(
        "| (no target) lox_announcement_put, %d subscriber(s), ns per put | batch-drain %s, drainer %s; "
        "%d x lox_queue_put %s | |\n",
        s.subs, f(s.batch).c_str(), f(s.drainer).c_str(), s.subs, f(s.ref).c_str());
  }
}

int run(int argc, char** argv) {
  const Options o = parse(argc, argv);
  // The crews report their own hangs after --watchdog s; this one catches
  // a hang anywhere else (creation, a drain, a destroy).
  Session session("lox_queue_bench", settings().watchdog_s + 30);
  std::printf("# lox_queue_bench: liblox %s, oneTBB %s, GLib %s; %u CPUs online\n", lox_version_string(),
              tbb_version().c_str(), glib_version().c_str(), std::thread::hardware_concurrency());
  session.begin(1);
  std::vector<Verdict> qv;
  std::vector<AnnSummary> av;
  if (o.want_case('q')) case_q(o, qv);
  if (o.want_case('a')) case_a(o, av);
  print_summary(qv, av);
  return session.end(std::nullopt, "at least one row lost, duplicated or reordered items (see ERROR rows)");
}

}  // namespace
}  // namespace lox_bench::queue

int main(int argc, char** argv) { return lox_bench::queue::run(argc, argv); }
