// SPDX-License-Identifier: Apache-2.0
// IndexSemaphore: n resources numbered [0, n); acquire hands out a free
// index, release returns it. The held set is a bitmap of 64-bit words (one
// word for n <= 64): acquire is one CAS setting the lowest free bit, release
// one fetch_and that also proves the index was held (double release and
// release of a never-acquired index are detected).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/deadline.hpp"
#include "common/futex.hpp"
#include "common/status.hpp"
#include "sync/wait.hpp"

namespace lox::core::sync {

class IndexSemaphore {
 public:
  // The largest n: the bitmap takes n/8 bytes up front and an acquire may
  // scan all of it, so a size far beyond any set of real resources is
  // refused rather than allocated (and (n + 63) / 64 cannot wrap).
  static constexpr size_t kMaxSize = size_t{1} << 24;

  explicit IndexSemaphore(size_t n);  // 0 < n <= kMaxSize (else invalid_argument); throws bad_alloc
  ~IndexSemaphore();
  IndexSemaphore(const IndexSemaphore&) = delete;
  IndexSemaphore& operator=(const IndexSemaphore&) = delete;

  Status acquire(const Deadline& deadline, size_t& index) noexcept;
  Status release(size_t index) noexcept;  // invalid: out of range; bad_state: not held
  size_t size() const noexcept { return n_; }
  size_t available() const noexcept;
  size_t waiting() const noexcept { return life_.waiters(); }

 private:
  bool try_acquire(size_t& index) noexcept;
  uint64_t mask(size_t word) const noexcept;  // the bits of `word` that are real indices

  size_t n_;
  size_t words_;
  std::unique_ptr<std::atomic<uint64_t>[]> held_;
  EventCount ec_;
  Lifeline life_;
};

}  // namespace lox::core::sync
