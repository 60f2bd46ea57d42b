// SPDX-License-Identifier: Apache-2.0
// Cases h and a (liblox only): what a handle, a dependency and delivery in
// completion order add to a plain round of trivial tasks.
//
// Every row: a new pool, lox_thread_create(threads, add_one, NULL), warmed
// up with a round of 10,000 tasks, then per repetition one round of N
// tasks; task k computes first+k+1 (a tiny add), and its value must end up
// in the caller's out[k]. Timed: from the first scatter to the last value
// stored, including lox_results_destroy / lox_completions_destroy and every
// lox_task_release. Verified after the clock (wrong or missing values make
// the row an ERROR).
#include "graph.hpp"
#include "work.hpp"

#include "../common/output.hpp"

#include <lox/lox.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <vector>

namespace lox_bench::graph {
namespace {

const CsvLayout kCsv{.units = true, .cpus = true};

// ctx: a Gate to wait on first (the gated root), or NULL.
int add_one(void* ctx, void* arg, void** result) {
  if (ctx) static_cast<Gate*>(ctx)->wait();
  *result = as_ptr(as_u64(arg) + 1);
  return 0;
}

struct Round {
  lox_thread* pool;
  uint64_t first;
  size_t n;
  uint64_t* out;
};

// out[k] = value of task k, for a gathered round of r.n tasks.
void take_results(const Round& r, int rc, lox_results* res) {
  if (rc != LOX_OK) {
    lox_results_destroy(res);
    lox_failed(rc, "lox_thread_gather");
  }
  if (lox_results_count(res) != r.n) {
    const size_t got = lox_results_count(res);
    lox_results_destroy(res);
    throw std::runtime_error("lox_thread_gather returned " + std::to_string(got) + " results for " +
                             std::to_string(r.n) + " scattered tasks");
  }
  for (size_t k = 0; k < r.n; ++k) r.out[k] = as_u64(lox_results_value(res, k));
  lox_results_destroy(res);
}

void gather_into(const Round& r) {
  lox_results* res = nullptr;
  const int rc = lox_thread_gather(r.pool, nullptr, &res);  // before reading res
  take_results(r, rc, res);
}

// A variant: one round of r.n tasks on the pool, all of it timed; fills
// out[0..n).
struct Variant {
  std::string name;
  std::function<void(const Round&)> round;
};

// One row per variant, each on a new pool.
std::vector<Row> run_variants(const Options& o, const std::string& label, size_t n,
                              const std::vector<Variant>& variants) {
  std::vector<Row> rows;
  std::vector<uint64_t> out(n);
  for (const Variant& v : variants) {
    if (v.name.find(o.variant) == std::string::npos) continue;
    lox_thread* pool = nullptr;
    uint64_t first = 0;
    auto one = [&](size_t count) {
      std::fill(out.begin(), out.begin() + static_cast<ptrdiff_t>(count), 0);
      first += count;
      auto t0 = Clock::now();
      v.round(Round{pool, first, count, out.data()});
      const double s = seconds_since(t0);
      size_t bad = 0;
      for (size_t k = 0; k < count; ++k) bad += out[k] != first + k + 1;
      if (bad) throw std::runtime_error(std::to_string(bad) + " of " + std::to_string(count) + " values wrong");
      return s;
    };
    try {
      WatchScope w(label + " / " + v.name + " / setup+warm-up");
      must(lox_thread_create(static_cast<size_t>(o.threads), &add_one, nullptr, &pool), "lox_thread_create");
      one(std::min<size_t>(n, 10'000));
    } catch (const std::exception& e) {
      lox_thread_destroy(pool);
      rows.push_back(failed_row("", v.name, e.what()));
      continue;
    }
    Row row;
    row.peer = v.name;
    row.unit = "ns/task";
    row.units = n;
    row = measure(label, row, o.reps, [&](const std::string&) { return one(n) * 1e9 / static_cast<double>(n); });
    {
      WatchScope w(label + " / " + v.name + " / destroy");
      lox_thread_destroy(pool);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void print_table(const std::string& title, const std::string& legend, const std::vector<Row>& rows,
                 const std::string& base_name) {
  const Row* base = find_row(rows, base_name);
  std::printf("\n%s\n\n%s\n\n", title.c_str(), legend.c_str());
  Table t({{"variant", 36, true},
           {"median ms/round", 15, false},
           {"median ns/task", 14, false},
           {"min ns/task", 11, false},
           {"/ first row (median)", 20, false}});
  t.head();
  t.rows(
      rows, false,
      [&](const Row& r) {
        return std::vector<std::string>{r.peer, strf("%.1f", r.median() * static_cast<double>(r.units) / 1e6),
                                        fmt(r.median()), fmt(r.min()), base ? fmt_x(r.median() / base->median()) : "-"};
      },
      [](const Row& r) { return load_note(r, "CPUs used %.2f", false); });
  std::fflush(stdout);
}

std::optional<double> median_of(const std::vector<Row>& rows, const std::string& name) {
  const Row* r = find_row(rows, name);
  return r ? std::optional<double>(r->median()) : std::nullopt;
}

const char* const kPlain = "scatter (plain)";
const char* const kExNoHandle = "scatter_ex no handle";
const char* const kExHandle = "scatter_ex + handle released at once";
const char* const kExHandleKept = "scatter_ex + handle released after";
const char* const kDepDone = "after 1 completed task";
const char* const kDepPending = "after 1 pending task (gated root)";
const char* const kGather = "gather (ordered)";
const char* const kCompletions = "completions_next (as completed)";
const char* const kCompletionsOf = "scatter_ex + completions_of(handles)";

}  // namespace

void case_handle(const Options& o, Summary& sum) {
  const size_t n = o.h_tasks;
  std::fprintf(stderr, "case h: rounds of %zu tasks x %d reps\n", n, o.reps);
  std::vector<lox_task*> handles(n);
  std::vector<Variant> variants;
  variants.push_back({kPlain, [](const Round& r) {
                        for (size_t k = 0; k < r.n; ++k)
                          must(lox_thread_scatter(r.pool, as_ptr(r.first + k), nullptr), "lox_thread_scatter");
                        gather_into(r);
                      }});
  variants.push_back(
      {kExNoHandle, [](const Round& r) {
         for (size_t k = 0; k < r.n; ++k)
           must(lox_thread_scatter_ex(r.pool, nullptr, nullptr, as_ptr(r.first + k), nullptr, nullptr, nullptr),
                "lox_thread_scatter_ex");
         gather_into(r);
       }});
  variants.push_back(
      {kExHandle, [](const Round& r) {
         for (size_t k = 0; k < r.n; ++k) {
           lox_task* t = nullptr;
           must(lox_thread_scatter_ex(r.pool, nullptr, nullptr, as_ptr(r.first + k), nullptr, nullptr, &t),
                "lox_thread_scatter_ex");
           lox_task_release(t);
         }
         gather_into(r);
       }});
  variants.push_back(
      {kExHandleKept, [&handles](const Round& r) {
         for (size_t k = 0; k < r.n; ++k)
           must(lox_thread_scatter_ex(r.pool, nullptr, nullptr, as_ptr(r.first + k), nullptr, nullptr, &handles[k]),
                "lox_thread_scatter_ex");
         gather_into(r);
         for (size_t k = 0; k < r.n; ++k) lox_task_release(handles[k]);
       }});
  // After 1 completed task: every task names the same predecessor, a task of
  // an earlier round of the same pool, completed and gathered.
  variants.push_back({kDepDone, [](const Round& r) {
                        lox_task* done = nullptr;
                        must(lox_thread_scatter_ex(r.pool, nullptr, nullptr, as_ptr(0), nullptr, nullptr, &done),
                             "lox_thread_scatter_ex");
                        lox_results* pre = nullptr;
                        const int rc = lox_thread_gather(r.pool, nullptr, &pre);
                        lox_results_destroy(pre);
                        must(rc, "lox_thread_gather");
                        // The clock of this row includes the line above (one
                        // task: a few microseconds of 1e6 tasks' time).
                        lox_scatter_opts opts = LOX_SCATTER_OPTS_INIT;
                        opts.after = &done;
                        opts.n_after = 1;
                        for (size_t k = 0; k < r.n; ++k) {
                          const int st = lox_thread_scatter_ex(r.pool, nullptr, nullptr, as_ptr(r.first + k), &opts,
                                                               nullptr, nullptr);
                          if (st != LOX_OK) {
                            lox_task_release(done);
                            lox_failed(st, "lox_thread_scatter_ex");
                          }
                        }
                        lox_task_release(done);
                        gather_into(r);
                      }});
  // After 1 pending task: task 0 waits on a gate until the other n-1 (all
  // after task 0) are scattered; the gate then opens and the completion of
  // task 0 queues them all.
  variants.push_back({kDepPending, [](const Round& r) {
                        Gate gate;
                        lox_task* root = nullptr;
                        {
                          GateOpener opener{&gate};
                          must(lox_thread_scatter_ex(r.pool, &add_one, &gate, as_ptr(r.first), nullptr, nullptr, &root),
                               "lox_thread_scatter_ex");
                          lox_scatter_opts opts = LOX_SCATTER_OPTS_INIT;
                          opts.after = &root;
                          opts.n_after = 1;
                          for (size_t k = 1; k < r.n; ++k) {
                            const int st = lox_thread_scatter_ex(r.pool, nullptr, nullptr, as_ptr(r.first + k), &opts,
                                                                 nullptr, nullptr);
                            if (st != LOX_OK) {
                              lox_task_release(root);
                              lox_results* res = nullptr;
                              gate.open();
                              lox_thread_gather(r.pool, nullptr, &res);
                              lox_results_destroy(res);
                              lox_failed(st, "lox_thread_scatter_ex");
                            }
                          }
                          lox_task_release(root);
                        }  // the gate opens here
                        gather_into(r);
                      }});
  std::vector<Row> rows = run_variants(o, "case h", n, variants);
  sum.plain = median_of(rows, kPlain);
  sum.ex_no_handle = median_of(rows, kExNoHandle);
  sum.ex_handle = median_of(rows, kExHandle);
  sum.ex_handle_kept = median_of(rows, kExHandleKept);
  sum.dep_done = median_of(rows, kDepDone);
  sum.dep_pending = median_of(rows, kDepPending);
  print_table(
      strf("## Case h: what a handle and a dependency add to a scatter: rounds of %zu trivial tasks (%d threads, %d "
           "reps)",
           n, o.threads, o.reps),
      "Variants: each round is N scatters + lox_thread_gather + the N values read + lox_results_destroy. scatter = "
      "lox_thread_scatter; scatter_ex = lox_thread_scatter_ex (opts NULL), asking for no handle, or for one that is "
      "released at once, or kept and released after the gather; after 1 completed task = opts.after names one task "
      "of an earlier round, already gathered; after 1 pending task = task 0 is held on a gate until the N-1 others "
      "(all after it) are scattered. Columns: ms per round, ns per task (= ms per round / N), this row's median / "
      "the plain scatter's.",
      rows, kPlain);
  emit("h", rows, kCsv);
}

void case_as_completed(const Options& o, Summary& sum) {
  const size_t n = o.a_tasks;
  std::fprintf(stderr, "case a: rounds of %zu tasks x %d reps\n", n, o.reps);
  std::vector<lox_task*> handles(n);
  std::vector<Variant> variants;
  variants.push_back({kGather, [](const Round& r) {
                        for (size_t k = 0; k < r.n; ++k)
                          must(lox_thread_scatter(r.pool, as_ptr(r.first + k), nullptr), "lox_thread_scatter");
                        gather_into(r);
                      }});
  // Deliveries: out[index] = value; every index must come exactly once
  // (a missing one leaves out[] at 0, checked after the clock).
  auto drain = [](const Round& r, lox_completions* c) {
    size_t got = 0;
    for (;;) {
      lox_completed d;
      d.struct_size = sizeof d;
      const int st = lox_completions_next(c, LOX_FOREVER, &d);
      if (st == LOX_ECLOSED) break;
      if (st != LOX_OK || d.status != LOX_OK || d.index >= r.n) {
        lox_completions_destroy(c);
        if (st != LOX_OK) lox_failed(st, "lox_completions_next");
        throw std::runtime_error(strf("lox_completions_next delivered index %zu with status %d", d.index, d.status));
      }
      r.out[d.index] = as_u64(d.value);
      ++got;
    }
    lox_completions_destroy(c);
    if (got != r.n)
      throw std::runtime_error("lox_completions_next delivered " + std::to_string(got) + " of " + std::to_string(r.n) +
                               " tasks");
  };
  variants.push_back({kCompletions, [drain](const Round& r) {
                        for (size_t k = 0; k < r.n; ++k)
                          must(lox_thread_scatter(r.pool, as_ptr(r.first + k), nullptr), "lox_thread_scatter");
                        lox_completions* c = nullptr;
                        must(lox_thread_completions(r.pool, &c), "lox_thread_completions");
                        drain(r, c);
                      }});
  variants.push_back(
      {kCompletionsOf, [drain, &handles](const Round& r) {
         for (size_t k = 0; k < r.n; ++k)
           must(lox_thread_scatter_ex(r.pool, nullptr, nullptr, as_ptr(r.first + k), nullptr, nullptr, &handles[k]),
                "lox_thread_scatter_ex");
         lox_completions* c = nullptr;
         const int st = lox_completions_of(handles.data(), r.n, &c);
         for (size_t k = 0; k < r.n; ++k) lox_task_release(handles[k]);
         must(st, "lox_completions_of");
         drain(r, c);
         // The round itself is still the pool's: gathered and
         // dropped (its values were taken above).
         lox_results* res = nullptr;
         const int rc = lox_thread_gather(r.pool, nullptr, &res);
         lox_results_destroy(res);
         must(rc, "lox_thread_gather");
       }});
  std::vector<Row> rows = run_variants(o, "case a", n, variants);
  sum.gather = median_of(rows, kGather);
  sum.completions = median_of(rows, kCompletions);
  print_table(
      strf("## Case a: a round in completion order vs an ordered gather: rounds of %zu trivial tasks (%d threads, %d "
           "reps)",
           n, o.threads, o.reps),
      "Variants: gather = N lox_thread_scatter + lox_thread_gather + the N values read in order + "
      "lox_results_destroy; completions_next = the same N scatters, then lox_thread_completions and "
      "lox_completions_next until LOX_ECLOSED, each value stored at its index, lox_completions_destroy; "
      "completions_of = N lox_thread_scatter_ex with a handle, lox_completions_of(handles), the handles released, the "
      "same loop, then the round gathered and destroyed (the pool keeps it otherwise). Columns: ms per round, ns per "
      "task, this row's median / the gather's.",
      rows, kGather);
  emit("a", rows, kCsv);
}

}  // namespace lox_bench::graph
