// SPDX-License-Identifier: Apache-2.0
// asio: boost::asio::thread_pool(threads), boost::asio::post per task, a
// completion counter.
#include "peers.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/version.hpp>

namespace lox_bench::thread {
namespace {

template <class F>
class AsioPeer final : public Batcher {
 public:
  AsioPeer(const F* f, int threads) : f_(f), pool_(static_cast<std::size_t>(threads)) {}
  ~AsioPeer() override { pool_.join(); }
  void batch(uint64_t first, size_t n, uint64_t* out) override {
    post_batch(f_, done_, first, n, out,
               [this](auto&& task) { boost::asio::post(pool_, std::forward<decltype(task)>(task)); });
  }

 private:
  const F* f_;
  Completion done_;  // declared before pool_: outlives the workers
  boost::asio::thread_pool pool_;
};

}  // namespace

LOX_THREAD_PEER(make_asio, AsioPeer)

std::string boost_version() {
  return "Boost " + std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000);
}

}  // namespace lox_bench::thread
