// SPDX-License-Identifier: Apache-2.0
// Funnel: joins the items of many inputs by job id. Each input puts
// (jid, item); when every input has put for a jid, the set (items in input
// order) is complete and queued at the top, in completion order.
//
// One mutex guards the pending sets and the ready queue: a put is a hash
// lookup and a push under it. Per input and jid the items wait in FIFO
// order, so a second put for a jid whose set is not complete yet belongs
// to the next set with that jid (nothing is overwritten).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/deadline.hpp"
#include "common/status.hpp"
#include "sync/wait.hpp"

namespace lox::core::queue {

class FunnelState;

class Funnel {
 public:
  static std::unique_ptr<Funnel> create();  // the top
  ~Funnel();                                // threads blocked in get get bad_state
  Funnel(const Funnel&) = delete;
  Funnel& operator=(const Funnel&) = delete;

  std::unique_ptr<Funnel> subscribe();  // a new input (numbered in order)
  Status put(uint64_t jid, void* item);
  // One complete set into items[0 .. count-1]; `capacity` too small:
  // invalid, `count` set to the set's size, nothing consumed.
  Status get(const Deadline& deadline, uint64_t& jid, void** items, size_t capacity, size_t& count) noexcept;

  long index() const noexcept { return index_; }
  size_t inputs() const noexcept;
  size_t ready() const noexcept;

 private:
  Funnel(std::shared_ptr<FunnelState> state, long index);

  std::shared_ptr<FunnelState> state_;
  const long index_;  // -1: the top
  sync::Lifeline life_;
};

}  // namespace lox::core::queue
