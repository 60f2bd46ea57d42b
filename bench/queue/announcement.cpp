// SPDX-License-Identifier: Apache-2.0
// Case a: lox_announcement_put with S subscribers, each with an unbounded
// receive queue, one publisher thread: put/batch-drain, put/drainer, and
// the queue_put-xS reference (plain lox_queues, no announcement).
#include "queue.hpp"

#include "../common/output.hpp"

#include <lox/lox.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace lox_bench::queue {
namespace {

struct Group {
  lox_announcement* pub = nullptr;
  std::vector<lox_announcement*> subs;
  explicit Group(int s) {
    must(lox_announcement_create(0, LOX_BACKLOG_OFF, &pub), "lox_announcement_create");
    for (int i = 0; i < s; ++i) {
      lox_announcement* a = nullptr;
      must(lox_announcement_subscribe(pub, 0, LOX_FOREVER, &a), "lox_announcement_subscribe");
      subs.push_back(a);
    }
  }
  ~Group() {
    for (auto* a : subs) lox_announcement_destroy(a);
    lox_announcement_destroy(pub);
  }
};

std::string got_text(int st, void* x) {
  return st == LOX_OK ? "item " + std::to_string(value(x)) : std::string(lox_status_str(st));
}

// Untimed: each receiver must hold exactly lo..hi-1, in order, then be empty.
template <class Get>
void drain_check(size_t receivers, uint64_t lo, uint64_t hi, Get&& get, const std::string& what) {
  for (size_t s = 0; s < receivers; ++s) {
    for (uint64_t v = lo; v < hi; ++v) {
      void* x = nullptr;
      int st = get(s, &x);
      if (st != LOX_OK || value(x) != v)
        throw std::runtime_error(what + ": receiver " + std::to_string(s) + " expected item " + std::to_string(v) +
                                 ", got " + got_text(st, x) +
                                 (st == LOX_OK ? "" : " (" + std::string(lox_last_error()) + ")"));
    }
    void* x = nullptr;
    int st = get(s, &x);
    if (st != LOX_TIMEOUT)
      throw std::runtime_error(what + ": receiver " + std::to_string(s) + " holds more than the " +
                               std::to_string(hi - lo) + " items put (get after them: " + got_text(st, x) + ")");
  }
}

// put/batch-drain and queue_put-xS: batches of puts (timed), drains (untimed).
template <class PutAll, class Get>
double batched_rep(const Options& o, size_t receivers, PutAll&& put_all, Get&& get, const std::string& what) {
  double timed = 0;
  for (uint64_t lo = 1; lo <= o.ann_items; lo += o.ann_batch) {
    const uint64_t hi = std::min<uint64_t>(lo + o.ann_batch, o.ann_items + 1);
    auto t0 = Clock::now();
    for (uint64_t v = lo; v < hi; ++v) put_all(item(v));
    timed += seconds_since(t0);
    drain_check(receivers, lo, hi, get, what);
  }
  return timed * 1e9 / static_cast<double>(o.ann_items);
}

// A batched row: warmed up with 1000 items, then measured.
template <class PutAll, class Get>
Row batched_row(const Options& o, int s, const std::string& peer, size_t receivers, PutAll&& put, Get&& get) {
  for (uint64_t v = 1; v <= 1000; ++v) put(item(v));  // warm-up
  drain_check(receivers, 1, 1001, get, "warm-up");
  Row row;
  row.shape = std::to_string(s) + "-subs";
  row.peer = peer;
  row.unit = "ns";
  return measure(row.shape, row, o.reps,
                 [&](const std::string& what) { return batched_rep(o, receivers, put, get, what); });
}

Row ann_batch_row(const Options& o, int s) {
  Group g(s);
  auto put = [&](void* v) { must(lox_announcement_put(g.pub, v, LOX_FOREVER), "lox_announcement_put"); };
  auto get = [&](size_t i, void** x) { return lox_announcement_get(g.subs[i], x, 0); };
  return batched_row(o, s, "put/batch-drain", g.subs.size(), put, get);
}

Row queue_ref_row(const Options& o, int s) {
  std::vector<lox_queue*> qs(static_cast<size_t>(s), nullptr);
  struct Free {
    std::vector<lox_queue*>& qs;
    ~Free() {
      for (auto* q : qs) lox_queue_destroy(q);
    }
  } free_them{qs};
  for (auto*& q : qs) must(lox_queue_create(0, &q), "lox_queue_create");
  auto put = [&](void* v) {
    for (lox_queue* q : qs) must(lox_queue_put(q, v, LOX_FOREVER), "lox_queue_put");
  };
  auto get = [&](size_t i, void** x) { return lox_queue_get(qs[i], x, 0); };
  return batched_row(o, s, "queue_put-x" + std::to_string(s), qs.size(), put, get);
}

// put/drainer: the publisher puts 1..M while one drainer takes item v from
// every subscriber in turn (blocking), then v+1, ... Returns the
// publisher's ns per put; *all_ns gets the time until the drainer was done.
double drainer_rep(Group& g, uint64_t m, const std::string& what, double* all_ns) {
  std::atomic<uint64_t> wrong{0};
  std::string first_wrong;
  std::vector<Member> ms;
  ms.push_back({"publisher", "put", m, [&](Progress& pr) {
                  for (uint64_t v = 1; v <= m; ++v) {
                    must(lox_announcement_put(g.pub, item(v), LOX_FOREVER), "lox_announcement_put");
                    pr.n.store(v, std::memory_order_relaxed);
                  }
                }});
  ms.push_back({"drainer", "got", m * g.subs.size(), [&](Progress& pr) {
                  uint64_t n = 0;
                  for (uint64_t v = 1; v <= m; ++v)
                    for (size_t s = 0; s < g.subs.size(); ++s) {
                      void* x = nullptr;
                      must(lox_announcement_get(g.subs[s], &x, LOX_FOREVER), "lox_announcement_get");
                      if (value(x) != v && !wrong.fetch_add(1))
                        first_wrong = "subscriber " + std::to_string(s) + " gave item " + std::to_string(value(x)) +
                                      " where " + std::to_string(v) + " was due";
                      pr.n.store(++n, std::memory_order_relaxed);
                    }
                }});
  CrewTimes t = run_crew(ms, what, [&] {
    std::string s = "receive queue sizes now:";
    for (auto* a : g.subs) s += " " + std::to_string(lox_announcement_size(a));
    return s;
  });
  if (wrong) throw std::runtime_error(what + ": " + std::to_string(wrong.load()) + " items wrong: " + first_wrong);
  for (size_t s = 0; s < g.subs.size(); ++s)
    if (lox_announcement_size(g.subs[s]) != 0)
      throw std::runtime_error(what + ": subscriber " + std::to_string(s) + " holds " +
                               std::to_string(lox_announcement_size(g.subs[s])) + " items more than were put");
  if (all_ns) *all_ns = t.last_s * 1e9 / static_cast<double>(m);
  return t.end_s[0] * 1e9 / static_cast<double>(m);
}

Row ann_drainer_row(const Options& o, int s) {
  Group g(s);
  drainer_rep(g, 1000, "warm-up", nullptr);
  std::vector<double> all;
  Row row;
  row.shape = std::to_string(s) + "-subs";
  row.peer = "put/drainer";
  row.unit = "ns";
  Row r = measure(row.shape, row, o.reps, [&](const std::string& what) {
    double a = 0;
    double put = drainer_rep(g, o.ann_items, what, &a);
    all.push_back(a);  // also of redone reps: only the note uses it
    return put;
  });
  if (r.ok() && !all.empty()) {
    std::sort(all.begin(), all.end());
    r.note = "until drained " + fmt(all[all.size() / 2]) + " ns/item";
  }
  return r;
}

void print_table(const Options& o, const std::vector<Row>& rows) {
  std::printf("\n## Case a: lox_announcement_put, %zu puts per rep (%d reps), unbounded receive queues\n\n",
              o.ann_items, o.reps);
  // One column per {name, width, left-aligned}, packed as a table.
  // clang-format off
  Table t({{"subs", 8, true}, {"what", 16, true}, {"median ns", 11, false}, {"min ns", 9, false},
           {"ns/receiver", 11, false}});
  // clang-format on
  t.head();
  t.rows(
      rows, true,
      [](const Row& r) {
        const double subs = std::stod(r.shape);
        return std::vector<std::string>{r.shape, r.peer, fmt(r.median()), fmt(r.min()), fmt(r.median() / subs)};
      },
      [](const Row& r) { return load_note(r, "CPUs used %.2f", true); });
}

}  // namespace

void case_a(const Options& o, std::vector<AnnSummary>& sum) {
  std::vector<Row> rows;
  std::fprintf(stderr, "case a: %zu puts x %d reps, batches of %zu\n", o.ann_items, o.reps, o.ann_batch);
  for (int s : o.subs) {
    AnnSummary a{s, {}, {}, {}};
    auto add = [&](Row (*f)(const Options&, int), const std::string& peer, std::optional<double>& slot) {
      if (!o.want_peer(peer)) return;
      Row r;
      try {
        r = f(o, s);
      } catch (const std::exception& e) {  // set-up or warm-up failed
        r = setup_failed(std::to_string(s) + "-subs", peer, e.what());
      }
      if (r.ok()) slot = r.median();
      rows.push_back(r);
    };
    add(ann_batch_row, "put/batch-drain", a.batch);
    add(ann_drainer_row, "put/drainer", a.drainer);
    add(queue_ref_row, "queue_put-x" + std::to_string(s), a.ref);
    sum.push_back(a);
  }
  print_table(o, rows);
  emit("a", rows, CsvLayout{.shape = true, .cpus = true});
}

}  // namespace lox_bench::queue
