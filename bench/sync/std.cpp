// SPDX-License-Identifier: Apache-2.0
// The standard library's peers: std::mutex, std::shared_mutex.
#include "sync.hpp"

#include <mutex>
#include <shared_mutex>

namespace lox_bench::sync {
namespace {

struct StdSharedPairs final : RwPairs {
  std::shared_mutex shm;
  void read(Pairs& p) override {
    p.run(
        "std::shared_mutex read", [&] { shm.lock_shared(); }, [&] { shm.unlock_shared(); });
  }
  void write(Pairs& p) override {
    p.run(
        "std::shared_mutex write", [&] { shm.lock(); }, [&] { shm.unlock(); });
  }
};

struct StdShared final : RwPeer {
  std::shared_mutex m;
  void rd() override { m.lock_shared(); }
  void rd_done() override { m.unlock_shared(); }
  void wr() override { m.lock(); }
  void wr_done() override { m.unlock(); }
};

}  // namespace

void std_mutex_pairs(Pairs& p) {
  std::mutex sm;
  p.run(
      "std::mutex", [&] { sm.lock(); }, [&] { sm.unlock(); });
}

std::unique_ptr<RwPairs> std_shared_mutex_pairs() { return std::make_unique<StdSharedPairs>(); }

std::unique_ptr<RwPeer> make_std_shared_mutex() { return std::make_unique<StdShared>(); }

}  // namespace lox_bench::sync
