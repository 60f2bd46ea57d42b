// SPDX-License-Identifier: Apache-2.0
// pingpong, case c's yardstick: two threads, one mutex, two condition
// variables. The caller hands x over and sleeps until the partner answers
// f(x).
#include "peers.hpp"

namespace lox_bench::thread {
namespace {

template <class F>
class PingPongPeer final : public Batcher {
 public:
  PingPongPeer(const F* f, int) : f_(f), partner_([this] { loop(); }) {}
  ~PingPongPeer() override {
    {
      std::lock_guard lk(m_);
      state_ = State::stop;
    }
    ping_.notify_one();
    partner_.join();
  }
  void batch(uint64_t first, size_t n, uint64_t* out) override {
    for (size_t k = 0; k < n; ++k) {
      {
        std::lock_guard lk(m_);
        value_ = first + k;
        state_ = State::ping;
      }
      ping_.notify_one();
      std::unique_lock lk(m_);
      pong_.wait(lk, [&] { return state_ == State::pong; });
      out[k] = value_;
      state_ = State::idle;
    }
  }

 private:
  enum class State { idle, ping, pong, stop };
  void loop() {
    for (;;) {
      std::unique_lock lk(m_);
      ping_.wait(lk, [&] { return state_ == State::ping || state_ == State::stop; });
      if (state_ == State::stop) return;
      value_ = (*f_)(value_);
      state_ = State::pong;
      lk.unlock();
      pong_.notify_one();
    }
  }
  const F* f_;
  std::mutex m_;
  std::condition_variable ping_, pong_;
  State state_ = State::idle;
  uint64_t value_ = 0;
  std::thread partner_;  // last: starts after the members it uses
};

}  // namespace

LOX_THREAD_PEER(make_pingpong, PingPongPeer)

}  // namespace lox_bench::thread
