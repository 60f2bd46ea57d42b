// SPDX-License-Identifier: Apache-2.0
// lox / lox-gated: lox_thread_create(threads), one lox_thread_scatter_ex per
// node with `after` naming its predecessors' handles (a task reads their
// values inside with lox_task_input + lox_task_value), one
// lox_thread_gather for the whole graph (it is one round), the result read
// with lox_results_value, then lox_results_destroy.
//
// Handles are released as soon as nothing names them any more: the chain
// releases node k-1's handle right after scattering node k; the fan keeps
// the mids' handles until the fan-in that names them is scattered (the
// `after` array is the caller's), then releases them.
//
// lox: the root is an ordinary task, so liblox runs the graph while it is
// being built (a dependent may find its predecessor already complete).
// lox-gated: the root waits on a Gate (work.hpp) that opens once the last
// node is scattered, so every dependency is registered on a predecessor
// that has not completed and the graph runs after it is built, as TBB's.
#include "peers.hpp"
#include "work.hpp"

#include <lox/lox.h>

#include <stdexcept>
#include <vector>

namespace lox_bench::graph {
namespace {

// ctx: the Gate (gated) or NULL; arg: the seed.
int root_task(void* ctx, void* arg, void** result) {
  if (ctx) static_cast<Gate*>(ctx)->wait();
  *result = arg;
  return 0;
}

// Chain node or fan mid: step(the predecessor's value, k); arg: k.
int step_task(void*, void* arg, void** result) {
  *result = as_ptr(step(as_u64(lox_task_value(lox_task_input(0))), as_u64(arg)));
  return 0;
}

// Fan-in: the sum of its predecessors' values.
int join_task(void*, void*, void** result) {
  uint64_t sum = 0;
  const size_t n = lox_task_input_count();
  for (size_t i = 0; i < n; ++i) sum += as_u64(lox_task_value(lox_task_input(i)));
  *result = as_ptr(sum);
  return 0;
}

class LoxPeer final : public GraphPeer {
 public:
  LoxPeer(int threads, bool gated) : gated_(gated) {
    must(lox_thread_create(static_cast<size_t>(threads), &step_task, nullptr, &pool_), "lox_thread_create");
  }
  ~LoxPeer() override { lox_thread_destroy(pool_); }

  uint64_t run(const Shape& s) override {
    Clockwork clock(phases_, s.nodes());
    Gate gate;
    uint64_t result;
    lox_task* last = nullptr;
    try {
      GateOpener opener{gated_ ? &gate : nullptr};
      last = s.kind == Shape::chain ? chain(s, gated_ ? &gate : nullptr) : fan(s, gated_ ? &gate : nullptr);
      clock.build();
    } catch (...) {  // the gate is open: collect what was scattered, so the next graph starts clean
      lox_results* r = nullptr;
      lox_thread_gather(pool_, nullptr, &r);
      lox_results_destroy(r);
      throw;
    }  // the gate opens here
    lox_results* r = nullptr;
    const int rc = lox_thread_gather(pool_, nullptr, &r);
    clock.wait();
    try {
      if (rc != LOX_OK) lox_failed(rc, "lox_thread_gather");
      if (lox_results_count(r) != s.nodes())
        throw std::runtime_error("lox_thread_gather returned " + std::to_string(lox_results_count(r)) +
                                 " results for " + std::to_string(s.nodes()) + " scattered tasks");
      result = as_u64(lox_results_value(r, s.nodes() - 1));
      if (!lox_task_done(last) || as_u64(lox_task_value(last)) != result)
        throw std::runtime_error("the last task's handle disagrees with the gathered results");
    } catch (...) {
      lox_task_release(last);
      lox_results_destroy(r);
      throw;
    }
    lox_task_release(last);
    lox_results_destroy(r);
    clock.freed();
    return result;
  }

 private:
  lox_task* scatter(lox_task_fn fn, void* ctx, uint64_t arg, lox_task* const* after, size_t n_after) {
    opts_.after = after;
    opts_.n_after = n_after;
    lox_task* t = nullptr;
    must(lox_thread_scatter_ex(pool_, fn, ctx, as_ptr(arg), &opts_, nullptr, &t), "lox_thread_scatter_ex");
    return t;
  }

  // Returns the last node's handle (the caller's reference).
  lox_task* chain(const Shape& s, Gate* gate) {
    lox_task* prev = scatter(&root_task, gate, s.seed, nullptr, 0);
    for (size_t k = 1; k < s.n; ++k) {
      lox_task* next;
      try {
        next = scatter(&step_task, nullptr, k, &prev, 1);
      } catch (...) {
        lox_task_release(prev);
        throw;
      }
      lox_task_release(prev);
      prev = next;
    }
    return prev;
  }

  lox_task* fan(const Shape& s, Gate* gate) {
    lox_task* root = scatter(&root_task, gate, s.seed, nullptr, 0);
    std::vector<lox_task*> mids(s.n, nullptr), joins;
    joins.reserve(s.joins());
    auto release_all = [&] {
      lox_task_release(root);
      for (lox_task* t : mids) lox_task_release(t);
      for (lox_task* t : joins) lox_task_release(t);
    };
    try {
      for (size_t k = 0; k < s.n; ++k) mids[k] = scatter(&step_task, nullptr, k, &root, 1);
      lox_task_release(root);
      root = nullptr;
      for (size_t j = 0; j < s.joins(); ++j) {
        const size_t first = j * s.width, count = std::min(s.width, s.n - first);
        joins.push_back(scatter(&join_task, nullptr, 0, &mids[first], count));
        for (size_t k = first; k < first + count; ++k) {
          lox_task_release(mids[k]);
          mids[k] = nullptr;
        }
      }
      if (joins.size() == 1) {
        lox_task* only = joins[0];
        joins.clear();
        return only;
      }
      lox_task* final_node = scatter(&join_task, nullptr, 0, joins.data(), joins.size());
      for (lox_task* t : joins) lox_task_release(t);
      joins.clear();
      return final_node;
    } catch (...) {
      release_all();
      throw;
    }
  }

  lox_thread* pool_ = nullptr;
  bool gated_;
  lox_scatter_opts opts_ = LOX_SCATTER_OPTS_INIT;
};

}  // namespace

std::unique_ptr<GraphPeer> make_lox(int threads, bool gated) { return std::make_unique<LoxPeer>(threads, gated); }

}  // namespace lox_bench::graph
