// SPDX-License-Identifier: Apache-2.0
// The quarantine of destroyed handles and the report of a dead one.
#include "handle.hpp"

#include <array>
#include <mutex>
#include <type_traits>

#include "common/error.hpp"
#include "log/log.hpp"

namespace lox::capi {

namespace {

struct Parked {
  void* memory = nullptr;
  std::align_val_t alignment{};
};

// A ring of the last kQuarantineSize destroyed handles. A constant-initialised
// global with a trivial destructor: it is usable from the first call to the
// last, including handles destroyed by other static destructors at exit.
// What it parks is freed when the library is unloaded (dlclose) or the
// process exits (drain_quarantine below), so neither LeakSanitizer nor
// valgrind sees parked memory as leaked; a handle destroyed after that is
// freed at once.
class Quarantine {
 public:
  void park(Parked p) noexcept {
    Parked evicted;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (drained_) {
        evicted = p;
      } else {
        evicted = ring_[next_];
        ring_[next_] = p;
        next_ = (next_ + 1) % ring_.size();
      }
    }
    release(evicted);
  }

  void drain() noexcept {
    std::array<Parked, kQuarantineSize> parked;
    {
      std::lock_guard<std::mutex> lock(mu_);
      drained_ = true;
      parked = ring_;
      ring_ = {};
    }
    for (const Parked& p : parked) release(p);
  }

 private:
  static void release(const Parked& p) noexcept {
    if (p.memory) ::operator delete(p.memory, p.alignment);
  }

  std::mutex mu_;
  std::array<Parked, kQuarantineSize> ring_{};
  size_t next_ = 0;
  bool drained_ = false;
};
static_assert(std::is_trivially_destructible_v<Quarantine>, "the quarantine must outlive every static destructor");
static_assert(std::is_trivially_destructible_v<BlockCache<lox_task>>, "the task memory must outlive every static destructor");

constinit Quarantine the_quarantine;

}  // namespace

constinit BlockCache<lox_task> task_memory(object_offset<lox_task>() + sizeof(lox_task),
                                           allocation_alignment<lox_task>());

namespace {
// Runs when liblox is unloaded or the process exits (after main returns).
__attribute__((destructor)) void drain_quarantine() {
  the_quarantine.drain();
  task_memory.drain();
}
}  // namespace

void quarantine(void* memory, std::align_val_t alignment) noexcept { the_quarantine.park(Parked{memory, alignment}); }

void report_dead(const char* op, const char* what, const void* h, const char* type, uint32_t magic) noexcept {
  if (magic == kDeadMagic)
    core::fail(core::Status::invalid, "{}: {} {} is a destroyed {} (used after its destroy call)", op, what, h, type);
  else
    core::fail(core::Status::invalid, "{}: {} {} is not a {} (another handle type, or not a liblox handle)", op, what,
               h, type);
  core::log::emit(core::log::Level::error, "{}", core::last_error());
}

}  // namespace lox::capi
