// SPDX-License-Identifier: Apache-2.0
// What the opaque C handles are. Each wraps its core object, always as the
// member `core`, directly (no extra indirection on hot paths).
#pragma once

#include <lox/lox.h>

#include <memory>
#include <string>

#include "common/completions.hpp"
#include "common/results.hpp"
#include "graph/node.hpp"
#include "process/pool.hpp"
#include "queue/announcement.hpp"
#include "queue/funnel.hpp"
#include "queue/queue.hpp"
#include "sync/index_semaphore.hpp"
#include "sync/light_switch.hpp"
#include "sync/lock.hpp"
#include "sync/qlock.hpp"
#include "sync/rwlock.hpp"
#include "thread/pool.hpp"

struct lox_thread {
  template <typename... Args>
  explicit lox_thread(Args&&... args) : core(std::forward<Args>(args)...) {}
  lox::core::thread::Pool core;
};

struct lox_results {
  explicit lox_results(std::unique_ptr<lox::core::Results> r) : core(std::move(r)) {}
  std::unique_ptr<lox::core::Results> core;
};

struct lox_lock {
  lox::core::sync::Lock core;
};

struct lox_lightswitch {
  explicit lox_lightswitch(lox::core::sync::Lock& l) : core(l) {}
  lox::core::sync::LightSwitch core;
};

struct lox_rwlock {
  lox::core::sync::RWLock core;
};

struct lox_qlock {
  lox::core::sync::QLock core;
};

struct lox_index_semaphore {
  explicit lox_index_semaphore(size_t n) : core(n) {}
  lox::core::sync::IndexSemaphore core;
};

struct lox_queue {
  explicit lox_queue(size_t maxsize) : core(maxsize) {}
  lox::core::queue::Queue core;
};

struct lox_announcement {
  explicit lox_announcement(std::unique_ptr<lox::core::queue::Announcement> h) : core(std::move(h)) {}
  std::unique_ptr<lox::core::queue::Announcement> core;
};

struct lox_funnel {
  explicit lox_funnel(std::unique_ptr<lox::core::queue::Funnel> h) : core(std::move(h)) {}
  std::unique_ptr<lox::core::queue::Funnel> core;
};

struct lox_process {
  template <typename... Args>
  explicit lox_process(Args&&... args) : core(std::forward<Args>(args)...) {}
  lox::core::process::Pool core;
};

// A task handle: the graph node itself, reference counted (the handle's
// memory goes when the node's last reference does).
struct lox_task {
  explicit lox_task(lox::core::graph::Node::Kind kind);
  lox::core::graph::Node core;
};

struct lox_completions {
  explicit lox_completions(std::unique_ptr<lox::core::Completions> c) : core(std::move(c)) {}
  std::unique_ptr<lox::core::Completions> core;
};

// What a process task appends its result to (lives in the worker).
struct lox_buffer {
  std::string* out;
};
