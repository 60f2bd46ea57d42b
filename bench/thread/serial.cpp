// SPDX-License-Identifier: Apache-2.0
// serial: a plain loop in the calling thread (the baseline).
#include "peers.hpp"

namespace lox_bench::thread {
namespace {

template <class F>
class SerialPeer final : public Batcher {
 public:
  SerialPeer(const F* f, int) : f_(f) {}
  void batch(uint64_t first, size_t n, uint64_t* out) override {
    for (size_t k = 0; k < n; ++k) out[k] = (*f_)(first + k);
  }

 private:
  const F* f_;
};

}  // namespace

LOX_THREAD_PEER(make_serial, SerialPeer)

}  // namespace lox_bench::thread
