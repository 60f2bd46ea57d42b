// SPDX-License-Identifier: Apache-2.0
#include "common/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace lox::core {
namespace {
long futex(const std::atomic<uint32_t>* addr, int op, uint32_t val, const timespec* ts) noexcept {
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
  return syscall(SYS_futex, reinterpret_cast<const uint32_t*>(addr), op | FUTEX_PRIVATE_FLAG, val, ts, nullptr,
                 FUTEX_BITSET_MATCH_ANY);
}
}  // namespace

bool futex_wait(const std::atomic<uint32_t>& word, uint32_t expected, const Deadline& deadline) noexcept {
  if (deadline.is_never()) {
    futex(&word, FUTEX_WAIT_BITSET, expected, nullptr);
    return true;
  }
  if (deadline.expired()) return false;
  // Absolute monotonic deadline: a retry after EINTR or a spurious wake-up
  // does not extend the wait.
  timespec ts = deadline.to_timespec();
  long rc = futex(&word, FUTEX_WAIT_BITSET, expected, &ts);
  if (rc == -1 && errno == ETIMEDOUT) return false;
  return true;
}

void futex_wake(const std::atomic<uint32_t>& word, int count) noexcept {
  futex(&word, FUTEX_WAKE_BITSET, static_cast<uint32_t>(count), nullptr);
}

}  // namespace lox::core
