// SPDX-License-Identifier: Apache-2.0
// The peers of cases c (chain) and f (fan-out/fan-in) behind one interface.
// Every peer file (serial.cpp, lox.cpp, tbb.cpp, std_future.cpp) defines its
// GraphPeer and nothing else.
#pragma once

#include "graph.hpp"

#include "../common/harness.hpp"
#include "../common/output.hpp"

#include <memory>
#include <string>

namespace lox_bench::graph {

// One peer: builds and runs the graph of a Shape and returns its result
// (the last node's value). One virtual call per graph; per node the code is
// typed. The caller times run() only.
struct GraphPeer {
  virtual ~GraphPeer() = default;
  // Before the clock: only tbb-prebuilt builds its graph here.
  virtual void prepare(const Shape&) {}
  // Timed: builds the graph (unless prepared), runs it, waits until every
  // node has completed, reads the result and frees what the graph holds
  // (unless prepared). Throws on a failed call.
  virtual uint64_t run(const Shape& s) = 0;
  // After the clock: tbb-prebuilt destroys its graph here.
  virtual void finish() {}
  virtual std::string note() const { return phases_.note(); }
  virtual void reset_stats() { phases_ = {}; }

 protected:
  // Where the time of run() goes, summed over the timed graphs: building
  // (the scatter or node-creation loop; liblox and the std emulation run
  // nodes meanwhile), waiting for the last node, freeing.
  struct Phases {
    double build_s = 0, wait_s = 0, free_s = 0;
    size_t nodes = 0;
    std::string note() const {
      if (!nodes) return "";
      const double n = static_cast<double>(nodes);
      return strf("per node: build %.1f ns, wait %.1f ns, free %.1f ns", build_s * 1e9 / n, wait_s * 1e9 / n,
                  free_s * 1e9 / n);
    }
  };
  // Phase marks inside run(): mark(), then add(build|wait|free) at each end.
  class Clockwork {
   public:
    explicit Clockwork(Phases& p, size_t nodes) : p_(p), t_(Clock::now()) { p_.nodes += nodes; }
    void build() { p_.build_s += lap(); }
    void wait() { p_.wait_s += lap(); }
    void freed() { p_.free_s += lap(); }

   private:
    double lap() {
      auto now = Clock::now();
      double s = std::chrono::duration<double>(now - t_).count();
      t_ = now;
      return s;
    }
    Phases& p_;
    Clock::time_point t_;
  };
  Phases phases_;
};

std::unique_ptr<GraphPeer> make_serial(int threads);                  // serial.cpp
std::unique_ptr<GraphPeer> make_lox(int threads, bool gated);         // lox.cpp
std::unique_ptr<GraphPeer> make_tbb(int threads, bool prebuilt);      // tbb.cpp
std::unique_ptr<GraphPeer> make_std_future(int threads, bool gated);  // std_future.cpp

// The peer called `name` (kAllPeers).
std::unique_ptr<GraphPeer> make_peer(const std::string& name, int threads);

}  // namespace lox_bench::graph
