// SPDX-License-Identifier: Apache-2.0
// A set of task handles delivered in completion order: each node gets a
// completion callback that appends its position to a queue the consumer
// reads. The queue's storage is reserved for the whole set up front, so a
// callback never allocates (and never fails).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "common/completions.hpp"
#include "common/futex.hpp"
#include "graph/node.hpp"

namespace lox::core::graph {

class NodeCompletions final : public Completions {
 public:
  // Takes a reference to each node; throws std::bad_alloc.
  NodeCompletions(Node* const* nodes, size_t n);
  ~NodeCompletions() override;
  Status next(const Deadline& deadline, Completed& out) noexcept override;
  size_t remaining() const noexcept override;

 private:
  // Shared with the callbacks, which may outlive this object (the nodes'
  // tasks go on after the consumer is gone): reference counted.
  struct State {
    std::atomic<size_t> refs;
    std::mutex mu;
    std::vector<size_t> order;  // positions, in completion order (capacity n)
    EventCount event;
    void release() noexcept {
      if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
  };
  static void on_done(void* state, void* position, Node& node);

  std::vector<Node*> nodes_;
  State* state_;
  size_t delivered_ = 0;
};

}  // namespace lox::core::graph
