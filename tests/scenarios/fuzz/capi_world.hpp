// SPDX-License-Identifier: Apache-2.0
// The C-API harness's model of every live object of one input: what each
// call must return and what each getter must read. One input is one
// single-threaded program (pool workers aside); the model knows when a call
// could block and then gives it a timeout of at most 1 ms.
#pragma once

#include <lox/lox.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "capi_checks.hpp"
#include "fuzz_input.hpp"

namespace loxfuzz {

// Caps that keep one input fast.
inline constexpr size_t kMaxOps = 200;
inline constexpr size_t kMaxLive = 4;    // live handles per kind
inline constexpr size_t kMaxRound = 64;  // tasks per pool round

enum class Kind { lock, lightswitch, rwlock, qlock, semaphore, queue, announcement, funnel, thread, process, results };

struct Lock {
  lox_lock* h;
  int id;
  bool held = false;
};
struct Switch {
  lox_lightswitch* h;
  int lock_id;
  size_t count = 0;
};
struct RW {
  lox_rwlock* h;
  size_t readers = 0;
  bool writer = false;
};
struct QL {
  lox_qlock* h;
  bool held = false;
};
struct Sem {
  lox_index_semaphore* h;
  std::vector<bool> held;
};
struct Queue {
  lox_queue* h;
  size_t maxsize;
  std::deque<uintptr_t> items;
  bool closed = false;
  size_t put = 0, got = 0, done = 0;
};
struct AGroup {
  size_t maxsize;
  long long backlog_mode;
  bool finalized = false;
  std::deque<uintptr_t> backlog;
};
struct Ann {
  lox_announcement* h;
  std::shared_ptr<AGroup> g;
  bool member = false;  // the creator or a subscriber, until it unsubscribes
  size_t maxsize = 0;   // of its receive queue, 0 = unbounded
  std::deque<uintptr_t> items;
};
struct FGroup {
  size_t inputs = 0;
  std::map<uint64_t, std::vector<std::deque<uintptr_t>>> pending;  // jid -> per input
  std::deque<std::pair<uint64_t, std::vector<uintptr_t>>> ready;
};
struct Fun {
  lox_funnel* h;
  std::shared_ptr<FGroup> g;
  long index;  // -1 = top
};
// What one task of a round must deliver.
struct Outcome {
  int status = 0;
  uintptr_t value = 0;  // thread pool
  std::string bytes;    // process pool
};
struct TPool {
  lox_thread* h;
  size_t max_workers;
  bool has_fn;
  std::vector<Outcome> round;
  // task_self is queued: it may run in this thread (destroy and gather
  // help run queued tasks) and set this thread's detail.
  bool self_queued = false;
};
struct PPool {
  lox_process* h;
  size_t max_message;
  std::vector<Outcome> round;
};
struct Res {
  lox_results* h;
  bool bytes;  // process-pool results
  std::vector<Outcome> expect;
};
// A destroyed handle, kept to check that calls on it are refused.
struct Dead {
  Kind kind;
  void* h;
  uint64_t stamp;  // destroys counted when it died
};

struct World {
  explicit World(Input& input) : in(input) {}
  Input& in;
  std::vector<Lock> locks;
  std::vector<Switch> switches;
  std::vector<RW> rwlocks;
  std::vector<QL> qlocks;
  std::vector<Sem> sems;
  std::vector<Queue> queues;
  std::vector<Ann> anns;
  std::vector<Fun> funs;
  std::vector<TPool> tpools;
  std::vector<PPool> ppools;
  std::vector<Res> results;
  std::vector<Dead> dead;
  int next_lock_id = 0;
  uintptr_t next_token = 0x1000;
  // Handles destroyed so far (ours, plus one per gather: a gather that
  // times out destroys the results handle it made). Calls on a dead handle
  // are only checked while fewer than 1024 destroys followed its own.
  uint64_t destroys = 0;

  // An item: unique, or NULL now and then (NULL is a valid item).
  void* item() {
    if ((in.u8() & 15) == 0) return nullptr;
    return reinterpret_cast<void*>(next_token++);
  }
  void died(Kind k, void* h) {
    ++destroys;
    dead.push_back({k, h, destroys});
  }
  // Picks a live element (nullptr when none).
  template <typename T>
  T* pick(std::vector<T>& v) {
    return v.empty() ? nullptr : &v[in.below(v.size())];
  }
  template <typename T>
  void erase(std::vector<T>& v, const T* p) {
    v.erase(v.begin() + (p - v.data()));
  }
};

// One operation of each family; each reads its arguments from w.in.
void op_sync(World& w, unsigned code);
void op_queue(World& w, unsigned code);
void op_pool(World& w, unsigned code);
void op_misc(World& w, unsigned code);
// Compare every getter of every live object with the model.
void check_sync(World& w);
void check_queues(World& w);
void check_pools(World& w);
// Destroy everything left, in an order chosen by the input.
void teardown_sync(World& w);
void teardown_queues(World& w);
void teardown_pools(World& w);

}  // namespace loxfuzz
