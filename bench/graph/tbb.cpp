// SPDX-License-Identifier: Apache-2.0
// tbb / tbb-prebuilt: oneTBB's flow graph, inside tbb::task_arena(threads):
// one tbb::flow::continue_node<continue_msg> (default policy) per node, a
// tbb::flow::make_edge per dependency, try_put(continue_msg) on the root,
// graph::wait_for_all(). A continue_node passes only a signal, so each
// node's body reads its predecessors' values from, and writes its own into,
// a vector indexed by node (values[k]; the edges order the accesses).
//
// A continue_node counts its predecessors when the edges are made, and a
// signal sent before an edge exists is lost: the graph must be built before
// it runs (try_put after the last make_edge). tbb: building, running and
// destroying the graph (nodes, vector) are all timed, as liblox's scatters,
// gather and lox_results_destroy are. tbb-prebuilt: the graph is built
// before the clock and destroyed after it; only try_put + wait_for_all +
// reading the result are timed (a graph built once and run many times).
//
// task_arena(threads) is threads-1 TBB workers plus the calling thread,
// which runs nodes while it waits in wait_for_all (that is how TBB works).
#include "peers.hpp"
#include "work.hpp"

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/version.h>

#include <deque>
#include <memory>
#include <stdexcept>
#include <vector>

namespace lox_bench::graph {
namespace {

using tbb::flow::continue_msg;
using Node = tbb::flow::continue_node<continue_msg>;

// One graph: the nodes are destroyed before the graph (declared after it).
struct Built {
  tbb::flow::graph g;
  std::vector<uint64_t> values;
  std::deque<Node> nodes;

  explicit Built(const Shape& s) : values(s.nodes()) {
    uint64_t* v = values.data();
    nodes.emplace_back(g, [v, seed = s.seed](const continue_msg&) {
      v[0] = seed;
      return continue_msg();
    });
    if (s.kind == Shape::chain) {
      for (size_t k = 1; k < s.n; ++k) {
        nodes.emplace_back(g, [v, k](const continue_msg&) {
          v[k] = step(v[k - 1], k);
          return continue_msg();
        });
        tbb::flow::make_edge(nodes[k - 1], nodes[k]);
      }
      return;
    }
    // fan: values[0] root, [1, n] mids, then the joins, then the final node.
    for (size_t k = 0; k < s.n; ++k) {
      nodes.emplace_back(g, [v, k](const continue_msg&) {
        v[1 + k] = step(v[0], k);
        return continue_msg();
      });
      tbb::flow::make_edge(nodes[0], nodes[1 + k]);
    }
    const size_t joins = s.joins();
    for (size_t j = 0; j < joins; ++j) {
      const size_t first = 1 + j * s.width, count = std::min(s.width, s.n - j * s.width), at = 1 + s.n + j;
      nodes.emplace_back(g, [v, first, count, at](const continue_msg&) {
        uint64_t sum = 0;
        for (size_t i = first; i < first + count; ++i) sum += v[i];
        v[at] = sum;
        return continue_msg();
      });
      for (size_t i = first; i < first + count; ++i) tbb::flow::make_edge(nodes[i], nodes[at]);
    }
    if (joins > 1) {
      const size_t first = 1 + s.n, at = 1 + s.n + joins;
      nodes.emplace_back(g, [v, first, joins, at](const continue_msg&) {
        uint64_t sum = 0;
        for (size_t i = first; i < first + joins; ++i) sum += v[i];
        v[at] = sum;
        return continue_msg();
      });
      for (size_t i = first; i < first + joins; ++i) tbb::flow::make_edge(nodes[i], nodes[at]);
    }
  }
  uint64_t start_and_wait() {
    nodes.front().try_put(continue_msg());
    g.wait_for_all();
    return values.back();
  }
};

class TbbPeer final : public GraphPeer {
 public:
  TbbPeer(int threads, bool prebuilt) : arena_(threads), prebuilt_(prebuilt) { arena_.initialize(); }
  ~TbbPeer() override { finish(); }

  void prepare(const Shape& s) override {
    if (prebuilt_) arena_.execute([&] { built_ = std::make_unique<Built>(s); });
  }
  uint64_t run(const Shape& s) override {
    uint64_t result = 0;
    arena_.execute([&] {
      Clockwork clock(phases_, s.nodes());
      if (!prebuilt_) built_ = std::make_unique<Built>(s);
      clock.build();
      if (built_->nodes.size() != s.nodes()) throw std::logic_error("tbb: wrong node count");
      result = built_->start_and_wait();
      clock.wait();
      if (!prebuilt_) built_.reset();
      clock.freed();
    });
    return result;
  }
  void finish() override {
    if (built_) arena_.execute([&] { built_.reset(); });
  }
  std::string note() const override {
    return "task_arena(" + std::to_string(arena_.max_concurrency()) + ")" +
           (phases_.nodes ? "; " + phases_.note() : std::string());
  }

 private:
  tbb::task_arena arena_;
  bool prebuilt_;
  std::unique_ptr<Built> built_;
};

}  // namespace

std::unique_ptr<GraphPeer> make_tbb(int threads, bool prebuilt) { return std::make_unique<TbbPeer>(threads, prebuilt); }

std::string tbb_version() {
  return "oneTBB " + std::to_string(TBB_VERSION_MAJOR) + "." + std::to_string(TBB_VERSION_MINOR);
}

}  // namespace lox_bench::graph
