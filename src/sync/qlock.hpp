// SPDX-License-Identifier: Apache-2.0
// QLock: a lock handed over in strict FIFO order.
//
// Uncontended, acquire and release are one CAS each on `state_`. When the
// lock is held, an acquirer appends a node (on its own stack) to an
// explicit line under a small internal mutex and sleeps on the node's own
// EventCount; release hands the lock directly to the head node (the lock
// never becomes free while somebody waits, so nobody can barge in). A
// waiter that times out unlinks its own node, leaving the order of the
// others untouched.
#pragma once

#include <cstddef>
#include <mutex>

#include "sync/wait.hpp"

namespace lox::core::sync {

class QLock : Pinned {
 public:
  ~QLock();

  Status acquire(const Deadline& deadline) noexcept;
  Status release() noexcept;  // bad_state if not locked
  size_t waiting() const noexcept { return waiting_.load(std::memory_order_seq_cst); }
  bool locked() const noexcept { return (state_.load(std::memory_order_relaxed) & kLocked) != 0; }

 private:
  struct Node {
    Node* prev = nullptr;
    Node* next = nullptr;
    std::atomic<uint32_t> granted{0};
    EventCount ec;
  };
  static constexpr uint32_t kLocked = 1;
  static constexpr uint32_t kQueued = 2;  // the line is not empty: release takes the slow path

  void unlink(Node* n) noexcept;  // mu_ held

  std::atomic<uint32_t> state_{0};
  std::atomic<size_t> waiting_{0};
  std::mutex mu_;  // guards the line (head_, tail_, links)
  Node* head_ = nullptr;
  Node* tail_ = nullptr;
  Lifeline life_;
};

}  // namespace lox::core::sync
