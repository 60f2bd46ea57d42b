// SPDX-License-Identifier: Apache-2.0
// std: the textbook pool: one mutex, one condition variable, a deque of
// std::function, N workers; a completion counter.
#include "peers.hpp"

#include <deque>
#include <functional>
#include <thread>
#include <vector>

namespace lox_bench::thread {
namespace {

class StdPool {
 public:
  explicit StdPool(int n) {
    for (int i = 0; i < n; ++i) workers_.emplace_back([this] { loop(); });
  }
  ~StdPool() {
    {
      std::lock_guard lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  void submit(std::function<void()> f) {
    {
      std::lock_guard lk(m_);
      q_.push_back(std::move(f));
    }
    cv_.notify_one();
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> f;
      {
        std::unique_lock lk(m_);
        cv_.wait(lk, [&] { return stop_ || !q_.empty(); });
        if (q_.empty()) return;
        f = std::move(q_.front());
        q_.pop_front();
      }
      f();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

template <class F>
class StdPeer final : public Batcher {
 public:
  StdPeer(const F* f, int threads) : f_(f), pool_(threads) {}
  void batch(uint64_t first, size_t n, uint64_t* out) override {
    post_batch(f_, done_, first, n, out, [this](auto&& task) { pool_.submit(std::forward<decltype(task)>(task)); });
  }

 private:
  const F* f_;
  Completion done_;
  StdPool pool_;
};

}  // namespace

LOX_THREAD_PEER(make_std, StdPeer)

}  // namespace lox_bench::thread
