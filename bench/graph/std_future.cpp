// SPDX-License-Identifier: Apache-2.0
// std / std-gated: what C++ without a graph library offers, written here: a
// std::promise/std::future continuation emulation on a plain thread pool.
//
// The pool: `threads` workers, one std::mutex, one std::condition_variable,
// a std::deque<std::function<void()>> (the textbook pool of lox_bench's std
// peer); each queued closure is {this, Node*}, stored without allocating.
//
// A node: its value travels in a std::promise<uint64_t> whose
// std::shared_future its successors read (get(): ready by then, it does not
// block). std::future has no then(), so each node carries the
// continuations registered on it: a mutex, a `done` flag and a list of
// successors. then(pred, succ) locks pred; if pred has not completed it
// appends succ, else it counts pred as done at once. A node counts its
// incomplete predecessors (plus a hold that its builder drops once all are
// named), and is submitted to the pool by whoever brings the count to zero.
// When a node's body has run: set_value, then under its mutex done = true
// and take the list, then count down every successor (submitting the ready
// ones). This is what a future's then() does, without a std::function or a
// heap block per continuation (the emulation is given the same per-node
// diet as the other peers: one node object and one shared state).
//
// The graph owns its nodes (a std::deque, as TBB's graph owns its nodes):
// the caller waits for a counter of completed nodes (the node that brings
// it to the node count signals a condition variable; the caller sleeps,
// it does not spin), reads the last node's future, and frees the deque;
// all of it timed. std: the root is submitted as soon as it is made, so the
// graph runs while it is being built (like liblox's `lox` row). std-gated:
// the root waits on a Gate until the whole graph is built (`lox-gated`).
#include "peers.hpp"
#include "../common/std_pool.hpp"
#include "work.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace lox_bench::graph {
namespace {

using lox_bench::StdPool;

struct Node {
  enum Kind { root, step, join } kind;
  uint64_t k;                      // root: the seed; step: k
  Node* input = nullptr;           // step: its predecessor
  std::vector<Node*> inputs;       // join: its predecessors, in order
  std::promise<uint64_t> promise;  // the value, set once the body ran
  std::shared_future<uint64_t> future = promise.get_future().share();
  std::mutex m;  // guards done and successors
  bool done = false;
  std::vector<Node*> successors;   // continuations registered before completion
  std::atomic<size_t> pending{1};  // incomplete predecessors + the builder's hold

  Node(Kind kind_, uint64_t k_) : kind(kind_), k(k_) {}
};

class StdFuturePeer final : public GraphPeer {
 public:
  StdFuturePeer(int threads, bool gated) : gated_(gated), pool_(threads) {}

  uint64_t run(const Shape& s) override {
    Clockwork clock(phases_, s.nodes());
    arm(s.nodes());
    Gate gate;
    gate_ = gated_ ? &gate : nullptr;
    std::deque<Node> nodes;
    Node* last;
    {
      GateOpener opener{gate_};
      last = s.kind == Shape::chain ? chain(s, nodes) : fan(s, nodes);
      clock.build();
    }  // the gate opens here
    wait_all();
    const uint64_t result = last->future.get();
    clock.wait();
    gate_ = nullptr;
    nodes.clear();
    clock.freed();
    return result;
  }

 private:
  Node* chain(const Shape& s, std::deque<Node>& nodes) {
    Node* prev = &nodes.emplace_back(Node::root, s.seed);
    release_hold(prev);
    for (size_t k = 1; k < s.n; ++k) {
      Node* node = &nodes.emplace_back(Node::step, k);
      node->input = prev;
      then(prev, node);
      release_hold(node);
      prev = node;
    }
    return prev;
  }

  Node* fan(const Shape& s, std::deque<Node>& nodes) {
    Node* root = &nodes.emplace_back(Node::root, s.seed);
    release_hold(root);
    std::vector<Node*> mids(s.n);
    for (size_t k = 0; k < s.n; ++k) {
      Node* node = mids[k] = &nodes.emplace_back(Node::step, k);
      node->input = root;
      then(root, node);
      release_hold(node);
    }
    std::vector<Node*> joins;
    for (size_t j = 0; j < s.joins(); ++j) {
      const size_t first = j * s.width, count = std::min(s.width, s.n - first);
      joins.push_back(make_join(nodes, mids.data() + first, count));
    }
    return joins.size() == 1 ? joins[0] : make_join(nodes, joins.data(), joins.size());
  }

  Node* make_join(std::deque<Node>& nodes, Node* const* preds, size_t n) {
    Node* node = &nodes.emplace_back(Node::join, 0);
    node->inputs.assign(preds, preds + n);
    for (size_t i = 0; i < n; ++i) then(preds[i], node);
    release_hold(node);
    return node;
  }

  // succ runs after pred: registered on pred, or counted at once if pred
  // has completed.
  void then(Node* pred, Node* succ) {
    succ->pending.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lk(pred->m);
      if (!pred->done) {
        pred->successors.push_back(succ);
        return;
      }
    }
    count_down(succ);
  }
  void release_hold(Node* n) { count_down(n); }
  void count_down(Node* n) {
    if (n->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) pool_.submit([this, n] { execute(n); });
  }

  void execute(Node* n) {
    uint64_t v;
    switch (n->kind) {
      case Node::root:
        if (gate_) gate_->wait();
        v = n->k;
        break;
      case Node::step:
        v = step(n->input->future.get(), n->k);
        break;
      default:
        v = 0;
        for (Node* p : n->inputs) v += p->future.get();
    }
    n->promise.set_value(v);
    std::vector<Node*> successors;
    {
      std::lock_guard lk(n->m);
      n->done = true;
      successors.swap(n->successors);
    }
    for (Node* s : successors) count_down(s);
    node_done();
  }

  // The caller's wait: a counter of completed nodes; the last one signals.
  void arm(size_t n) {
    remaining_.store(n, std::memory_order_relaxed);
    all_done_ = false;
  }
  void node_done() {
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      {
        std::lock_guard lk(m_);
        all_done_ = true;
      }
      cv_.notify_one();
    }
  }
  void wait_all() {
    std::unique_lock lk(m_);
    cv_.wait(lk, [&] { return all_done_; });
  }

  bool gated_;
  Gate* gate_ = nullptr;
  std::atomic<size_t> remaining_{0};
  std::mutex m_;
  std::condition_variable cv_;
  bool all_done_ = false;
  StdPool pool_;  // last: its workers stop before the members they use go
};

}  // namespace

std::unique_ptr<GraphPeer> make_std_future(int threads, bool gated) {
  return std::make_unique<StdFuturePeer>(threads, gated);
}

}  // namespace lox_bench::graph
