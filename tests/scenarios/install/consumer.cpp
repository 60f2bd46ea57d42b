// SPDX-License-Identifier: Apache-2.0
// The C++ consumer, built when the installed liblox has <lox/lox.hpp>: lox's
// first example through the header-only C++17 layer, on a thread pool and on
// a process pool. Exits 0 only if foo(3, 4) == 12 and both gathers returned
// {0, 2, 6, 12, 20}.
#include <lox/lox.hpp>

#include <cstdio>
#include <vector>

int main() {
  auto foo = lox::thread(4, [](int x, int y) { return x * y; });
  const int twelve = foo(3, 4);
  for (int i = 0; i < 5; ++i) foo.scatter(i, i + 1);
  std::vector<int> r = foo.gather();
  std::printf("[");
  for (std::size_t i = 0; i < r.size(); ++i) std::printf("%s%d", i ? ", " : "", r[i]);
  std::printf("]\n");
  auto job = lox::process(2, [](int x, int y) { return x * y; });
  for (int i = 0; i < 5; ++i) job.scatter(i, i + 1);
  std::vector<int> p = job.gather();
  const std::vector<int> expected{0, 2, 6, 12, 20};
  return twelve == 12 && r == expected && p == expected ? 0 : 1;
}
