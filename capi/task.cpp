// SPDX-License-Identifier: Apache-2.0
// lox_task_*, lox_inputs_* and lox_completions_*: task handles over
// core::graph::Node, and the completions objects of every source.
#include <lox/lox.h>

#include <cstring>
#include <vector>

#include "boundary.hpp"
#include "calls.hpp"
#include "graph/completions.hpp"
#include "handle.hpp"
#include "task_node.hpp"
#include "thread/round.hpp"

using namespace lox;
using lox::capi::Status;
using lox::core::graph::Node;

namespace {
void free_task(void* owner) noexcept { capi::destroy_handle("task release", static_cast<lox_task*>(owner)); }

lox_task* handle_of(const Node* n) noexcept { return n ? static_cast<lox_task*>(n->owner()) : nullptr; }

// Frames of a process task's input (see lox_inputs_get): a 4-byte count,
// then per predecessor an 8-byte length and its bytes, then the own input.
uint64_t read_le(const unsigned char* p, size_t n) noexcept {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = v << 8 | p[i];
  return v;
}
// Parses a framed input: false when malformed. `count` gets the number of
// predecessor frames; `found` whether input `i` exists (i <= count), and
// then `data`/`n` its bytes.
bool parse_input(const void* in, size_t len, size_t i, size_t& count, bool& found, const unsigned char*& data,
                 size_t& n) noexcept {
  found = false;
  if (!in || len < 4) return false;
  auto* p = static_cast<const unsigned char*>(in);
  const uint64_t frames = read_le(p, 4);
  size_t at = 4;
  for (uint64_t k = 0; k < frames; ++k) {
    if (len - at < 8) return false;
    const uint64_t flen = read_le(p + at, 8);
    at += 8;
    if (flen > len - at) return false;
    if (k == i) {
      data = p + at;
      n = static_cast<size_t>(flen);
      found = true;
    }
    at += static_cast<size_t>(flen);
  }
  count = static_cast<size_t>(frames);
  if (i == frames) {
    data = p + at;
    n = len - at;
    found = true;
  }
  return true;
}
}  // namespace

lox_task::lox_task(Node::Kind kind) : core(kind, &free_task, this) {}

namespace lox::capi {

bool read_scatter_opts(const char* op, const lox_scatter_opts* given, bool process, lox_scatter_opts& o) noexcept {
  o = LOX_SCATTER_OPTS_INIT;
  if (!read_options(op, "lox_scatter_opts", given, o)) return false;
  if (o.n_after > kMaxPredecessors) {
    core::fail(Status::invalid, "{}: n_after is {} (at most {})", op, o.n_after, kMaxPredecessors);
    return false;
  }
  if (o.n_after > 0 && !o.after) {
    null_argument(op, "opts->after (with n_after > 0)");
    return false;
  }
  for (size_t i = 0; i < o.n_after; ++i) {
    if (!live(op, "opts->after[i]", o.after[i])) {
      core::fail(Status::invalid, "{}: opts->after[{}]: {}", op, i, core::last_error());
      return false;
    }
    if (process && !o.encode && o.after[i]->core.kind() == Node::Kind::thread) {
      core::fail(Status::invalid,
                 "{}: opts->after[{}] is a thread task, whose value a worker process cannot read: set opts->encode",
                 op, i);
      return false;
    }
  }
  return true;
}

int make_task(const char* op, Node::Kind kind, const lox_scatter_opts& o, TaskRef& out) noexcept {
  return guard(op, [&] {
    out.task = new_handle<lox_task>(kind);
    out.task->core.set_predecessors(o.n_after, [&](size_t i) { return &o.after[i]->core; });
    return LOX_OK;
  });
}

}  // namespace lox::capi

extern "C" {

LOX_API void lox_scatter_opts_init(lox_scatter_opts* opts) {
  if (opts) *opts = LOX_SCATTER_OPTS_INIT;
}

LOX_API int lox_task_wait(const lox_task* task, double timeout) {
  return capi::timed("task wait", "task", task, timeout, [&](const core::Deadline& d) {
    return task->core.wait(d) ? int{LOX_OK} : int{LOX_TIMEOUT};
  });
}

LOX_API int lox_task_done(const lox_task* task) {
  return capi::snapshot("task done", "task", task, 0, [&] { return task->core.outcome_ready() ? 1 : 0; });
}

LOX_API int lox_task_status(const lox_task* task) {
  if (!capi::live("task status", "task", task)) return LOX_EINVAL;
  if (!task->core.outcome_ready())
    return capi::to_c(core::fail(Status::bad_state, "task status: task {} has not completed", task->core.index()));
  return task->core.status();
}

LOX_API const char* lox_task_error(const lox_task* task) {
  if (!capi::live("task error", "task", task) || !task->core.outcome_ready()) return nullptr;
  return task->core.error();
}

LOX_API size_t lox_task_index(const lox_task* task) {
  return capi::snapshot("task index", "task", task, SIZE_MAX, [&] { return task->core.index(); });
}

LOX_API void* lox_task_value(const lox_task* task) {
  if (!capi::live("task value", "task", task) || !task->core.outcome_ready()) return nullptr;
  return task->core.value();
}

LOX_API int lox_task_bytes(const lox_task* task, const void** data, size_t* len) {
  constexpr const char* op = "task bytes";
  if (!capi::live(op, "task", task)) return LOX_EINVAL;
  if (!data) return capi::null_argument(op, "data");
  if (!len) return capi::null_argument(op, "len");
  if (task->core.kind() != Node::Kind::process)
    return capi::to_c(core::fail(Status::invalid, "{}: a thread task holds a value, not bytes (lox_task_value)", op));
  if (!task->core.outcome_ready())
    return capi::to_c(core::fail(Status::bad_state, "{}: task {} has not completed", op, task->core.index()));
  *data = task->core.bytes().data();
  *len = task->core.bytes().size();
  return LOX_OK;
}

LOX_API int lox_task_on_done(lox_task* task, lox_done_fn fn, void* ctx) {
  constexpr const char* op = "task on_done";
  if (!capi::live(op, "task", task)) return LOX_EINVAL;
  if (!fn) return capi::null_argument(op, "fn");
  auto call = [](void* f, void* c, Node& node) {
    reinterpret_cast<lox_done_fn>(f)(c, static_cast<lox_task*>(node.owner()));
  };
  bool registered = false;
  int st = capi::guard(op, [&] {
    registered = task->core.add_callback(call, reinterpret_cast<void*>(fn), ctx);
    return LOX_OK;
  });
  if (st != LOX_OK) return st;
  if (!registered) fn(ctx, task);  // completed already: called here, now
  return LOX_OK;
}

LOX_API int lox_task_create(size_t index, lox_task** out) {
  constexpr const char* op = "task create";
  if (!out) return capi::null_argument(op, "out");
  return capi::guard(op, [&] {
    lox_task* t = capi::new_handle<lox_task>(Node::Kind::thread);
    t->core.place(core::graph::ExternalHost::instance(), nullptr, nullptr, index);
    *out = t;
    return LOX_OK;
  });
}

LOX_API int lox_task_complete(lox_task* task, int status, void* value, const char* detail) {
  constexpr const char* op = "task complete";
  if (!capi::live(op, "task", task)) return LOX_EINVAL;
  if (task->core.host() != &core::graph::ExternalHost::instance())
    return capi::to_c(core::fail(Status::invalid, "{}: task {} belongs to a pool, which completes it", op,
                                 task->core.index()));
  std::string text;
  if (status != LOX_OK && detail) {
    int st = capi::guard(op, [&] {
      text = detail;
      return LOX_OK;
    });
    if (st != LOX_OK) return st;
  }
  if (!task->core.claim())
    return capi::to_c(core::fail(Status::bad_state, "{}: task {} was already completed or cancelled", op,
                                 task->core.index()));
  task->core.complete(status, value, {}, std::move(text));
  return LOX_OK;
}

LOX_API int lox_task_cancel(lox_task* task) {
  return capi::call("task cancel", "task", task, [&] { task->core.cancel(); });
}

LOX_API lox_task* lox_task_retain(lox_task* task) {
  if (!capi::live("task retain", "task", task)) return nullptr;
  task->core.retain();
  return task;
}

LOX_API void lox_task_release(lox_task* task) {
  if (!task || !capi::live("task release", "task", task)) return;
  task->core.release();
}

LOX_API int lox_task_cancelled(void) {
  const Node* node = Node::current();
  if (node && node->cancel_requested()) return 1;
  const core::thread::Round* round = core::thread::Round::current();
  return round && round->cancelled() ? 1 : 0;
}

LOX_API size_t lox_task_input_count(void) {
  const Node* node = Node::current();
  return node ? node->predecessor_count() : 0;
}

LOX_API const lox_task* lox_task_input(size_t i) {
  const Node* node = Node::current();
  return node ? handle_of(node->predecessor(i)) : nullptr;
}

LOX_API size_t lox_inputs_count(const void* in, size_t len) {
  size_t count = 0, n = 0;
  bool found;
  const unsigned char* data = nullptr;
  if (!parse_input(in, len, SIZE_MAX, count, found, data, n)) {
    core::fail(Status::invalid, "inputs count: not a framed input (too short, or a length runs past its end)");
    return SIZE_MAX;
  }
  return count;
}

LOX_API int lox_inputs_get(const void* in, size_t len, size_t i, const void** data, size_t* n) {
  constexpr const char* op = "inputs get";
  if (!in) return capi::null_argument(op, "in");
  if (!data) return capi::null_argument(op, "data");
  if (!n) return capi::null_argument(op, "n");
  const unsigned char* d = nullptr;
  size_t dn = 0, count = 0;
  bool found = false;
  if (!parse_input(in, len, i, count, found, d, dn))
    return capi::to_c(
        core::fail(Status::invalid, "{}: not a framed input (too short, or a length runs past its end)", op));
  if (!found)
    return capi::to_c(core::fail(Status::invalid, "{}: input {} out of range ({} predecessors, then the own input)", op,
                                 i, count));
  *data = d;
  *n = dn;
  return LOX_OK;
}

LOX_API int lox_completions_of(lox_task* const* tasks, size_t n, lox_completions** out) {
  constexpr const char* op = "completions of";
  if (!out) return capi::null_argument(op, "out");
  if (!tasks && n > 0) return capi::null_argument(op, "tasks (with n > 0)");
  for (size_t i = 0; i < n; ++i)
    if (!capi::live(op, "tasks[i]", tasks[i]))
      return capi::to_c(core::fail(Status::invalid, "{}: tasks[{}]: {}", op, i, core::last_error()));
  return capi::guard(op, [&] {
    std::vector<Node*> nodes(n);
    for (size_t i = 0; i < n; ++i) nodes[i] = &tasks[i]->core;
    auto c = std::make_unique<core::graph::NodeCompletions>(nodes.data(), n);
    *out = capi::new_handle<lox_completions>(std::move(c));
    return LOX_OK;
  });
}

LOX_API int lox_completions_next(lox_completions* c, double timeout, lox_completed* out) {
  constexpr const char* op = "completions next";
  return capi::timed(op, "completions", c, out, "out", timeout, [&](const core::Deadline& d) -> int {
    if (!capi::check_struct_size(op, "lox_completed", out->struct_size, sizeof(lox_completed), sizeof(lox_completed)))
      return LOX_EINVAL;
    core::Completed got;
    core::Status s = c->core->next(d, got);
    if (s == Status::closed) return capi::to_c(core::fail(Status::closed, "{}: every task was delivered", op));
    if (s != Status::ok) return capi::to_c(s);
    out->index = got.index;
    out->status = got.status;
    out->value = got.value;
    out->data = got.data;
    out->len = got.len;
    out->error = got.error;
    out->task = handle_of(got.node);
    return LOX_OK;
  });
}

LOX_API size_t lox_completions_remaining(const lox_completions* c) {
  return capi::snapshot("completions remaining", "completions", c, size_t{0}, [&] { return c->core->remaining(); });
}

LOX_API void lox_completions_destroy(lox_completions* c) { capi::destroy_handle("completions destroy", c); }

}  // extern "C"
