// SPDX-License-Identifier: Apache-2.0
// Task graphs in C++ (lox/task.hpp): lox 0.6's foo -> bar chaining with
// tuple unpacking, a diamond over two pools, then/when_all, a cancelled
// round, and thread -> process -> thread. examples/chain.c is the same
// tour through the C ABI. Every line printed is deterministic (the
// example_chain_cpp test compares them whole); a wrong result exits 1.
#include <lox/lox.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("UNEXPECTED: %s\n", what);
    ++failures;
  }
}

template <class T>
std::string list(const std::vector<T>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

const char* status_text(int st) { return lox::error::status_name(st); }

void chaining() {
  std::printf("Chaining (lox 0.6): bar.scatter(foo.scatter(i, i+1), 10), each function on its own pool\n");
  auto foo = lox::thread(4, [](int x, int y) { return std::make_tuple(x * y, x + y); });
  auto bar = lox::thread(2, [](int a, int b, int c) { return a + b + c; });
  for (int i = 0; i < 5; ++i) {
    lox::task<std::tuple<int, int>> foo_res = foo.scatter(i, i + 1);
    bar.scatter(foo_res, 10);  // foo's tuple is unpacked into a, b
  }
  const std::vector<int> r = bar.gather();
  std::printf("bar.gather() = %s\n", list(r).c_str());
  check(r == std::vector<int>{11, 15, 21, 29, 39}, "bar's results");
  std::string foos;
  for (const auto& [p, s] : foo.gather()) foos += (foos.empty() ? "(" : ", (") + std::to_string(p) + ", " + std::to_string(s) + ")";
  std::printf("foo.gather() = [%s]\n", foos.c_str());
}

void diamond() {
  std::printf("Diamond: a = 5 on pool P, b = a * 2 and c = a + 3 on pool Q, d = b * c after both, on P\n");
  auto p = lox::thread(2, [](int x, int y) { return x * y; });
  auto q = lox::thread(2, [](int x, int y) { return x + y; });
  auto a = p.scatter(5, 1);
  auto b = q.scatter(a, a);   // a twice: a + a = 10
  auto c = q.scatter(a, 3);
  auto d = p.scatter(b, c);
  std::printf("d = %d * %d = %d\n", b.get(), c.get(), d.get());
  check(d.get() == 80, "d");
  auto both = lox::when_all(b, c).then([](const std::tuple<int, int>& bc) { return std::get<0>(bc) + std::get<1>(bc); });
  std::printf("when_all(b, c).then(sum) = %d\n", both.get());
  std::printf("P.gather() = %s\n", list(p.gather()).c_str());
  std::printf("Q.gather() = %s\n", list(q.gather()).c_str());
}

void cancelled_round() {
  std::printf("Cancelled round: 5 tasks on 1 worker (task 0 done, task 1 running, tasks 2-4 queued)\n");
  std::printf("and a task of another pool after task 3, then pool.cancel()\n");
  std::atomic<bool> running{false};
  auto pool = lox::thread(1, [&running](int x) {
    if (x == 1) {
      running = true;
      while (!lox::cancelled()) std::this_thread::sleep_for(std::chrono::microseconds(100));
      throw lox::error(LOX_ECANCELLED, "task 1 saw lox::cancelled() and stopped");
    }
    return x * 100;
  });
  auto other = lox::thread(1, [](int x) { return x; });
  std::vector<lox::task<int>> ts;
  for (int i = 0; i < 5; ++i) ts.push_back(pool.scatter(i));
  auto after3 = other.scatter(ts[3]);
  ts[0].wait();
  while (!running) std::this_thread::sleep_for(std::chrono::microseconds(100));
  pool.cancel();
  const auto results = pool.gather_results();
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i]) {
      std::printf("task %zu: LOX_OK, value %d (finished before the cancel: kept)\n", i, results[i].value());
    } else {
      std::printf("task %zu: %s (%s)\n", i, status_text(ts[i].status()),
                  i == 1 ? "running: it saw lox::cancelled() and stopped" : "queued: it never ran");
    }
  }
  after3.wait();
  std::printf("the task after task 3: %s (a predecessor failed), it never ran\n", status_text(after3.status()));
  other.gather_results();
  pool.scatter(7);
  const std::vector<int> again = pool.gather();
  std::printf("the pool goes on: scatter, then gather() = %s\n", list(again).c_str());
  check(again == std::vector<int>{700}, "the pool after the cancel");
}

}  // namespace

int main() {
  // The process pool first: its workers are forks of this process as it
  // is now (no thread pool started yet).
  auto squared = lox::process(2, [](int x) { return x * x + 1; });
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  chaining();
  diamond();
  cancelled_round();

  std::printf("Thread -> process -> thread: x = i on a thread, x * x + 1 in a worker process, then + 1 on a thread\n");
  auto first = lox::thread(2, [](int i) { return i; });
  auto last = lox::thread(2, [](int x) { return x + 1; });
  for (int i = 0; i < 5; ++i) last.scatter(squared.scatter(first.scatter(i)));
  const std::vector<int> l = last.gather();
  std::printf("the last pool's gather() = %s\n", list(l).c_str());
  std::printf("the process pool's gather() = %s\n", list(squared.gather()).c_str());
  check(l == std::vector<int>{2, 3, 6, 11, 18}, "thread -> process -> thread");
  first.gather();
  return failures ? 1 : 0;
}
