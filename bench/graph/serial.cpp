// SPDX-License-Identifier: Apache-2.0
// serial: the graph's arithmetic as a plain loop in the calling thread (the
// baseline: what the nodes' work costs without any graph).
#include "peers.hpp"
#include "work.hpp"

namespace lox_bench::graph {
namespace {

class SerialPeer final : public GraphPeer {
 public:
  uint64_t run(const Shape& s) override { return expected(s); }
  std::string note() const override { return ""; }
};

}  // namespace

std::unique_ptr<GraphPeer> make_serial(int) { return std::make_unique<SerialPeer>(); }

}  // namespace lox_bench::graph
