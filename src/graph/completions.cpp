// SPDX-License-Identifier: Apache-2.0
#include "graph/completions.hpp"

namespace lox::core::graph {

NodeCompletions::NodeCompletions(Node* const* nodes, size_t n) : nodes_(nodes, nodes + n) {
  auto state = std::make_unique<State>();
  state->order.reserve(n);
  state->refs.store(1, std::memory_order_relaxed);
  // Allocate every callback's record before registering any, so that a
  // failure leaves no callback behind: add_callback's allocation is the
  // only thing that throws, and it happens before the node changes.
  for (Node* node : nodes_) node->retain();
  state_ = state.release();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    state_->refs.fetch_add(1, std::memory_order_relaxed);
    bool registered;
    try {
      registered = nodes_[i]->add_callback(&on_done, state_, reinterpret_cast<void*>(i));
    } catch (...) {
      state_->refs.fetch_sub(1, std::memory_order_relaxed);
      // The callbacks registered so far hold their own references.
      for (Node* node : nodes_) node->release();
      state_->release();
      throw;
    }
    if (!registered) on_done(state_, reinterpret_cast<void*>(i), *nodes_[i]);
  }
}

NodeCompletions::~NodeCompletions() {
  for (Node* node : nodes_) node->release();
  state_->release();
}

void NodeCompletions::on_done(void* state, void* position, Node&) {
  auto* s = static_cast<State*>(state);
  {
    std::lock_guard lk(s->mu);
    s->order.push_back(reinterpret_cast<size_t>(position));  // within the reserved capacity
  }
  s->event.notify_all();
  s->release();
}

size_t NodeCompletions::remaining() const noexcept { return nodes_.size() - delivered_; }

Status NodeCompletions::next(const Deadline& deadline, Completed& out) noexcept {
  if (delivered_ == nodes_.size()) return Status::closed;
  for (;;) {
    auto ticket = state_->event.prepare();
    size_t position = 0;
    bool have = false;
    {
      std::lock_guard lk(state_->mu);
      if (state_->order.size() > delivered_) {
        position = state_->order[delivered_];
        have = true;
      }
    }
    if (have) {
      state_->event.cancel();
      Node& node = *nodes_[position];
      ++delivered_;
      out = Completed{};
      out.index = position;
      out.status = node.status();
      out.value = node.value();
      if (node.kind() == Node::Kind::process) {
        out.data = node.bytes().data();
        out.len = node.bytes().size();
      }
      out.error = node.error();
      out.node = &node;
      return Status::ok;
    }
    if (!state_->event.wait(ticket, deadline)) {
      std::lock_guard lk(state_->mu);
      if (state_->order.size() == delivered_) return Status::timeout;
    }
  }
}

}  // namespace lox::core::graph
