// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: the shared state behind lox::task<R>. One polymorphic,
// reference-counted object per task: a thread pool's heap record
// (thread_task.hpp), a process task's handle (task_process.hpp), or a state
// this layer completes itself (then, when_all: task_combine.hpp).
#ifndef LOX_DETAIL_TASK_STATE_HPP
#define LOX_DETAIL_TASK_STATE_HPP

#include <lox/codec.hpp>
#include <lox/error.hpp>
#include <lox/detail/signature.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace lox {

template <class R>
class task;

namespace detail {

// What every task's shared state answers. Accessors of the outcome
// (status, failure, value) are valid once done() is true. Thread-safe.
class state_base {
 public:
  state_base(const state_base&) = delete;
  state_base& operator=(const state_base&) = delete;

  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Drops one reference; the last frees the state. A sole owner frees it
  // without an atomic read-modify-write (nobody else can add a reference).
  void release() noexcept {
    if (refs_.load(std::memory_order_acquire) == 1 || refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  // True while more than one owner holds the state (then a gather copies
  // the value out instead of moving it).
  bool shared() const noexcept { return refs_.load(std::memory_order_acquire) > 1; }

  virtual bool done() const noexcept = 0;
  // Waits up to `timeout` seconds (LOX_FOREVER: no limit); true once done.
  // Throws lox::error when a C call fails (never for a timeout).
  virtual bool wait(double timeout) = 0;
  // The C status once done (LOX_OK, LOX_ETASK, LOX_ECANCELLED,
  // LOX_EDEPENDENCY, ...).
  virtual int status() const noexcept = 0;
  // Once done: null on success, else what get() throws. `index` names the
  // task in messages.
  virtual std::exception_ptr failure(std::size_t index) const = 0;
  // The C handle (borrowed: the state owns it), made on demand. Throws
  // lox::error (LOX_ENOMEM).
  virtual lox_task* handle() = 0;
  virtual void cancel() = 0;
  // cancel() was called (or a pool cancel reached the task).
  virtual bool cancel_requested() const noexcept = 0;
  // Inside the running task: cancel_requested(), or a cancel of its pool.
  virtual bool stop_requested() noexcept { return cancel_requested(); }
  // A thread value as lox::codec bytes, for a process dependent (the C
  // layer's lox_scatter_opts.encode). 0, or nonzero: not encodable.
  virtual int encode_value(lox_buffer* out) noexcept {
    static_cast<void>(out);
    return LOX_EINVAL;
  }

  std::size_t index() const noexcept { return index_; }
  void set_index(std::size_t i) noexcept { index_ = i; }
  // Sets the count before the state is shared with anyone (a plain store).
  void init_refs(std::uint32_t n) noexcept { refs_.store(n, std::memory_order_relaxed); }

 protected:
  explicit state_base(std::uint32_t refs) noexcept : refs_(refs) {}
  virtual ~state_base() = default;

 private:
  std::atomic<std::uint32_t> refs_;
  std::size_t index_ = 0;
};

// A state whose value is read in place, as `const R&`.
template <class R>
class typed_state : public state_base {
 public:
  // Valid once done and successful. A process task decodes here (once);
  // that may throw lox::error.
  virtual const R& value() = 0;

 protected:
  using state_base::state_base;
};
template <>
class typed_state<void> : public state_base {
 protected:
  using state_base::state_base;
};

// The task whose code runs on this thread (a thread record, set by its
// trampoline), for lox::cancelled() and lox::this_task::token().
inline state_base*& current_state() noexcept {
  static thread_local state_base* current = nullptr;
  return current;
}
class running_scope {
 public:
  explicit running_scope(state_base* s) noexcept : saved_(current_state()) { current_state() = s; }
  ~running_scope() { current_state() = saved_; }
  running_scope(const running_scope&) = delete;
  running_scope& operator=(const running_scope&) = delete;

 private:
  state_base* saved_;
};

// The message of a failure for a C detail ("std::exception: what()").
inline std::string failure_text(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown exception (not derived from std::exception)";
  }
}

inline std::exception_ptr status_failure(int status, const char* detail, std::size_t index) {
  return std::make_exception_ptr(
      error(status, detail && *detail ? std::string(detail)
                                      : "task " + std::to_string(index) + " failed with status " +
                                            std::to_string(status) + " (" + lox_status_name(status) + ")"));
}

// A state completed in this process by whoever claims it (a thread
// record's trampoline, a callback of then/when_all, a canceller). Its
// outcome lives here; a C handle is made only when asked for.
//
// The state word: the promise made on demand (a lox_task*, which is at
// least 8-byte aligned) with three flags in its low bits:
//   claimed  the finisher took the right to write the outcome;
//   done     the outcome is written (set last, release);
//   cancel   cancellation was requested. With `done` and without
//            `claimed`: cancelled before it started (status
//            LOX_ECANCELLED, nothing else written).
// Exactly one party completes the promise: the finisher if the promise
// was attached before `done`, the attacher if it found `done` set.
template <class R>
class value_holder : public typed_state<R> {
 public:
  const R& value() override { return *value_; }
  std::optional<R> value_;

 protected:
  using typed_state<R>::typed_state;
};
template <>
class value_holder<void> : public typed_state<void> {
 public:
  type_list<> value_;

 protected:
  using typed_state<void>::typed_state;
};

template <class R>
class value_state : public value_holder<R> {
 public:
  static constexpr std::uintptr_t claimed_bit = 1, done_bit = 2, cancel_bit = 4, flag_bits = 7;

  bool done() const noexcept override { return (word_.load(std::memory_order_acquire) & done_bit) != 0; }

  bool wait(double timeout) override {
    if (done()) return true;
    const int st = lox_task_wait(handle(), timeout);
    if (st == LOX_TIMEOUT) return false;
    if (st != LOX_OK) throw error(st, lox_last_error());
    return true;  // the finisher set `done` before it completed the handle
  }

  int status() const noexcept override {
    const std::uintptr_t w = word_.load(std::memory_order_acquire);
    return cancelled_unstarted(w) ? LOX_ECANCELLED : status_;
  }

  std::exception_ptr failure(std::size_t index) const override {
    const std::uintptr_t w = word_.load(std::memory_order_acquire);
    if (cancelled_unstarted(w)) {
      return std::make_exception_ptr(
          error(LOX_ECANCELLED, "task " + std::to_string(index) + " was cancelled before it started"));
    }
    if (status_ == LOX_OK) return nullptr;
    if (error_) return error_;
    return status_failure(status_, nullptr, index);
  }

  lox_task* handle() override {
    if (node_) return node_;
    std::uintptr_t w = word_.load(std::memory_order_acquire);
    if (w & ~flag_bits) return promise_of(w);
    lox_task* h = nullptr;
    check(lox_task_create(this->index(), &h));
    const auto bits = reinterpret_cast<std::uintptr_t>(h);
    if (bits & flag_bits) {  // never seen: a handle is a heap object
      lox_task_release(h);
      throw error(LOX_ESTATE, "task handle: the C handle is not 8-byte aligned");
    }
    for (;;) {
      if (w & ~flag_bits) {  // another thread attached one first
        lox_task_release(h);
        return promise_of(w);
      }
      if (word_.compare_exchange_weak(w, w | bits, std::memory_order_acq_rel, std::memory_order_acquire)) {
        if (w & done_bit) complete_promise(h);  // finished before: complete it here
        return h;
      }
    }
  }

  // Not started: it never starts, and it is done (LOX_ECANCELLED) at once,
  // its promise completed so waiters and dependents go on. Running: only
  // the flag (lox::cancelled() turns true). Done: nothing.
  void cancel() override {
    cancel_state();
    if (node_) lox_task_cancel(node_);
  }
  bool cancel_requested() const noexcept override {
    return (word_.load(std::memory_order_acquire) & cancel_bit) != 0;
  }

  int encode_value(lox_buffer* out) noexcept override {
    if constexpr (codec::is_encodable_v<R>) {
      try {
        std::string bytes;
        codec::encode_to(bytes, *this->value_);
        return lox_buffer_append(out, bytes.data(), bytes.size());
      } catch (...) {
        return LOX_ENOMEM;
      }
    } else {
      static_cast<void>(out);
      return LOX_EINVAL;
    }
  }

  // The word part of cancel(): safe from any thread at any time.
  void cancel_state() noexcept {
    std::uintptr_t w = word_.load(std::memory_order_acquire);
    for (;;) {
      if ((w & done_bit) || ((w & claimed_bit) && (w & cancel_bit))) return;
      const std::uintptr_t nw = (w & claimed_bit) ? (w | cancel_bit) : (w | cancel_bit | done_bit);
      if (word_.compare_exchange_weak(w, nw, std::memory_order_acq_rel, std::memory_order_acquire)) {
        if (!(w & claimed_bit) && (w & ~flag_bits)) complete_promise(promise_of(w));
        return;
      }
    }
  }

  // Takes the right to write the outcome; false when it was taken or the
  // state was cancelled before it started.
  bool claim() noexcept {
    std::uintptr_t w = word_.load(std::memory_order_relaxed);
    do {
      if (w & (claimed_bit | cancel_bit | done_bit)) return false;
    } while (!word_.compare_exchange_weak(w, w | claimed_bit, std::memory_order_acq_rel, std::memory_order_relaxed));
    return true;
  }

  // After claim() and writing the outcome: marks it done and completes an
  // attached promise (its callbacks and dependents run in this thread).
  void finish() noexcept {
    const std::uintptr_t w = word_.fetch_or(done_bit, std::memory_order_acq_rel);
    if (w & ~flag_bits) complete_promise(promise_of(w));
  }

  // The outcome (with value_holder's value_ and status_ below), written
  // by the claimer before finish(). A failure's text lives in error_ (a
  // lox::error when the C layer reported it), so a successful task
  // carries no string.
  std::exception_ptr error_;
  // The task's own C node when it has one (a thread task with
  // predecessors): then handle() is that node and no promise is made. Set
  // by the scatter before the state is handed to anyone else.
  lox_task* node_ = nullptr;

 protected:
  explicit value_state(std::uint32_t refs) noexcept : value_holder<R>(refs) {}
  ~value_state() override {
    const std::uintptr_t w = word_.load(std::memory_order_acquire);
    if (w & ~flag_bits) lox_task_release(promise_of(w));
    if (node_) lox_task_release(node_);
  }

 private:
  static bool cancelled_unstarted(std::uintptr_t w) noexcept {
    return (w & cancel_bit) && (w & done_bit) && !(w & claimed_bit);
  }
  static lox_task* promise_of(std::uintptr_t w) noexcept { return reinterpret_cast<lox_task*>(w & ~flag_bits); }

  void complete_promise(lox_task* h) noexcept {
    const int st = status();
    std::string text;
    if (st != LOX_OK) {
      try {
        if (error_) text = failure_text(error_);
      } catch (...) {
      }
    }
    lox_task_complete(h, st, static_cast<state_base*>(this), text.empty() ? nullptr : text.c_str());
  }

  std::atomic<std::uintptr_t> word_{0};

 public:
  // Last, so a derived record's small fields fill the tail padding.
  int status_ = LOX_OK;
};

}  // namespace detail
}  // namespace lox

#endif  // LOX_DETAIL_TASK_STATE_HPP
