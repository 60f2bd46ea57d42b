#include "log/log.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

namespace lox::core::log {
namespace {

// Forwards each formatted message to the user's C callback.
class CallbackSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  CallbackSink(Callback fn, void* ctx) : fn_(fn), ctx_(ctx) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string text(msg.payload.data(), msg.payload.size());
    fn_(ctx_, static_cast<int>(msg.level), text.c_str());
  }
  void flush_() override {}

 private:
  Callback fn_;
  void* ctx_;
};

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

void write(Level l, std::string_view message) noexcept {
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

}  // namespace lox::core::log
