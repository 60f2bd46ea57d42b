// SPDX-License-Identifier: Apache-2.0
#include "sync/index_semaphore.hpp"

#include <stdexcept>

#include "common/error.hpp"

namespace lox::core::sync {

namespace {
size_t checked_size(size_t n) {
  if (n == 0 || n > IndexSemaphore::kMaxSize) throw std::invalid_argument("index semaphore size out of range");
  return n;
}
}  // namespace

IndexSemaphore::IndexSemaphore(size_t n)
    : n_(checked_size(n)), words_((n_ + 63) / 64), held_(std::make_unique<std::atomic<uint64_t>[]>(words_)) {
  for (size_t i = 0; i < words_; ++i) held_[i].store(0, std::memory_order_relaxed);
}

IndexSemaphore::~IndexSemaphore() {
  retire("index_semaphore", life_, [this] { ec_.notify_all(); });
}

uint64_t IndexSemaphore::mask(size_t word) const noexcept {
  size_t bits = n_ - word * 64;
  return bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
}

size_t IndexSemaphore::available() const noexcept {
  size_t held = 0;
  for (size_t i = 0; i < words_; ++i)
    held += static_cast<size_t>(__builtin_popcountll(held_[i].load(std::memory_order_relaxed)));
  return n_ - held;
}

bool IndexSemaphore::try_acquire(size_t& index) noexcept {
  for (size_t w = 0; w < words_; ++w) {
    const uint64_t m = mask(w);
    uint64_t v = held_[w].load(std::memory_order_seq_cst);
    while ((~v & m) != 0) {
      uint64_t bit = ~v & m & (~(~v & m) + 1);  // lowest free bit
      if (held_[w].compare_exchange_weak(v, v | bit, std::memory_order_seq_cst, std::memory_order_relaxed)) {
        index = w * 64 + static_cast<size_t>(__builtin_ctzll(bit));
        return true;
      }
    }
  }
  return false;
}

Status IndexSemaphore::acquire(const Deadline& deadline, size_t& index) noexcept {
  if (try_acquire(index)) return Status::ok;
  if (deadline.expired()) return Status::timeout;
  Inside in(life_);
  Wait w = wait_until(
      ec_, deadline, [&] { return try_acquire(index); }, [this] { return life_.is_dead(); });
  if (w == Wait::acquired) return Status::ok;
  if (w == Wait::timed_out) return Status::timeout;
  return fail(Status::bad_state, "index_semaphore acquire: the semaphore was destroyed while this thread waited");
}

Status IndexSemaphore::release(size_t index) noexcept {
  if (index >= n_) return fail(Status::invalid, "index_semaphore release: index {} out of range [0, {})", index, n_);
  const uint64_t bit = uint64_t{1} << (index % 64);
  if ((held_[index / 64].fetch_and(~bit, std::memory_order_seq_cst) & bit) == 0)
    return fail(Status::bad_state, "index_semaphore release: index {} is not held (double release or never acquired)",
                index);
  if (ec_.has_waiters()) ec_.notify_one();
  return Status::ok;
}

}  // namespace lox::core::sync
