// SPDX-License-Identifier: Apache-2.0
// Bytes across the process boundary (lox.h, "Process pool"): empty inputs
// and results, every byte value, 1 MiB and 64 MiB echoed back byte-exact,
// results built from many appends, the max_message limit in both
// directions (a result above it fails only its task with LOX_EWORKER), and
// many tiny tasks in one round.
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "process_util.hpp"
#include "queue_util.hpp"
#include "test_util.hpp"

using namespace loxtest;

namespace {

// The byte at position i of a pattern seeded with `seed`: position
// dependent, so a shifted, truncated or reordered copy is detected.
inline unsigned char pattern_byte(size_t i, uint32_t seed) {
  uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull + seed;
  x ^= x >> 29;
  return static_cast<unsigned char>(x ^ (x >> 17) ^ (i >> 20));
}

std::string pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(pattern_byte(i, seed));
  return s;
}

// Index of the first difference, or -1.
long first_difference(const std::string& a, const std::string& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return static_cast<long>(i);
  return a.size() == b.size() ? -1 : static_cast<long>(n);
}

// The task for this file. Input: one command byte, then its argument.
//   'E' + data          echo data back (one append)
//   'C' + chunk(8) + data   echo data back in appends of `chunk` bytes
//   'N' + n(8) + seed(4)    reply with pattern(n, seed), in 64 KiB appends
//   'V' + seed(4) + data    verify data == pattern(len, seed); reply its length
//   'Z'                 succeed with an empty result (no append at all)
//   'T' + i(4)          tiny task: reply 3 * i + 1 (4 bytes)
int bytes_fn(void*, const void* in, size_t in_len, lox_buffer* out) {
  if (in_len == 0) {
    uint64_t len = 0;
    unsigned char was_null = in == nullptr;
    if (lox_buffer_append(out, &len, sizeof len) != LOX_OK) return 80;
    return lox_buffer_append(out, &was_null, 1) == LOX_OK ? 0 : 80;
  }
  const auto* p = static_cast<const unsigned char*>(in);
  const unsigned char* arg = p + 1;
  size_t arg_len = in_len - 1;
  switch (p[0]) {
    case 'E':
      return lox_buffer_append(out, arg, arg_len) == LOX_OK ? 0 : 81;
    case 'C': {
      uint64_t chunk = 0;
      if (arg_len < 8) return 82;
      std::memcpy(&chunk, arg, 8);
      if (chunk == 0) return 82;
      for (size_t off = 8; off < arg_len; off += chunk) {
        size_t n = std::min<size_t>(chunk, arg_len - off);
        if (lox_buffer_append(out, arg + off, n) != LOX_OK) return 83;
      }
      return 0;
    }
    case 'N': {
      uint64_t n = 0;
      uint32_t seed = 0;
      if (arg_len != 12) return 84;
      std::memcpy(&n, arg, 8);
      std::memcpy(&seed, arg + 8, 4);
      std::vector<unsigned char> block(64 * 1024);
      for (size_t off = 0; off < n; off += block.size()) {
        size_t k = std::min<size_t>(block.size(), n - off);
        for (size_t i = 0; i < k; ++i) block[i] = pattern_byte(off + i, seed);
        if (lox_buffer_append(out, block.data(), k) != LOX_OK) return 85;
      }
      return 0;
    }
    case 'V': {
      uint32_t seed = 0;
      if (arg_len < 4) return 86;
      std::memcpy(&seed, arg, 4);
      const unsigned char* data = arg + 4;
      uint64_t n = arg_len - 4;
      for (size_t i = 0; i < n; ++i)
        if (data[i] != pattern_byte(i, seed)) {
          std::string msg = "input differs at byte " + std::to_string(i);
          lox_buffer_append(out, msg.data(), msg.size());
          return 87;
        }
      return lox_buffer_append(out, &n, sizeof n) == LOX_OK ? 0 : 88;
    }
    case 'Z':
      return 0;
    case 'T': {
      uint32_t i = 0;
      if (arg_len != 4) return 90;
      std::memcpy(&i, arg, 4);
      uint32_t v = 3 * i + 1;
      return lox_buffer_append(out, &v, sizeof v) == LOX_OK ? 0 : 91;
    }
    default:
      return 92;
  }
}

std::string u64(uint64_t v) { return pod_bytes(v); }
std::string u32(uint32_t v) { return pod_bytes(v); }

int scatter_bytes(lox_process* p, const std::string& s, size_t* index = nullptr) {
  return lox_process_scatter(p, s.data(), s.size(), index);
}

// ------------------------------------------------------------------ empty --

void check_empty(size_t n_workers) {
  Proc p = make_proc(n_workers, bytes_fn);
  char dummy = 'q';
  ASSERT_EQ(lox_process_scatter(p.get(), nullptr, 0, nullptr), LOX_OK) << lox_last_error();
  ASSERT_EQ(lox_process_scatter(p.get(), &dummy, 0, nullptr), LOX_OK) << lox_last_error();
  ASSERT_EQ(scatter_bytes(p.get(), "Z"), LOX_OK);
  ASSERT_EQ(scatter_bytes(p.get(), "E"), LOX_OK);  // echo of nothing
  Results r = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 4u);
  for (size_t i = 0; i < 2; ++i) {
    std::string b = bytes_at(r.get(), i);
    ASSERT_EQ(b.size(), 9u) << "task " << i;
    uint64_t len = 99;
    std::memcpy(&len, b.data(), 8);
    EXPECT_EQ(len, 0u) << "the task saw an empty input";
  }
  for (size_t i = 2; i < 4; ++i) {
    EXPECT_EQ(lox_results_status(r.get(), i), 0);
    const void* data = nullptr;
    size_t len = 777;
    ASSERT_EQ(lox_results_bytes(r.get(), i, &data, &len), LOX_OK);
    EXPECT_EQ(len, 0u) << "task " << i << ": an empty result";
  }
}

TEST(ProcessPayloads, EmptyInputAndEmptyResult) { check_empty(2); }

TEST(ProcessPayloads, EmptyInputAndEmptyResultInline) { check_empty(0); }

TEST(ProcessPayloads, EveryByteValueSurvives) {
  Proc p = make_proc(2, bytes_fn);
  std::string all;
  for (int rep = 0; rep < 4; ++rep)
    for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(rep % 2 ? 255 - b : b));
  ASSERT_EQ(scatter_bytes(p.get(), "E" + all), LOX_OK);
  ASSERT_EQ(scatter_bytes(p.get(), std::string("E\0\0\0", 4)), LOX_OK);
  Results r = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 2u);
  EXPECT_EQ(bytes_at(r.get(), 0), all);
  EXPECT_EQ(bytes_at(r.get(), 1), std::string(3, '\0'));
}

// ------------------------------------------------------------------- sizes --

void check_one_mib(size_t n_workers) {
  const size_t n = size_t{1} << 20;
  std::string data = pattern(n, 11);
  Proc p = make_proc(n_workers, bytes_fn);
  ASSERT_EQ(scatter_bytes(p.get(), "E" + data), LOX_OK);
  ASSERT_EQ(scatter_bytes(p.get(), "V" + u32(11) + data), LOX_OK);
  ASSERT_EQ(scatter_bytes(p.get(), "N" + u64(n) + u32(11)), LOX_OK);
  Results r = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 3u);
  std::string echoed = bytes_at(r.get(), 0);
  EXPECT_EQ(echoed.size(), n);
  EXPECT_EQ(first_difference(echoed, data), -1) << "echo differs";
  uint64_t verified = 0;
  ASSERT_TRUE(pod_from(bytes_at(r.get(), 1), verified)) << error_at(r.get(), 1);
  EXPECT_EQ(verified, n) << "the worker saw the input intact";
  std::string made = bytes_at(r.get(), 2);
  EXPECT_EQ(made.size(), n);
  EXPECT_EQ(first_difference(made, data), -1) << "result built by the worker differs";
}

TEST(ProcessPayloads, OneMiB) { check_one_mib(2); }

TEST(ProcessPayloads, OneMiBInline) { check_one_mib(0); }

// Fills n bytes at `p` with a position-dependent pattern, 8 bytes at a time
// (quick enough for a sanitizer build).
void fill_words(char* p, size_t n, uint64_t seed) {
  for (size_t off = 0; off < n; off += 8) {
    uint64_t x = (off / 8 + seed) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    std::memcpy(p + off, &x, std::min<size_t>(8, n - off));
  }
}

TEST(ProcessPayloads, SixtyFourMiBEchoedByteExact) {
  const size_t n = size_t{64} << 20;
  Proc p = make_proc(2, bytes_fn);                     // before the big buffer exists
  std::string in = "C" + u64((size_t{1} << 20) - 13);  // echoed in odd-sized appends
  const size_t header = in.size();
  in.resize(header + n);
  fill_words(in.data() + header, n, 64);
  ASSERT_EQ(scatter_bytes(p.get(), in), LOX_OK) << lox_last_error();
  ASSERT_EQ(scatter_bytes(p.get(), "E" + std::string("small")), LOX_OK);
  Results r = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 2u);
  const void* data = nullptr;
  size_t len = 0;
  ASSERT_EQ(lox_results_bytes(r.get(), 0, &data, &len), LOX_OK);
  ASSERT_EQ(len, n);
  const char* want = in.data() + header;
  if (std::memcmp(data, want, n) != 0) {
    const auto* got = static_cast<const char*>(data);
    size_t i = 0;
    while (i < n && got[i] == want[i]) ++i;
    ADD_FAILURE() << "the echo differs from byte " << i;
  }
  EXPECT_EQ(bytes_at(r.get(), 1), "small");
}

TEST(ProcessPayloads, ResultFromManySmallAppends) {
  // 'C' with a chunk of 1: one append per byte.
  const size_t n = 20000;
  std::string data = pattern(n, 5);
  Proc p = make_proc(1, bytes_fn);
  ASSERT_EQ(scatter_bytes(p.get(), "C" + u64(1) + data), LOX_OK);
  ASSERT_EQ(scatter_bytes(p.get(), "C" + u64(7) + data), LOX_OK);
  Results r = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 2u);
  EXPECT_EQ(first_difference(bytes_at(r.get(), 0), data), -1);
  EXPECT_EQ(first_difference(bytes_at(r.get(), 1), data), -1);
}

// ------------------------------------------------------------- max_message --

TEST(ProcessPayloads, ResultAboveMaxMessageFailsOnlyThatTask) {
  QuietLog quiet;
  const size_t limit = size_t{1} << 20;
  lox_process_opts o = proc_opts(LOX_FOREVER, limit);
  Proc p = make_proc(2, bytes_fn, nullptr, &o);
  ASSERT_EQ(scatter_bytes(p.get(), "E" + std::string("before")), LOX_OK);
  ASSERT_EQ(scatter_bytes(p.get(), "N" + u64(2 * limit) + u32(3)), LOX_OK);  // 2 MiB result
  ASSERT_EQ(scatter_bytes(p.get(), "N" + u64(limit) + u32(3)), LOX_OK);      // exactly the limit
  ASSERT_EQ(scatter_bytes(p.get(), "N" + u64(limit + 1) + u32(3)), LOX_OK);  // one byte above
  ASSERT_EQ(scatter_bytes(p.get(), "E" + std::string("after")), LOX_OK);
  Results r = pgather_expect(p.get(), LOX_ETASK);
  ASSERT_EQ(lox_results_count(r.get()), 5u);
  EXPECT_EQ(lox_results_status(r.get(), 0), 0);
  EXPECT_EQ(bytes_at(r.get(), 0), "before");
  EXPECT_EQ(lox_results_status(r.get(), 1), LOX_EWORKER) << error_at(r.get(), 1);
  EXPECT_NE(lox_results_error(r.get(), 1), nullptr);
  EXPECT_EQ(lox_results_status(r.get(), 2), 0) << "a result of exactly max_message crosses: " << error_at(r.get(), 2);
  if (lox_results_status(r.get(), 2) == 0) {
    std::string b = bytes_at(r.get(), 2);
    EXPECT_EQ(b.size(), limit);
    EXPECT_EQ(first_difference(b, pattern(limit, 3)), -1);
  }
  EXPECT_EQ(lox_results_status(r.get(), 3), LOX_EWORKER) << error_at(r.get(), 3);
  EXPECT_EQ(lox_results_status(r.get(), 4), 0);
  EXPECT_EQ(bytes_at(r.get(), 4), "after");
  // The pool goes on.
  ASSERT_EQ(scatter_bytes(p.get(), "E" + std::string("next")), LOX_OK);
  Results r2 = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r2.get()), 1u);
  EXPECT_EQ(bytes_at(r2.get(), 0), "next");
}

TEST(ProcessPayloads, InputAtMaxMessageCrossesAboveIsRefused) {
  const size_t limit = 4096;
  lox_process_opts o = proc_opts(LOX_FOREVER, limit);
  Proc p = make_proc(1, bytes_fn, nullptr, &o);
  std::string at = "E" + pattern(limit - 1, 9);
  std::string above = at + "x";
  size_t index = 55;
  EXPECT_EQ(scatter_bytes(p.get(), above, &index), LOX_EINVAL);
  EXPECT_EQ(index, 55u);
  ASSERT_EQ(scatter_bytes(p.get(), at, &index), LOX_OK) << lox_last_error();
  EXPECT_EQ(index, 0u);
  Results r = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 1u);
  EXPECT_EQ(bytes_at(r.get(), 0), at.substr(1));
}

// -------------------------------------------------------------- many tasks --

TEST(ProcessPayloads, ManyTinyTasksAllCorrect) {
  const uint32_t n = static_cast<uint32_t>(scaled(20000));
  Proc p = make_proc(LOX_DEFAULT_WORKERS, bytes_fn);
  for (uint32_t i = 0; i < n; ++i) {
    size_t index = 0;
    ASSERT_EQ(scatter_bytes(p.get(), "T" + u32(i), &index), LOX_OK) << i;
    ASSERT_EQ(index, i);
  }
  Results r = pgather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), n);
  uint32_t wrong = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const void* data = nullptr;
    size_t len = 0;
    uint32_t v = 0;
    if (lox_results_status(r.get(), i) != 0 || lox_results_bytes(r.get(), i, &data, &len) != LOX_OK ||
        len != sizeof v) {
      if (wrong++ < 5) ADD_FAILURE() << "task " << i << ": status " << lox_results_status(r.get(), i);
      continue;
    }
    std::memcpy(&v, data, sizeof v);
    if (v != 3 * i + 1 && wrong++ < 5) ADD_FAILURE() << "task " << i << ": " << v;
  }
  EXPECT_EQ(wrong, 0u);
  // A second round of the same size on the same workers.
  for (uint32_t i = 0; i < n; i += 10) ASSERT_EQ(scatter_bytes(p.get(), "T" + u32(i)), LOX_OK);
  Results r2 = pgather_ok(p.get());
  EXPECT_EQ(lox_results_count(r2.get()), static_cast<size_t>((n + 9) / 10));
}

}  // namespace
