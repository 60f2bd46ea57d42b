// The C++ consumer, built when the installed liblox has <lox/lox.hpp>: lox's
// first example through the header-only C++17 layer. Exits 0 only if
// foo(3, 4) == 12 and the gather returned {0, 2, 6, 12, 20}.
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
    return twelve == 12 && r == std::vector<int>{0, 2, 6, 12, 20} ? 0 : 1;
}
