// SPDX-License-Identifier: Apache-2.0
// Reads a fuzzer's input bytes as a stream of small decisions. Past the end
// every read returns 0, so any input is a complete program (libFuzzer's
// FuzzedDataProvider is clang-only; the corpus replay is built with g++ too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace loxfuzz {

class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  bool empty() const { return n_ == 0; }
  size_t left() const { return n_; }
  uint8_t u8() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
  uint32_t u32() { return static_cast<uint32_t>(u16() | (static_cast<uint32_t>(u16()) << 16)); }
  uint64_t u64() { return u32() | (static_cast<uint64_t>(u32()) << 32); }
  bool flip() { return u8() & 1; }
  // 0 .. n-1 (0 when n is 0).
  size_t below(size_t n) { return n == 0 ? 0 : u8() % n; }
  // Up to `max` raw bytes (fewer at the end of the input).
  size_t bytes(const uint8_t*& out, size_t max) {
    size_t k = max < n_ ? max : n_;
    out = p_;
    p_ += k;
    n_ -= k;
    return k;
  }

 private:
  const uint8_t* p_;
  size_t n_;
};

// Aborts the process (a fuzzer crash; the replay test fails) with a message.
[[noreturn]] inline void broken(const char* file, int line, const char* what) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
  std::abort();
}

}  // namespace loxfuzz

#define FUZZ_CHECK(cond)                                       \
  do {                                                         \
    if (!(cond)) ::loxfuzz::broken(__FILE__, __LINE__, #cond); \
  } while (0)
