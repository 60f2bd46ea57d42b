// SPDX-License-Identifier: Apache-2.0
// The pthread peers: pthread_mutex, pthread_rwlock, sem_wait/sem_post.
#include "sync.hpp"

#include <pthread.h>
#include <semaphore.h>

namespace lox_bench::sync {

void pthread_mutex_pairs(Pairs& p) {
  pthread_mutex_t pm = PTHREAD_MUTEX_INITIALIZER;
  p.run(
      "pthread_mutex", [&] { pthread_mutex_lock(&pm); }, [&] { pthread_mutex_unlock(&pm); });
}

void sem_pairs(Pairs& p) {
  sem_t sem;
  if (sem_init(&sem, 0, 4) != 0) throw std::runtime_error("sem_init failed");
  p.run(
      "sem_wait/sem_post",
      [&] {
        while (sem_wait(&sem) != 0) {
        }
      },
      [&] { sem_post(&sem); });
  sem_destroy(&sem);
}

namespace {

struct PthreadRwPairs final : RwPairs {
  pthread_rwlock_t prw = PTHREAD_RWLOCK_INITIALIZER;
  void read(Pairs& p) override {
    p.run(
        "pthread_rwlock read", [&] { pthread_rwlock_rdlock(&prw); }, [&] { pthread_rwlock_unlock(&prw); });
  }
  void write(Pairs& p) override {
    p.run(
        "pthread_rwlock write", [&] { pthread_rwlock_wrlock(&prw); }, [&] { pthread_rwlock_unlock(&prw); });
  }
};

struct PthreadRw final : RwPeer {
  pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
  ~PthreadRw() override { pthread_rwlock_destroy(&l); }
  void rd() override { check_sys(pthread_rwlock_rdlock(&l), "rdlock"); }
  void rd_done() override { pthread_rwlock_unlock(&l); }
  void wr() override { check_sys(pthread_rwlock_wrlock(&l), "wrlock"); }
  void wr_done() override { pthread_rwlock_unlock(&l); }
};

struct PthreadMutex final : RwPeer {  // reference: every op exclusive
  pthread_mutex_t l = PTHREAD_MUTEX_INITIALIZER;
  void rd() override { pthread_mutex_lock(&l); }
  void rd_done() override { pthread_mutex_unlock(&l); }
  void wr() override { pthread_mutex_lock(&l); }
  void wr_done() override { pthread_mutex_unlock(&l); }
};

}  // namespace

std::unique_ptr<RwPairs> pthread_rwlock_pairs() { return std::make_unique<PthreadRwPairs>(); }
std::unique_ptr<RwPeer> make_pthread_rwlock() { return std::make_unique<PthreadRw>(); }
std::unique_ptr<RwPeer> make_pthread_mutex() { return std::make_unique<PthreadMutex>(); }

}  // namespace lox_bench::sync
