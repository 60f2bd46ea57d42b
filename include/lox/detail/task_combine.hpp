// SPDX-License-Identifier: Apache-2.0
// liblox C++ layer: tasks this layer completes itself, from the
// completion callbacks of other tasks: task::then and lox::when_all.
// Included by <lox/task.hpp> after lox::task.
#ifndef LOX_DETAIL_TASK_COMBINE_HPP
#define LOX_DETAIL_TASK_COMBINE_HPP

#include <lox/detail/task_state.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace lox {
namespace detail {

// The base of a state completed by callbacks: made with two references
// (the returned task and the pending callbacks' share, dropped by the
// last callback).
template <class U>
class made_state : public value_state<U> {
 public:
  // Completes with `src`'s failure (same status and exception).
  void fail_like(const state_base& src) noexcept {
    if (!this->claim()) return;
    this->status_ = src.status();
    try {
      this->error_ = src.failure(src.index());
    } catch (...) {
      this->error_ = std::current_exception();
    }
    this->finish();
  }
  // Completes with `make()`'s value (void: nothing), or its exception.
  template <class Make>
  void succeed_with(Make&& make) noexcept {
    if (!this->claim()) return;
    try {
      if constexpr (std::is_void_v<U>) {
        make();
      } else {
        this->value_.emplace(make());
      }
      this->status_ = LOX_OK;
    } catch (...) {
      this->error_ = std::current_exception();
      this->status_ = LOX_ETASK;
    }
    this->finish();
  }

 protected:
  made_state() noexcept : value_state<U>(2) {}
};

// ---- then --------------------------------------------------------------------

template <class R, class G>
struct then_result {
  using type = std::decay_t<std::invoke_result_t<G&, const R&>>;
};
template <class G>
struct then_result<void, G> {
  using type = std::decay_t<std::invoke_result_t<G&>>;
};

template <class R, class U, class G>
class then_state final : public made_state<U> {
 public:
  then_state(G g, task<R> src) : g_(std::move(g)), src_(std::move(src)) { this->set_index(src_.index()); }

  static void fire(then_state* self) noexcept {
    typed_state<R>& s = *self->src_.state_ptr();
    if (s.status() != LOX_OK) {
      self->fail_like(s);
    } else {
      self->succeed_with([self, &s]() -> U {
        if constexpr (std::is_void_v<R>) {
          static_cast<void>(s);
          return static_cast<U>(std::invoke(self->g_));
        } else {
          return static_cast<U>(std::invoke(self->g_, s.value()));
        }
      });
    }
    self->src_ = task<R>();  // the source is released once f ran
    self->release();
  }

 private:
  G g_;
  task<R> src_;
};

template <class R, class G>
auto make_then(const task<R>& t, G&& g) {
  using fn_t = std::decay_t<G>;
  static_assert(std::is_void_v<R> ? std::is_invocable_v<fn_t&> : std::is_invocable_v<fn_t&, const R&>,
                "lox: task::then: the function must be callable with the task's value as const R& (with nothing "
                "for a task<void>)");
  using U = typename then_result<R, fn_t>::type;
  lox_task* h = t.native_handle();
  auto* s = new then_state<R, U, fn_t>(std::forward<G>(g), t);
  task<U> out = adopt_task<U>(s);
  struct ctx {
    then_state<R, U, fn_t>* s;
    static void fire(ctx* c) noexcept {
      then_state<R, U, fn_t>::fire(c->s);
      delete c;
    }
  };
  try {
    on_done_raw(h, new ctx{s});
  } catch (...) {
    s->release();  // the callback's share
    throw;
  }
  return out;
}

// ---- when_all ----------------------------------------------------------------

template <class R>
using joined_t = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

template <class R>
joined_t<R> joined_value(const task<R>& t) {
  if constexpr (std::is_void_v<R>) {
    return std::monostate{};
  } else {
    return t.state_ptr()->value();
  }
}

// Done when every source is, or when the first fails. `Sources` holds the
// tasks; `build(sources)` makes the value once all succeeded.
template <class U, class Sources>
class join_state final : public made_state<U> {
 public:
  using build_fn = U (*)(const Sources&);
  join_state(Sources sources, std::size_t n, build_fn build)
      : sources_(std::move(sources)), left_(n), callbacks_(n), build_(build) {}

  // Registers one callback per source (`states[i]`), or completes now
  // when there are none. The callbacks together hold one reference.
  void start(const std::vector<state_base*>& states) {
    if (states.empty()) {
      this->succeed_with([this] { return build_(sources_); });
      this->release();
      return;
    }
    for (std::size_t i = 0; i < states.size(); ++i) {
      lox_task* h = nullptr;
      try {
        h = states[i]->handle();
        on_done_raw(h, new one{this, states[i]});
      } catch (...) {
        // The sources not registered will never call: count them now.
        const std::size_t missing = states.size() - i;
        this->fail_now(std::current_exception());
        if (callbacks_.fetch_sub(missing, std::memory_order_acq_rel) == missing) this->release();
        throw;
      }
    }
  }

 private:
  struct one {
    join_state* s;
    state_base* src;
    static void fire(one* c) noexcept {
      join_state* s = c->s;
      if (c->src->status() != LOX_OK) {
        s->fail_like(*c->src);
      } else if (s->left_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        s->succeed_with([s] { return s->build_(s->sources_); });
      }
      delete c;
      if (s->callbacks_.fetch_sub(1, std::memory_order_acq_rel) == 1) s->release();
    }
  };
  void fail_now(std::exception_ptr e) noexcept {
    if (!this->claim()) return;
    this->error_ = std::move(e);
    this->status_ = LOX_ENOMEM;
    this->finish();
  }

  Sources sources_;
  std::atomic<std::size_t> left_;
  std::atomic<std::size_t> callbacks_;
  build_fn build_;
};

template <class... R>
auto make_when_all(const task<R>&... tasks) {
  using U = std::tuple<joined_t<R>...>;
  using sources = std::tuple<task<R>...>;
  std::vector<state_base*> states{static_cast<state_base*>(tasks.state_ptr())...};
  for (state_base* s : states) {
    if (!s) throw error(LOX_EINVAL, "when_all: a task is empty (default-constructed or moved from)");
  }
  auto* s = new join_state<U, sources>(sources(tasks...), sizeof...(R), [](const sources& src) -> U {
    return std::apply([](const task<R>&... t) { return U(joined_value(t)...); }, src);
  });
  if (!states.empty()) s->set_index(states.front()->index());
  task<U> out = adopt_task<U>(s);
  s->start(states);
  return out;
}

template <class R>
auto make_when_all_vector(const std::vector<task<R>>& tasks) {
  using U = std::conditional_t<std::is_void_v<R>, void, std::vector<joined_t<R>>>;
  using sources = std::vector<task<R>>;
  std::vector<state_base*> states;
  states.reserve(tasks.size());
  for (const task<R>& t : tasks) {
    if (!t.valid()) throw error(LOX_EINVAL, "when_all: a task is empty (default-constructed or moved from)");
    states.push_back(t.state_ptr());
  }
  auto* s = new join_state<std::conditional_t<std::is_void_v<U>, std::monostate, U>, sources>(
      tasks, tasks.size(), [](const sources& src) {
        if constexpr (std::is_void_v<R>) {
          static_cast<void>(src);
          return std::monostate{};
        } else {
          std::vector<R> v;
          v.reserve(src.size());
          for (const task<R>& t : src) v.push_back(t.state_ptr()->value());
          return v;
        }
      });
  if (!states.empty()) s->set_index(states.front()->index());
  auto out = adopt_task(static_cast<typed_state<std::conditional_t<std::is_void_v<U>, std::monostate, U>>*>(s));
  s->start(states);
  if constexpr (std::is_void_v<R>) {
    return out.then([](const std::monostate&) {});
  } else {
    return out;
  }
}

}  // namespace detail
}  // namespace lox

#endif  // LOX_DETAIL_TASK_COMBINE_HPP
