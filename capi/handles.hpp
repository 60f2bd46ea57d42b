// SPDX-License-Identifier: Apache-2.0
// What the opaque C handles are. Each wraps its core object directly (no
// extra indirection on hot paths).
#pragma once

#include <lox/lox.h>

#include <memory>
#include <string>

#include "common/results.hpp"
#include "process/pool.hpp"
#include "queue/announcement.hpp"
#include "queue/funnel.hpp"
#include "queue/queue.hpp"
#include "sync/index_semaphore.hpp"
#include "sync/lock.hpp"
#include "sync/qlock.hpp"
#include "sync/rwlock.hpp"
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

struct lox_lock {
  lox::core::sync::Lock lock;
};

struct lox_lightswitch {
  explicit lox_lightswitch(lox::core::sync::Lock& l) : ls(l) {}
  lox::core::sync::LightSwitch ls;
};

struct lox_rwlock {
  lox::core::sync::RWLock rw;
};

struct lox_qlock {
  lox::core::sync::QLock q;
};

struct lox_index_semaphore {
  explicit lox_index_semaphore(size_t n) : sem(n) {}
  lox::core::sync::IndexSemaphore sem;
};

struct lox_queue {
  explicit lox_queue(size_t maxsize) : q(maxsize) {}
  lox::core::queue::Queue q;
};

struct lox_announcement {
  explicit lox_announcement(std::unique_ptr<lox::core::queue::Announcement> h) : a(std::move(h)) {}
  std::unique_ptr<lox::core::queue::Announcement> a;
};

struct lox_funnel {
  explicit lox_funnel(std::unique_ptr<lox::core::queue::Funnel> h) : f(std::move(h)) {}
  std::unique_ptr<lox::core::queue::Funnel> f;
};

struct lox_process {
  template <typename... Args>
  explicit lox_process(Args&&... args) : pool(std::forward<Args>(args)...) {}
  lox::core::process::Pool pool;
};

// What a process task appends its result to (lives in the worker).
struct lox_buffer {
  std::string* out;
};
