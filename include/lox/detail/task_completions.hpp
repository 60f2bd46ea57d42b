// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: outcomes in completion order over the C layer's
// lox_completions: lox::as_completed (a set of tasks) and the pools'
// as_completed() (the round the next gather would return). Included by
// <lox/task.hpp> after lox::task.
#ifndef LOX_DETAIL_TASK_COMPLETIONS_HPP
#define LOX_DETAIL_TASK_COMPLETIONS_HPP

#include <lox/error.hpp>
#include <lox/detail/task_state.hpp>

#include <chrono>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace lox {

// One task of lox::as_completed, with its position in the given vector.
template <class R>
struct completed {
  std::size_t position;
  task<R> value;  // done
};

// One task of a pool's as_completed(): its index in the round and its
// outcome (value or exception, as gather_results() gives it).
template <class R>
struct completion {
  std::size_t index;
  outcome<R> result;
};

namespace detail {

// Owns one lox_completions and the deadline of its iteration; `next`
// fills a lox_completed or says why not. One consumer at a time.
class completions_source {
 public:
  completions_source(lox_completions* c, double timeout) noexcept : c_(c) {
    if (timeout >= 0) {  // negative (LOX_FOREVER): no deadline
      deadline_ = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeout));
      timed_ = true;
    }
  }
  completions_source(completions_source&& o) noexcept
      : c_(std::exchange(o.c_, nullptr)), deadline_(o.deadline_), timed_(o.timed_), timed_out_(o.timed_out_) {}
  completions_source& operator=(completions_source&&) = delete;
  ~completions_source() { lox_completions_destroy(c_); }

  // True with `out` filled; false when every task was delivered or the
  // deadline passed (timed_out()). Throws lox::error for a C failure.
  bool next(lox_completed& out) {
    if (!c_ || timed_out_) return false;
    double left = LOX_FOREVER;
    if (timed_) {
      left = std::chrono::duration<double>(deadline_ - std::chrono::steady_clock::now()).count();
      if (left < 0) left = 0;
    }
    out = lox_completed{};
    out.struct_size = sizeof out;
    const int st = lox_completions_next(c_, left, &out);
    if (st == LOX_OK) return true;
    if (st == LOX_ECLOSED) return false;
    if (st == LOX_TIMEOUT) {
      timed_out_ = true;
      return false;
    }
    throw error(st, lox_last_error());
  }
  std::size_t remaining() const noexcept { return lox_completions_remaining(c_); }
  bool timed_out() const noexcept { return timed_out_; }
  lox_completions* get() const noexcept { return c_; }

 private:
  lox_completions* c_;
  std::chrono::steady_clock::time_point deadline_{};
  bool timed_ = false;
  bool timed_out_ = false;
};

// A single-pass input range over `Source::next() -> std::optional<T>`.
template <class Source, class T>
class next_range {
 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = T*;
    using reference = T&;
    iterator() noexcept = default;
    explicit iterator(Source* s) : s_(s) { ++*this; }
    T& operator*() const noexcept { return *cur_; }
    T* operator->() const noexcept { return &*cur_; }
    iterator& operator++() {
      cur_ = s_->next();
      if (!cur_) s_ = nullptr;
      return *this;
    }
    bool operator==(const iterator& o) const noexcept { return s_ == o.s_; }
    bool operator!=(const iterator& o) const noexcept { return s_ != o.s_; }

   private:
    Source* s_ = nullptr;
    mutable std::optional<T> cur_;
  };
  iterator begin() { return iterator(static_cast<Source*>(this)); }
  iterator end() noexcept { return iterator(); }
};

}  // namespace detail

// What lox::as_completed returns: each task once, in completion order.
// Single pass; not thread-safe (one consumer). Destroying it early is
// safe (the tasks still run).
template <class R>
class as_completed_range : public detail::next_range<as_completed_range<R>, completed<R>> {
 public:
  as_completed_range(const std::vector<task<R>>& tasks, double timeout)
      : tasks_(tasks), src_(make(tasks_), timeout) {}

  // The next task to complete (waiting for it), or nothing when all were
  // delivered or the timeout passed.
  std::optional<completed<R>> next() {
    lox_completed c;
    if (!src_.next(c)) return std::nullopt;
    return completed<R>{c.index, tasks_[c.index]};
  }
  // Tasks not delivered yet.
  std::size_t remaining() const noexcept { return src_.remaining(); }
  // The iteration ended because its timeout passed.
  bool timed_out() const noexcept { return src_.timed_out(); }

 private:
  static lox_completions* make(const std::vector<task<R>>& tasks) {
    std::vector<lox_task*> handles;
    handles.reserve(tasks.size());
    for (const task<R>& t : tasks) handles.push_back(t.native_handle());
    lox_completions* c = nullptr;
    check(lox_completions_of(handles.data(), handles.size(), &c));
    return c;
  }
  std::vector<task<R>> tasks_;
  detail::completions_source src_;
};

// What a pool's as_completed() returns: the round the next gather would
// have returned (it is taken from the pool now: a later gather does not
// see it; tasks scattered from now on belong to the next round), one
// `completion<R>` per task in completion order. Single pass, one consumer.
// A thread pool's range waits, when destroyed, for the tasks it did not
// deliver (their records are freed with it; their values are dropped), as
// the pool's destructor does; a process pool's drops them at once.
template <class Kind, class R>
class round_completions : public detail::next_range<round_completions<Kind, R>, completion<R>> {
 public:
  round_completions(typename Kind::handle* pool, double timeout) : src_(Kind::completions(pool), timeout) {}
  round_completions(round_completions&&) noexcept = default;
  round_completions& operator=(round_completions&&) = delete;
  ~round_completions() { Kind::template drain<R>(src_.get()); }

  // The next task to complete (waiting for it), or nothing when all were
  // delivered or the timeout passed.
  std::optional<completion<R>> next() {
    lox_completed c;
    if (!src_.next(c)) return std::nullopt;
    return completion<R>{c.index, Kind::template completed_outcome<R>(c)};
  }
  std::size_t remaining() const noexcept { return src_.remaining(); }
  bool timed_out() const noexcept { return src_.timed_out(); }

 private:
  detail::completions_source src_;
};

}  // namespace lox

#endif  // LOX_DETAIL_TASK_COMPLETIONS_HPP
