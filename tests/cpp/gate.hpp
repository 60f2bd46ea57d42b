// SPDX-License-Identifier: Apache-2.0
// gate: blocks the tasks that wait on it until the test opens it.
#pragma once

#include <condition_variable>
#include <mutex>

namespace loxtest {

class gate {
 public:
  void wait() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return open_; });
  }
  void open() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

}  // namespace loxtest
