// SPDX-License-Identifier: Apache-2.0
// Compiled as C++17 with -Werror: lox.hpp must not need C++20. Runs the
// main paths of the thread pool, the codec and the process pool, the
// synchronization objects and the queues once, so every template used here is instantiated and checked, and exits
// nonzero if a result is wrong.
#include <lox/lox.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

static_assert(__cplusplus == 201703L, "this test must be compiled as C++17");

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

long twice(long x) { return 2 * x; }

enum class color : unsigned char { red, green, blue };

}  // namespace

int main() {
  using namespace std::chrono_literals;

  // lox's example.
  auto foo = lox::thread(4, [](int x, int y) { return x * y; });
  expect(foo(3, 4) == 12, "plain call");
  for (int i = 0; i < 5; ++i) foo.scatter(i, i + 1);
  expect(foo.gather() == std::vector<int>{0, 2, 6, 12, 20}, "gather in scatter order");

  // Default workers, function pointer, progress (callable and bar), try_gather.
  auto bar = lox::thread(&twice);
  expect(bar.max_workers() == LOX_DEFAULT_WORKERS, "default workers");
  bar.scatter(21);
  std::size_t last_done = 0, last_total = 0;
  auto got = bar.gather([&](std::size_t done, std::size_t total) {
    last_done = done;
    last_total = total;
  });
  expect(got == std::vector<long>{42} && last_done == 1 && last_total == 1, "progress callable");
  bar.scatter(1);
  auto maybe = bar.try_gather(30s, lox::progress_bar);
  expect(maybe && *maybe == std::vector<long>{2}, "try_gather with progress bar");

  // Generic lambda with a named result, move-only values, options.
  lox::thread_options opts;
  opts.idle_timeout = 100ms;
  auto gen = lox::thread<std::unique_ptr<std::string>>(
      2, opts, [](auto x) { return std::make_unique<std::string>(std::to_string(x)); });
  gen.scatter(7);
  gen.scatter(8u);
  auto strings = gen.gather();
  expect(strings.size() == 2 && *strings[0] == "7" && *strings[1] == "8", "generic lambda");

  // Exceptions, outcomes, void results.
  auto v = lox::thread(2, [](int x) {
    if (x == 1) throw std::runtime_error("one");
  });
  v.scatter(0);
  v.scatter(1);
  bool threw = false;
  try {
    v.gather();
  } catch (const std::runtime_error&) {
    threw = true;
  }
  expect(threw, "gather rethrows");
  v.scatter(1);
  v.scatter(2);
  std::vector<lox::outcome<void>> outs = v.gather_results();
  expect(outs.size() == 2 && !outs[0] && outs[1].has_value(), "gather_results");
  auto outs2 = v.try_gather_results(1s);
  expect(outs2 && outs2->empty(), "try_gather_results of an empty round");

  // Errors and durations.
  lox_results* r = nullptr;
  try {
    lox::check(lox_thread_gather(nullptr, nullptr, &r));
    expect(false, "check throws");
  } catch (const lox::error& e) {
    expect(e.status() == LOX_EINVAL && !e.detail().empty(), "lox::error carries status and detail");
  }
  expect(lox::to_seconds(250ms) == 0.25, "to_seconds");

  // Move.
  auto moved = std::move(foo);
  moved.scatter(2, 3);
  expect(moved.gather() == std::vector<int>{6} && !foo, "move");  // NOLINT(bugprone-use-after-move)

  // Codec: nested containers and tuples round-trip; bad input is lox::error.
  using rich = std::tuple<int, std::string, std::vector<std::pair<double, std::vector<std::string>>>, bool>;
  const rich value{-1, std::string("a\0b", 3), {{0.5, {"x", ""}}, {2.0, {}}}, true};
  const std::string bytes = lox::codec::encode(value);
  expect(lox::codec::decode<rich>(bytes) == value, "codec round trip");
  try {
    static_cast<void>(lox::codec::decode<rich>(bytes.data(), bytes.size() - 1));
    expect(false, "codec rejects truncated input");
  } catch (const lox::error& e) {
    expect(e.status() == LOX_EINVAL, "codec error is LOX_EINVAL");
  }
  static_assert(!lox::codec::is_encodable_v<std::unique_ptr<int>>, "codec refuses other types");

  // Process pool: lox's example in worker processes, strings, exceptions,
  // outcomes, void results, options, progress, try_gather, move.
  auto job = lox::process(2, [](int x, int y) { return x * y; });
  expect(job(3, 4) == 12, "process plain call");
  for (int i = 0; i < 5; ++i) job.scatter(i, i + 1);
  expect(job.gather() == std::vector<int>{0, 2, 6, 12, 20}, "process gather in scatter order");
  auto sizes = lox::process(2, [](const std::string& s) { return s.size(); });
  sizes.scatter("abc");
  expect(sizes.gather(lox::progress_bar) == std::vector<std::size_t>{3}, "process string argument");
  auto thrower = lox::process(1, [](const std::vector<int>& items) {
    if (items.empty()) throw std::runtime_error("empty input");
    return std::make_tuple(items.size(), std::string(items.size(), '#'));
  });
  thrower.scatter(std::vector<int>{1, 2});
  thrower.scatter(std::vector<int>{});
  std::vector<lox::outcome<std::tuple<std::size_t, std::string>>> pouts = thrower.gather_results();
  expect(pouts.size() == 2 && std::get<1>(pouts[0].value()) == "##" && !pouts[1], "process gather_results");
  thrower.scatter(std::vector<int>{});
  try {
    thrower.gather();
    expect(false, "process gather rethrows");
  } catch (const lox::error& e) {
    expect(e.status() == LOX_ETASK && e.detail() == "empty input", "process exception carries what()");
  }
  lox::process_options popts;
  popts.task_timeout = 30s;
  auto pvoid = lox::process(1, popts, [](long) {});
  pvoid.scatter(1);
  expect(pvoid.try_gather(30s), "process void try_gather");
  pvoid.scatter(2);
  expect(pvoid.try_gather_results(30s)->size() == 1, "process void try_gather_results");
  auto named = lox::process<long long>([](int x) { return x; });
  named.scatter(-2);
  auto maybe_named = named.try_gather(30s);
  expect(maybe_named && *maybe_named == std::vector<long long>{-2} && named.pending() == 0, "process named result");
  auto moved_job = std::move(job);
  moved_job.scatter(2, 3);
  expect(moved_job.gather() == std::vector<int>{6} && !job && job.workers() == 0,  // NOLINT(bugprone-use-after-move)
         "process move");

  // Synchronization objects through the standard wrappers and lox's guards.
  lox::lock room;
  lox::light_switch people(room);
  {
    std::scoped_lock in(people);
    expect(room.locked() && people.count() == 1, "light_switch takes the lock");
    std::unique_lock<lox::lock> janitor(room, std::defer_lock);
    expect(!janitor.try_lock_for(1ms), "janitor waits for the people");
  }
  expect(!room.locked(), "last one out releases");
  lox::rw_lock rw;
  {
    std::shared_lock<lox::rw_lock> rd(rw);
    auto rd2 = rw.read();
    expect(rw.readers() == 2 && !rw.try_write(1ms), "readers share, writer times out");
  }
  if (auto w = rw.try_write(30s))
    expect(rw.readers() == 0, "writer alone");
  else
    expect(false, "try_write on a free rw_lock");
  lox::qlock fifo;
  {
    std::scoped_lock both(fifo, room);
    expect(fifo.locked() && room.locked(), "scoped_lock of two lox locks");
  }
  lox::index_semaphore gpus(2);
  {
    auto g0 = gpus.acquire();
    auto g1 = gpus.try_acquire(1s);
    expect(g1 && g0.index() != g1.index() && !gpus.try_acquire(0ms), "index_semaphore");
  }
  try {
    room.release();
    expect(false, "release of an unlocked lock throws");
  } catch (const lox::error& e) {
    expect(e.status() == LOX_ESTATE, "release misuse is LOX_ESTATE");
  }

  // Queues: typed items (integer, pointer, enum), timeouts, range-for,
  // close/join, announcement and funnel.
  lox::queue<int> q(4);
  q.put(-7);
  expect(q.try_put(8, 1s) && q.size() == 2 && q.maxsize() == 4 && !q.empty() && !q.full(), "queue put");
  expect(q.get() == -7 && q.try_get(1s) == std::optional<int>(8) && !q.try_get(0ms), "queue get");
  q.task_done();
  q.task_done();
  expect(q.try_join(1s), "queue join after task_done");
  lox::queue<const char*> words;
  static const char* const text[3] = {"one", "two", "three"};
  for (const char* w : text) words.put(w);
  words.close();
  std::string joined;
  for (const char* w : words) joined += w;
  words.join();
  expect(joined == "onetwothree" && words.closed(), "queue range-for");
  try {
    static_cast<void>(words.get());
    expect(false, "get on a closed drained queue throws");
  } catch (const lox::error& e) {
    expect(e.status() == LOX_ECLOSED, "closed queue is LOX_ECLOSED");
  }
  lox::queue<color> colors;
  colors.put(color::blue);
  auto moved_q = std::move(colors);
  expect(moved_q.get() == color::blue && !colors, "queue of enums, moved");  // NOLINT(bugprone-use-after-move)

  lox::announcement<std::intptr_t> ann(0, lox::backlog_unbounded);
  auto foo_q = ann.subscribe();
  auto bar_q = ann.subscribe(1);
  ann.put(5);
  auto late = ann.clone().subscribe();
  expect(foo_q.get() == 5 && bar_q.try_get(1s) == std::optional<std::intptr_t>(5) && late.get() == 5,
         "announcement reaches every subscriber and the late one");
  expect(ann.subscribers() == 4 && ann.backlog() == 1 && ann.empty() && !foo_q.full(),
         "announcement getters (the creator is a member)");
  foo_q.put(7);
  expect(ann.get() == 7 && bar_q.get() == 7 && late.get() == 7 && foo_q.empty(),
         "a subscriber's put reaches the other members, the creator included");
  ann.finalize();
  foo_q.unsubscribe();
  expect(ann.try_put(6, 1s) && bar_q.get() == 6 && ann.backlog() == 0, "announcement after finalize");
  try {
    static_cast<void>(foo_q.try_get(0ms));
    expect(false, "get of an unsubscribed, drained handle throws");
  } catch (const lox::error& e) {
    expect(e.status() == LOX_ECLOSED, "unsubscribed is LOX_ECLOSED");
  }

  lox::funnel<const char*> fun;
  auto sub_1 = fun.subscribe();
  auto sub_2 = fun.subscribe();
  sub_1.put(7, "foo");
  expect(!fun.try_get(10ms) && sub_2.index() == 1 && fun.index() == -1 && fun.inputs() == 2, "funnel waits");
  sub_2.put(7, "bar");
  lox::funnel_set<const char*> set = fun.get();
  expect(
      set.jid == 7 && set.items.size() == 2 && std::string(set.items[0]) == "foo" && std::string(set.items[1]) == "bar",
      "funnel set");

  if (failures == 0) std::puts("lox.hpp C++17: ok");
  // Task graphs: chaining with unpacking and lox::whole, thread -> process
  // -> thread, then, when_all, as_completed, on_done, cancellation.
  {
    auto tfoo = lox::thread(2, [](int x, int y) { return std::make_tuple(x * y, x + y); });
    auto tbar = lox::thread(2, [](int a, int b, int c) { return a + b + c; });
    auto twhole = lox::thread(1, [](const std::tuple<int, int>& t) { return std::get<0>(t); });
    auto sq = lox::process(1, [](int x) { return x * x; });
    for (int i = 0; i < 5; ++i) {
      lox::task<std::tuple<int, int>> fr = tfoo.scatter(i, i + 1);
      tbar.scatter(fr, 10);
      twhole.scatter(lox::whole(fr));
    }
    expect(tbar.gather() == std::vector<int>{11, 15, 21, 29, 39}, "task chaining");
    expect(twhole.gather() == std::vector<int>{0, 2, 6, 12, 20}, "lox::whole");
    tfoo.gather();
    auto one = lox::thread(1, [](int x) { return x + 1; });
    lox::task<int> a = one.scatter(2);
    lox::task<int> b = sq.scatter(a);
    lox::task<int> c = one.scatter(b);
    expect(c.get() == 10 && b.get() == 9, "thread -> process -> thread");
    auto th = c.then([](int cv) { return static_cast<long>(cv) * 2; });
    expect(th.get() == 20L, "then");
    auto all = lox::when_all(a, b, th);
    expect(std::get<2>(all.get()) == 20L, "when_all");
    std::vector<lox::task<int>> ts{a, b, c};
    std::size_t n = 0;
    for (auto& done : lox::as_completed(ts)) n += done.value.done() ? 1u : 0u;
    expect(n == 3, "as_completed");
    int calls = 0;
    c.on_done([&calls] { ++calls; });
    expect(calls == 1, "on_done inline");
    std::size_t index = one.scatter(0);
    expect(index == 2, "a task converts to its index");
    expect(!lox::cancelled() && !lox::this_task::token().cancelled(), "no cancellation outside a task");
    one.cancel();
    for (auto& item : one.as_completed()) expect(item.index < 3, "pool as_completed");
    sq.cancel();
    sq.gather_results();
  }

  return failures == 0 ? 0 : 1;
}
