// SPDX-License-Identifier: Apache-2.0
// serial (case b): the same C function called in a loop in the calling
// thread.
#include "process.hpp"

#include <stdexcept>

namespace lox_bench::process {

Runner serial_spin(SpinTasks& t) {
  return {"serial", {"serial C (calling thread)"}, [&t](Meter&, const std::string& what, std::vector<double>& v) {
            std::vector<uint64_t> got(t.n);
            auto t0 = Clock::now();
            for (size_t k = 0; k < t.n; ++k) got[k] = spin(t.in[k].iters, t.in[k].seed);
            v[0] = seconds_since(t0) * 1e3;
            if (got != t.serial) throw std::runtime_error(what + ": serial results changed");
          }};
}

}  // namespace lox_bench::process
