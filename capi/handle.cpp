// The quarantine of destroyed handles and the report of a dead one.
#include "handle.hpp"

#include <array>
#include <mutex>

#include "common/error.hpp"
#include "log/log.hpp"

namespace lox::capi {

namespace {

struct Parked {
  void* memory = nullptr;
  size_t size = 0;
  std::align_val_t alignment{};
};

// A ring of the last kQuarantineSize destroyed handles. Never destructed:
// handles may be destroyed by other static destructors at exit, and what is
// parked there is still reachable (not a leak for LeakSanitizer or valgrind).
class Quarantine {
 public:
  void park(Parked p) noexcept {
    Parked evicted;
    {
      std::lock_guard<std::mutex> lock(mu_);
      evicted = ring_[next_];
      ring_[next_] = p;
      next_ = (next_ + 1) % ring_.size();
    }
    if (evicted.memory) ::operator delete(evicted.memory, evicted.alignment);
  }

 private:
  std::mutex mu_;
  std::array<Parked, kQuarantineSize> ring_{};
  size_t next_ = 0;
};

Quarantine& the_quarantine() {
  static Quarantine* q = new Quarantine();
  return *q;
}

}  // namespace

void quarantine(void* memory, size_t size, std::align_val_t alignment) noexcept {
  the_quarantine().park(Parked{memory, size, alignment});
}

void report_dead(const char* op, const char* what, const void* h, const char* type, uint32_t magic) noexcept {
  if (magic == kDeadMagic)
    core::fail(core::Status::invalid, "{}: {} {} is a destroyed {} (used after its destroy call)", op, what, h, type);
  else
    core::fail(core::Status::invalid, "{}: {} {} is not a {} (another handle type, or not a liblox handle)", op,
               what, h, type);
  core::log::emit(core::log::Level::error, "{}", core::last_error());
}

}  // namespace lox::capi
