// What the opaque C handles are. Each wraps its core object directly (no
// extra indirection on hot paths).
#pragma once

#include <lox/lox.h>

#include <memory>

#include "common/results.hpp"
#include "thread/pool.hpp"

struct lox_thread {
  template <typename... Args>
  explicit lox_thread(Args&&... args) : pool(std::forward<Args>(args)...) {}
  lox::core::thread::Pool pool;
};

struct lox_results {
  explicit lox_results(std::unique_ptr<lox::core::Results> r) : results(std::move(r)) {}
  std::unique_ptr<lox::core::Results> results;
};
