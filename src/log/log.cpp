// SPDX-License-Identifier: Apache-2.0
#include "log/log.hpp"

#include <spdlog/logger.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/error.hpp"

namespace lox::core::log {
namespace {

// Forwards each formatted message to the user's C callback. No sink mutex
// (spdlog's null_mutex): the callback is documented to run in several
// threads at once, and a lock held around user code would deadlock any
// callback that waits for another thread that logs. The calling thread's
// lox_last_error() is kept across the call: liblox calls the callback makes
// must not replace the detail of the call that logged.
class CallbackSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  CallbackSink(Callback fn, void* ctx) : fn_(fn), ctx_(ctx) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string text(msg.payload.data(), msg.payload.size());
    std::string detail = last_error();
    fn_(ctx_, static_cast<int>(msg.level), text.c_str());
    set_last_error(detail);
  }
  void flush_() override {}

 private:
  Callback fn_;
  void* ctx_;
};

// Messages logged by a thread while it is inside a sink (the callback made
// a liblox call that logs). Delivering them at once would re-enter the
// callback from itself; they wait here, on the stack of the outer write(),
// and are delivered in order when the callback returns, still inside the
// call that logged. A callback that logs for every message it receives
// would never end, so one outer message defers at most kMaxDeferred; later
// ones are dropped and counted in one closing WARN message.
struct Deferred {
  static constexpr size_t kMaxDeferred = 16;
  std::vector<std::pair<Level, std::string>> messages;
  size_t taken = 0;  // messages accepted for this outer write, delivered or not
  size_t dropped = 0;
};
// Trivially destructible on purpose: valid during thread exit too.
thread_local Deferred* tl_deferred = nullptr;

spdlog::level::level_enum to_spdlog(Level l) {
  // spdlog's enum has `critical` between error and off.
  return l == Level::off ? spdlog::level::off : static_cast<spdlog::level::level_enum>(static_cast<int>(l));
}

Level initial_level() noexcept {
  Level l = Level::warn;
  if (const char* env = std::getenv("LOX_LOG_LEVEL")) {
    if (!parse_level(env, l)) l = Level::warn;
  }
  return l;
}

struct State {
  std::atomic<int> level{static_cast<int>(initial_level())};
  std::mutex mu;  // guards `logger` replacement
  std::shared_ptr<spdlog::logger> logger;

  State() { logger = make_stderr_logger(); }

  static std::shared_ptr<spdlog::logger> make_stderr_logger() {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    auto lg = std::make_shared<spdlog::logger>("lox", std::move(sink));
    lg->set_pattern("%^[lox %l]%$ %v");
    lg->set_level(spdlog::level::trace);  // filtering happens in `enabled`
    return lg;
  }
};

State& state() {
  // Leaked on purpose: logging must keep working from other libraries'
  // static destructors and from threads still running at exit.
  static State* s = new State();
  return *s;
}

}  // namespace

bool parse_level(std::string_view text, Level& out) noexcept {
  std::string t;
  for (char c : text) t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  static constexpr std::string_view names[] = {"trace", "debug", "info", "warn", "error", "off"};
  for (int i = 0; i < 6; ++i) {
    if (t == names[i] || (t.size() == 1 && t[0] == '0' + i)) {
      out = static_cast<Level>(i);
      return true;
    }
  }
  if (t == "warning") return out = Level::warn, true;
  return false;
}

Level level() noexcept { return static_cast<Level>(state().level.load(std::memory_order_relaxed)); }

void set_level(Level l) noexcept {
  int v = std::clamp(static_cast<int>(l), 0, static_cast<int>(Level::off));
  state().level.store(v, std::memory_order_relaxed);
}

void set_callback(Callback fn, void* ctx) noexcept {
  try {
    std::shared_ptr<spdlog::logger> lg;
    if (fn) {
      lg = std::make_shared<spdlog::logger>("lox", std::make_shared<CallbackSink>(fn, ctx));
      lg->set_level(spdlog::level::trace);
    } else {
      lg = State::make_stderr_logger();
    }
    std::lock_guard lock(state().mu);
    state().logger = std::move(lg);
  } catch (...) {
    // Out of memory: keep the previous sink.
  }
}

namespace {

// Hands one message to the current sink (read afresh: a callback may have
// replaced it).
void deliver(Level l, std::string_view message) noexcept {
  try {
    std::shared_ptr<spdlog::logger> lg;
    {
      std::lock_guard lock(state().mu);
      lg = state().logger;
    }
    lg->log(to_spdlog(l), "{}", message);
  } catch (...) {
  }
}

}  // namespace

void write(Level l, std::string_view message) noexcept {
  if (Deferred* d = tl_deferred) {  // inside a sink on this thread: defer
    if (d->taken >= Deferred::kMaxDeferred) {
      ++d->dropped;
      return;
    }
    try {
      d->messages.emplace_back(l, std::string(message));
      ++d->taken;
    } catch (...) {
      ++d->dropped;
    }
    return;
  }
  Deferred deferred;
  tl_deferred = &deferred;
  deliver(l, message);
  // Deferred messages may defer more (up to the bound): deliver until none
  // is left. Index-based: delivering appends to the vector.
  for (size_t i = 0; i < deferred.messages.size(); ++i) {
    std::string text;
    text.swap(deferred.messages[i].second);
    deliver(deferred.messages[i].first, text);
  }
  if (deferred.dropped != 0 && enabled(Level::warn)) {
    // Whatever this one logs in turn is dropped without a further note.
    deferred.taken = Deferred::kMaxDeferred;
    try {
      deliver(Level::warn, fmt::format("log: {} message(s) logged from inside the log callback were dropped (at most "
                                       "{} are delivered after each message)",
                                       deferred.dropped, Deferred::kMaxDeferred));
    } catch (...) {
    }
  }
  tl_deferred = nullptr;
}

}  // namespace lox::core::log
