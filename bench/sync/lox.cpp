// SPDX-License-Identifier: Apache-2.0
// liblox's peers: lox_lock (and lox::lock through the C++ layer), lox_qlock,
// lox_rwlock, lox_index_semaphore. Every call's status is checked (a
// compare and a never-taken branch in the loop; the failure path is out of
// line).
#include "sync.hpp"

#include "../common/output.hpp"

#include <lox/lox.h>
#include <lox/lox.hpp>

namespace lox_bench::sync {

// Each p.run names a peer, then its lock and its unlock.
// clang-format off
void lox_lock_pairs(Pairs& p) {
  lox_lock* ll = nullptr;
  must(lox_lock_create(&ll), "lox_lock_create");
  p.run("lox_lock", [&] { must(lox_lock_acquire(ll, LOX_FOREVER), "acquire"); },
        [&] { must(lox_lock_release(ll), "release"); });
  lox_lock_destroy(ll);
  {
    lox::lock cl;
    p.run("lox::lock (C++ layer)", [&] { cl.lock(); }, [&] { cl.unlock(); });
  }
  lox_qlock* ql = nullptr;
  must(lox_qlock_create(&ql), "lox_qlock_create");
  p.run("lox_qlock", [&] { must(lox_qlock_acquire(ql, LOX_FOREVER), "acquire"); },
        [&] { must(lox_qlock_release(ql), "release"); });
  lox_qlock_destroy(ql);
}
// clang-format on

void lox_index_semaphore_pairs(Pairs& p) {
  lox_index_semaphore* is = nullptr;
  must(lox_index_semaphore_create(4, &is), "lox_index_semaphore_create");
  size_t idx = 0;
  p.run(
      "lox_index_semaphore", [&] { must(lox_index_semaphore_acquire(is, LOX_FOREVER, &idx), "acquire"); },
      [&] { must(lox_index_semaphore_release(is, idx), "release"); });
  lox_index_semaphore_destroy(is);
}

namespace {

struct LoxRwPairs final : RwPairs {
  lox_rwlock* rw = nullptr;
  LoxRwPairs() { must(lox_rwlock_create(&rw), "lox_rwlock_create"); }
  ~LoxRwPairs() override { lox_rwlock_destroy(rw); }
  void read(Pairs& p) override {
    p.run(
        "lox_rwlock read", [&] { must(lox_rwlock_acquire(rw, LOX_READ, LOX_FOREVER), "acquire"); },
        [&] { must(lox_rwlock_release(rw, LOX_READ), "release"); });
  }
  void write(Pairs& p) override {
    p.run(
        "lox_rwlock write", [&] { must(lox_rwlock_acquire(rw, LOX_WRITE, LOX_FOREVER), "acquire"); },
        [&] { must(lox_rwlock_release(rw, LOX_WRITE), "release"); });
  }
};

struct LoxRw final : RwPeer {
  lox_rwlock* h = nullptr;
  LoxRw() { must(lox_rwlock_create(&h), "lox_rwlock_create"); }
  ~LoxRw() override { lox_rwlock_destroy(h); }
  void rd() override { must(lox_rwlock_acquire(h, LOX_READ, LOX_FOREVER), "read acquire"); }
  void rd_done() override { must(lox_rwlock_release(h, LOX_READ), "read release"); }
  void wr() override { must(lox_rwlock_acquire(h, LOX_WRITE, LOX_FOREVER), "write acquire"); }
  void wr_done() override { must(lox_rwlock_release(h, LOX_WRITE), "write release"); }
};

}  // namespace

std::unique_ptr<RwPairs> lox_rwlock_pairs() { return std::make_unique<LoxRwPairs>(); }
std::unique_ptr<RwPeer> make_lox_rwlock() { return std::make_unique<LoxRw>(); }

}  // namespace lox_bench::sync
