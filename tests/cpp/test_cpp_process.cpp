// SPDX-License-Identifier: Apache-2.0
// The C++ layer's process pool (lox::process) and its codec (lox::codec).
// Written in C++17 so it can also be compiled against the header in that
// mode.
//
// Worker processes are forks of this test program: nothing in them may use
// GoogleTest's assertions (their failures would be lost). Every check
// happens here, on what the workers send back.
#include <lox/lox.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "eventually.hpp"
#include "thrown.hpp"

using namespace std::chrono_literals;
using loxtest::eventually;
using loxtest::thrown;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

struct point {
  int x;
  double y;
  char tag[3];
};
bool operator==(const point& a, const point& b) {
  return a.x == b.x && a.y == b.y && std::equal(a.tag, a.tag + 3, b.tag);
}

enum class color : unsigned char { red, green, blue };

// Trivially copyable but not default-constructible.
struct no_default {
  explicit no_default(int v) : value(v) {}
  int value;
};

template <class T>
T round_trip(const T& v) {
  return lox::codec::decode<T>(lox::codec::encode(v));
}

// The codec error of decoding exactly `bytes` as T, or "" if it decoded.
// The bytes are copied into a buffer of exactly their size, so that a read
// past the end is caught by AddressSanitizer.
template <class T>
std::string decode_error(const std::string& bytes) {
  std::unique_ptr<char[]> exact(new char[bytes.size() ? bytes.size() : 1]);
  std::copy(bytes.begin(), bytes.end(), exact.get());
  try {
    static_cast<void>(lox::codec::decode<T>(bytes.empty() ? nullptr : exact.get(), bytes.size()));
    return "";
  } catch (const lox::error& e) {
    EXPECT_EQ(e.status(), LOX_EINVAL);
    EXPECT_THAT(e.detail(), HasSubstr("codec: "));
    return e.detail();
  }
}

std::string u64_bytes(std::uint64_t v) { return std::string(reinterpret_cast<const char*>(&v), sizeof v); }

// For workers that die on purpose: no core file.
void no_core_dump() {
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
}

// Set before / after a pool is created, read by its workers.
int g_setting = 0;

long square(long x) { return x * x; }

}  // namespace

// ================================================================= codec ==

TEST(cppCodec, IsEncodableTrait) {
  static_assert(lox::codec::is_encodable_v<int>);
  static_assert(lox::codec::is_encodable_v<const double>);
  static_assert(lox::codec::is_encodable_v<bool>);
  static_assert(lox::codec::is_encodable_v<color>);
  static_assert(lox::codec::is_encodable_v<point>);
  static_assert(lox::codec::is_encodable_v<std::array<int, 4>>);
  static_assert(lox::codec::is_encodable_v<std::string>);
  static_assert(lox::codec::is_encodable_v<std::u32string>);
  static_assert(lox::codec::is_encodable_v<std::vector<std::vector<std::string>>>);
  static_assert(lox::codec::is_encodable_v<std::tuple<>>);
  static_assert(lox::codec::is_encodable_v<std::tuple<int, std::string, std::vector<std::pair<int, point>>>>);
  static_assert(lox::codec::is_encodable_v<std::vector<bool>>);
  static_assert(!lox::codec::is_encodable_v<std::map<int, int>>);
  static_assert(!lox::codec::is_encodable_v<std::list<int>>);
  static_assert(!lox::codec::is_encodable_v<std::unique_ptr<int>>);
  static_assert(!lox::codec::is_encodable_v<std::shared_ptr<int>>);
  static_assert(!lox::codec::is_encodable_v<std::optional<std::string>>);
  static_assert(!lox::codec::is_encodable_v<std::vector<std::map<int, int>>>);
  static_assert(!lox::codec::is_encodable_v<std::tuple<int, std::list<int>>>);
  static_assert(!lox::codec::is_encodable_v<std::pair<std::string, std::unique_ptr<int>>>);
  static_assert(!lox::codec::is_encodable_v<std::vector<std::tuple<>>>);  // elements of no bytes
  static_assert(!lox::codec::is_encodable_v<int&>);
  static_assert(!lox::codec::is_encodable_v<int[3]>);
  static_assert(!lox::codec::is_encodable_v<volatile int>);
  static_assert(!lox::codec::is_encodable_v<void>);
  SUCCEED();
}

TEST(cppCodec, TriviallyCopyableRoundTrips) {
  EXPECT_EQ(round_trip(0), 0);
  EXPECT_EQ(round_trip(std::numeric_limits<int>::min()), std::numeric_limits<int>::min());
  EXPECT_EQ(round_trip(std::numeric_limits<std::uint64_t>::max()), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(round_trip('\0'), '\0');
  EXPECT_EQ(round_trip(3.25f), 3.25f);
  EXPECT_EQ(round_trip(-1e300), -1e300);
  EXPECT_TRUE(std::signbit(round_trip(-0.0)));
  EXPECT_TRUE(std::isnan(round_trip(std::nan(""))));
  EXPECT_EQ(round_trip(std::numeric_limits<double>::infinity()), std::numeric_limits<double>::infinity());
  EXPECT_EQ(round_trip(true), true);
  EXPECT_EQ(round_trip(false), false);
  EXPECT_EQ(round_trip(color::blue), color::blue);
  const point p{-7, 2.5, {'a', '\0', 'z'}};
  EXPECT_EQ(round_trip(p), p);
  EXPECT_EQ(round_trip(std::array<int, 3>{1, 2, 3}), (std::array<int, 3>{1, 2, 3}));
  EXPECT_EQ(round_trip(no_default(42)).value, 42);
  const int x = 5;
  EXPECT_EQ(lox::codec::decode<const int>(lox::codec::encode(x)), 5);

  // The encoding is the object bytes.
  EXPECT_EQ(lox::codec::encode(0x01020304).size(), sizeof(int));
  EXPECT_EQ(lox::codec::encode(p).size(), sizeof(point));
  EXPECT_EQ(lox::codec::encode(true).size(), 1u);
}

TEST(cppCodec, StringsKeepEveryByte) {
  EXPECT_EQ(round_trip(std::string()), "");
  EXPECT_EQ(round_trip(std::string("abc")), "abc");
  const std::string nuls("\0a\0b\0", 5);
  EXPECT_EQ(round_trip(nuls), nuls);
  EXPECT_EQ(round_trip(nuls).size(), 5u);
  std::string all(1 << 20, '\0');
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<char>(i * 7 + i / 256);
  EXPECT_EQ(round_trip(all), all);
  EXPECT_EQ(round_trip(std::u16string(u"h\u00e9llo")), u"h\u00e9llo");
  EXPECT_EQ(round_trip(std::u32string(U"\U0001F600")), U"\U0001F600");

  // A 64-bit length, then the characters.
  EXPECT_EQ(lox::codec::encode(std::string("abc")), u64_bytes(3) + "abc");
  EXPECT_EQ(lox::codec::encode(std::u16string(u"ab")).size(), 8u + 4u);
}

TEST(cppCodec, VectorsEmptyNestedAndOfBool) {
  EXPECT_TRUE(round_trip(std::vector<int>{}).empty());
  EXPECT_THAT(round_trip(std::vector<int>{1, -2, 3}), ElementsAre(1, -2, 3));
  EXPECT_THAT(round_trip(std::vector<double>{0.5, -0.25}), ElementsAre(0.5, -0.25));
  const std::vector<std::string> words{"", "x", std::string("\0\0", 2), std::string(1000, 'w')};
  EXPECT_EQ(round_trip(words), words);
  const std::vector<std::vector<int>> nested{{}, {1}, {}, {2, 3, 4}, {}};
  EXPECT_EQ(round_trip(nested), nested);
  EXPECT_TRUE(round_trip(std::vector<std::vector<std::string>>{}).empty());
  const std::vector<std::vector<std::vector<int>>> deep{{{}, {1, 2}}, {}, {{3}}};
  EXPECT_EQ(round_trip(deep), deep);
  const std::vector<bool> bits{true, false, false, true, true};
  EXPECT_EQ(round_trip(bits), bits);
  const std::vector<point> points{{1, 1.5, {'a', 'b', 'c'}}, {2, 2.5, {'d', 'e', 'f'}}};
  EXPECT_EQ(round_trip(points), points);
  const std::vector<no_default> nd{no_default(1), no_default(2)};
  const auto nd2 = round_trip(nd);
  ASSERT_EQ(nd2.size(), 2u);
  EXPECT_EQ(nd2[1].value, 2);

  // A 64-bit count, then the elements (one block for trivially copyable
  // elements).
  EXPECT_EQ(lox::codec::encode(std::vector<int>{1, 2, 3}).size(), 8u + 3 * sizeof(int));
  EXPECT_EQ(lox::codec::encode(std::vector<bool>{true, false}).size(), 8u + 2u);
  EXPECT_EQ(lox::codec::encode(std::vector<std::string>{"a", "bc"}).size(), 8u + (8u + 1u) + (8u + 2u));
}

TEST(cppCodec, TuplesAndPairs) {
  EXPECT_EQ(round_trip(std::tuple<>()), std::tuple<>());
  EXPECT_EQ(lox::codec::encode(std::tuple<>()).size(), 0u);
  EXPECT_EQ(round_trip(std::make_tuple(7)), std::make_tuple(7));
  using complex = std::tuple<int, std::string, std::vector<std::pair<int, std::string>>, bool>;
  const complex c{-3, std::string("a\0b", 3), {{1, "one"}, {2, ""}}, true};
  EXPECT_EQ(round_trip(c), c);
  const std::pair<std::string, std::vector<int>> pr{"key", {4, 5}};
  EXPECT_EQ(round_trip(pr), pr);
  const std::tuple<std::tuple<int>, std::pair<std::tuple<>, std::string>, std::vector<std::tuple<char, double>>> t{
      std::tuple<int>(1), {std::tuple<>(), "s"}, {{'a', 1.0}, {'b', 2.0}}};
  EXPECT_EQ(round_trip(t), t);

  // Elements in order, no header; encode_to appends.
  EXPECT_EQ(lox::codec::encode(std::make_tuple(1, 2)).size(), 2 * sizeof(int));
  std::string buf;
  lox::codec::encode_to(buf, 1);
  lox::codec::encode_to(buf, std::string("xy"));
  EXPECT_EQ(buf, lox::codec::encode(std::make_tuple(1, std::string("xy"))));
  EXPECT_EQ(lox::codec::encode(std::make_pair('a', 'b')), "ab");
}

TEST(cppCodec, RejectsEveryTruncation) {
  using value_t = std::tuple<int, std::string, std::vector<std::string>, std::vector<double>, std::vector<bool>,
                             std::pair<char, std::vector<std::vector<int>>>, point>;
  const value_t v{1, "hello", {"a", "", "bcd"}, {1.0, 2.0}, {true, false}, {'c', {{1, 2}, {}, {3}}}, {}};
  const std::string bytes = lox::codec::encode(v);
  ASSERT_EQ(decode_error<value_t>(bytes), "");
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    const std::string err = decode_error<value_t>(bytes.substr(0, len));
    EXPECT_THAT(err, HasSubstr("truncated input")) << "prefix of " << len << " bytes";
  }
  EXPECT_THAT(decode_error<int>(""), HasSubstr("truncated input"));
  EXPECT_THAT(decode_error<std::string>(u64_bytes(12) + "abc"),
              HasSubstr("truncated input: a std::string of 12 character(s) needs at least 12 bytes, 3 left "
                        "(at byte 8 of 11)"));
}

TEST(cppCodec, RejectsTrailingBytes) {
  EXPECT_THAT(decode_error<int>(lox::codec::encode(1) + "x"), HasSubstr("1 unexpected byte(s) after the value"));
  EXPECT_THAT(decode_error<std::tuple<>>("abc"), HasSubstr("3 unexpected byte(s)"));
  EXPECT_EQ(decode_error<std::tuple<>>(""), "");
}

TEST(cppCodec, RejectsGarbageWithoutHugeAllocations) {
  // Lengths far beyond the input fail before anything is allocated.
  const std::uint64_t huge = std::numeric_limits<std::uint64_t>::max();
  EXPECT_THAT(decode_error<std::string>(u64_bytes(huge)), HasSubstr("truncated input"));
  EXPECT_THAT(decode_error<std::vector<int>>(u64_bytes(huge / 4 + 1) + "abcd"), HasSubstr("truncated input"));
  EXPECT_THAT(decode_error<std::vector<std::string>>(u64_bytes(std::uint64_t{1} << 62) + u64_bytes(0)),
              HasSubstr("truncated input"));
  EXPECT_THAT(decode_error<std::vector<std::vector<int>>>(u64_bytes(2) + u64_bytes(0) + u64_bytes(huge)),
              HasSubstr("truncated input"));
  // A bool is 0 or 1.
  EXPECT_THAT(decode_error<bool>("\x02"), HasSubstr("a bool byte is 2, not 0 or 1"));
  EXPECT_THAT(decode_error<std::vector<bool>>(u64_bytes(2) + std::string("\x01\xff", 2)), HasSubstr("not 0 or 1"));

  // Mutated encodings (bytes overwritten, cut, added) either decode or
  // throw lox::error; never anything else, never a read out of bounds.
  using value_t = std::tuple<std::vector<std::string>, bool, std::vector<std::pair<short, std::vector<char>>>>;
  const value_t sample{{"ab", "", "cde"}, true, {{1, {'x', 'y'}}, {-2, {}}}};
  const std::string base = lox::codec::encode(sample);
  std::mt19937 rng(12345);
  int decoded = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string bytes = base;
    for (std::uint32_t m = 0, n = 1 + static_cast<std::uint32_t>(rng() % 3); m < n; ++m) {
      switch (rng() % 4) {
        case 0:  // any value
          if (!bytes.empty()) bytes[rng() % bytes.size()] = static_cast<char>(rng());
          break;
        case 1:  // a small value: lengths stay plausible
          if (!bytes.empty()) bytes[rng() % bytes.size()] = static_cast<char>(rng() % 4);
          break;
        case 2:
          bytes.resize(rng() % (bytes.size() + 1));
          break;
        default:
          bytes.insert(rng() % (bytes.size() + 1), 1, static_cast<char>(rng() % 3));
          break;
      }
    }
    try {
      if (decode_error<value_t>(bytes).empty()) ++decoded;
    } catch (...) {
      ADD_FAILURE() << "decoding garbage threw something other than lox::error";
    }
  }
  EXPECT_GT(decoded, 0);  // some mutants are valid: the search reached every part of the value
}

// ========================================================== process pool ==

TEST(cppProcess, LoxExample) {
  auto foo = lox::process(2, [](int x, int y) { return x * y; });
  EXPECT_EQ(foo.max_workers(), 2u);
  EXPECT_EQ(foo(3, 4), 12);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(foo.scatter(i, i + 1), static_cast<std::size_t>(i));
  std::vector<int> r = foo.gather();
  EXPECT_THAT(r, ElementsAre(0, 2, 6, 12, 20));
  EXPECT_TRUE(foo.gather().empty());
}

TEST(cppProcess, ZeroArguments) {
  auto pool = lox::process(2, [] { return std::string("no input"); });
  static_assert(std::is_same_v<decltype(pool)::arguments_type, std::tuple<>>);
  pool.scatter();
  pool.scatter();
  EXPECT_THAT(pool.gather(), ElementsAre("no input", "no input"));
}

TEST(cppProcess, SpecExampleStringSizes) {
  auto job = lox::process(2, [](const std::string& s) { return s.size(); });
  static_assert(std::is_same_v<decltype(job)::result_type, std::size_t>);
  static_assert(std::is_same_v<decltype(job)::arguments_type, std::tuple<std::string>>);
  job.scatter("abc");                            // a const char* is sent as a std::string
  job.scatter(std::string("hello\0world", 11));  // every byte crosses
  job.scatter(std::string());
  auto sizes = job.gather();
  EXPECT_THAT(sizes, ElementsAre(3u, 11u, 0u));
}

TEST(cppProcess, ResultsAreComputedInOtherProcesses) {
  const pid_t me = getpid();
  auto pool = lox::process(2, [](int) { return getpid(); });
  for (int i = 0; i < 8; ++i) pool.scatter(i);
  std::vector<pid_t> pids = pool.gather();
  ASSERT_EQ(pids.size(), 8u);
  std::set<pid_t> distinct(pids.begin(), pids.end());
  for (pid_t p : pids) EXPECT_NE(p, me);
  EXPECT_LE(distinct.size(), 2u);  // at most max_workers workers (none died)
  EXPECT_EQ(pool(0), me);          // the plain call runs here
}

TEST(cppProcess, WorkersAreCopiesOfTheProcessAtCreation) {
  // What the callable captures and the globals it reads are seen by the
  // workers as they were when the pool was created.
  g_setting = 2;
  std::vector<std::string> table{"zero", "one", "two"};
  auto pool = lox::process(2, [table](std::size_t i) { return std::make_pair(table.at(i), g_setting); });
  g_setting = 3;  // too late for the workers
  table.clear();  // the pool holds its own copy anyway
  pool.scatter(2);
  pool.scatter(0);
  auto r = pool.gather();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], std::make_pair(std::string("two"), 2));
  EXPECT_EQ(r[1], std::make_pair(std::string("zero"), 2));
  EXPECT_EQ(pool(1).second, 3);  // the plain call runs in this process, as it is now
}

TEST(cppProcess, RichArgumentsAndResults) {
  auto pool = lox::process(2, [](const std::vector<std::string>& words, std::tuple<int, std::string> t, point p) {
    std::vector<std::size_t> sizes;
    for (const auto& w : words) sizes.push_back(w.size());
    std::string joined = std::get<1>(t);
    for (const auto& w : words) joined += w;
    p.x += std::get<0>(t);
    return std::make_tuple(joined, sizes, p);
  });
  const std::vector<std::string> words{"a", "", std::string("\0\0", 2)};
  const point p{1, 0.5, {'x', 'y', 'z'}};
  pool.scatter(words, std::make_tuple(10, std::string("<")), p);
  pool.scatter(std::vector<std::string>{}, std::make_tuple(0, std::string()), p);
  auto r = pool.gather();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(std::get<0>(r[0]), std::string("<a\0\0", 4));
  EXPECT_THAT(std::get<1>(r[0]), ElementsAre(1u, 0u, 2u));
  EXPECT_EQ(std::get<2>(r[0]), (point{11, 0.5, {'x', 'y', 'z'}}));
  EXPECT_EQ(std::get<0>(r[1]), "");
  EXPECT_TRUE(std::get<1>(r[1]).empty());
}

TEST(cppProcess, ArgumentsAreConvertedToTheParameterTypes) {
  auto pool =
      lox::process(1, [](std::string s, long n, double d) { return s + std::to_string(n) + std::to_string(d); });
  pool.scatter("n=", 7, 1);  // const char* -> std::string, int -> long, int -> double
  const std::string prefix = "m=";
  pool.scatter(prefix, 8L, 0.5);
  pool.scatter(std::ref(prefix), short{9}, 2.0f);
  EXPECT_THAT(pool.gather(), ElementsAre("n=71.000000", "m=80.500000", "m=92.000000"));
}

TEST(cppProcess, NamedResultTypeAndFunctionPointer) {
  auto wide = lox::process<long long>(2, [](int x) { return x; });
  static_assert(std::is_same_v<decltype(wide.gather()), std::vector<long long>>);
  wide.scatter(-4);
  EXPECT_THAT(wide.gather(), ElementsAre(-4LL));

  auto sq = lox::process(&square);  // one worker per CPU
  EXPECT_EQ(sq.max_workers(), LOX_DEFAULT_WORKERS);
  for (long i = 0; i < 4; ++i) sq.scatter(i);
  EXPECT_THAT(sq.gather(), ElementsAre(0, 1, 4, 9));
}

TEST(cppProcess, BigMessages) {
  auto pool = lox::process(2, [](const std::vector<int>& v) { return std::vector<int>(v.rbegin(), v.rend()); });
  std::vector<int> big(2'000'000);
  std::iota(big.begin(), big.end(), 0);
  pool.scatter(big);
  pool.scatter(std::vector<int>{});
  auto r = pool.gather();
  ASSERT_EQ(r.size(), 2u);
  ASSERT_EQ(r[0].size(), big.size());
  EXPECT_TRUE(std::equal(r[0].begin(), r[0].end(), big.rbegin()));
  EXPECT_TRUE(r[1].empty());
}

TEST(cppProcess, ScatterAndGatherFromManyThreads) {
  auto pool = lox::process(2, [](int x) { return x * x; });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool, t] {
      for (int i = 0; i < 25; ++i) pool.scatter(t * 100 + i);
    });
  }
  for (auto& th : threads) th.join();
  std::vector<int> r = pool.gather();
  std::sort(r.begin(), r.end());
  std::vector<int> expected;
  for (int t = 0; t < 4; ++t)
    for (int i = 0; i < 25; ++i) expected.push_back((t * 100 + i) * (t * 100 + i));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(r, expected);
}

// -------------------------------------------------------------- failures --

TEST(cppProcess, ExceptionComesBackAsLoxErrorWithItsWhatText) {
  auto pool = lox::process(2, [](int x) {
    if (x == 1) throw std::invalid_argument("first failure: x is 1");
    if (x == 3) throw std::runtime_error("second failure");
    return x * 10;
  });
  for (int i = 0; i < 5; ++i) pool.scatter(i);
  {
    const lox::error e = thrown([&] { pool.gather(); });
    EXPECT_EQ(e.status(), LOX_ETASK);
    EXPECT_EQ(e.detail(), "first failure: x is 1");  // the first in scatter order
    EXPECT_THAT(e.what(), HasSubstr("first failure: x is 1"));
  }

  // gather_results keeps every outcome.
  for (int i = 0; i < 5; ++i) pool.scatter(i);
  std::vector<lox::outcome<int>> out = pool.gather_results();
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].value(), 0);
  EXPECT_EQ(out[2].value(), 20);
  EXPECT_EQ(out[4].value(), 40);
  ASSERT_FALSE(out[1]);
  ASSERT_FALSE(out[3].has_value());
  {
    const lox::error e = thrown([&] { std::rethrow_exception(out[3].error()); });
    EXPECT_EQ(e.status(), LOX_ETASK);
    EXPECT_EQ(e.detail(), "second failure");
  }
  EXPECT_THROW(out[1].value(), lox::error);

  // The plain call throws the original exception, here.
  EXPECT_THROW(pool(1), std::invalid_argument);
}

TEST(cppProcess, ExceptionOfAnyType) {
  auto pool = lox::process(1, [](int x) {
    if (x) throw 42;
    return x;
  });
  pool.scatter(1);
  {
    const lox::error e = thrown([&] { pool.gather(); });
    EXPECT_EQ(e.status(), LOX_ETASK);
    EXPECT_THAT(e.detail(), HasSubstr("unknown exception"));
  }
}

TEST(cppProcess, AbortedWorkerFailsOnlyItsTask) {
  auto pool = lox::process(2, [](int x) {
    if (x == 2) {
      no_core_dump();
      std::abort();
    }
    return x * 10;
  });
  for (int i = 0; i < 5; ++i) pool.scatter(i);
  {
    const lox::error e = thrown([&] { pool.gather(); });
    EXPECT_EQ(e.status(), LOX_EWORKER);
    EXPECT_THAT(e.what(), HasSubstr("SIGABRT"));
    EXPECT_THAT(e.detail(), HasSubstr("worker "));
  }

  // The others are intact; the pool goes on with a replacement worker.
  for (int i = 0; i < 5; ++i) pool.scatter(i);
  auto out = pool.gather_results();
  ASSERT_EQ(out.size(), 5u);
  for (int i : {0, 1, 3, 4}) EXPECT_EQ(out[static_cast<std::size_t>(i)].value(), i * 10);
  ASSERT_FALSE(out[2]);
  {
    const lox::error e = thrown([&] { std::rethrow_exception(out[2].error()); });
    EXPECT_EQ(e.status(), LOX_EWORKER);
    EXPECT_THAT(e.detail(), HasSubstr("SIGABRT"));
  }
  pool.scatter(7);
  EXPECT_THAT(pool.gather(), ElementsAre(70));
}

TEST(cppProcess, WorkerThatExitsFailsItsTask) {
  auto pool = lox::process(1, [](int x) {
    if (x) _exit(3);
    return x;
  });
  pool.scatter(0);
  pool.scatter(1);
  pool.scatter(0);
  auto out = pool.gather_results();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].value(), 0);
  EXPECT_EQ(out[2].value(), 0);
  ASSERT_FALSE(out[1]);
  {
    const lox::error e = thrown([&] { std::rethrow_exception(out[1].error()); });
    EXPECT_EQ(e.status(), LOX_EWORKER);
    EXPECT_THAT(e.detail(), HasSubstr("exited with code 3"));
  }
}

TEST(cppProcess, TaskTimeLimit) {
  lox::process_options opts;
  opts.task_timeout = 300ms;
  auto pool = lox::process(2, opts, [](int x) {
    if (x == 1) std::this_thread::sleep_for(60s);
    return x;
  });
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) pool.scatter(i);
  auto out = pool.gather_results();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].value(), 0);
  EXPECT_EQ(out[2].value(), 2);
  EXPECT_EQ(out[3].value(), 3);
  ASSERT_FALSE(out[1]);
  {
    const lox::error e = thrown([&] { std::rethrow_exception(out[1].error()); });
    EXPECT_EQ(e.status(), LOX_TIMEOUT);  // a task failure, not a gather timeout
  }

  // gather() throws it; the pool goes on.
  pool.scatter(1);
  pool.scatter(5);
  {
    const lox::error e = thrown([&] { pool.gather(); });
    EXPECT_EQ(e.status(), LOX_TIMEOUT);
  }
  pool.scatter(6);
  EXPECT_THAT(pool.gather(), ElementsAre(6));
}

TEST(cppProcess, MessageLimit) {
  lox::process_options opts;
  opts.max_message = 64;
  auto pool = lox::process(1, opts, [](const std::string& s, std::size_t n) { return s + std::string(n, 'y'); });
  {
    const lox::error e = thrown([&] { pool.scatter(std::string(100, 'x'), std::size_t{0}); });
    EXPECT_EQ(e.status(), LOX_EINVAL);
  }
  EXPECT_TRUE(pool.gather().empty());  // nothing was queued
  pool.scatter("ok", std::size_t{2});
  pool.scatter("big", std::size_t{1000});  // the result is over the limit
  auto out = pool.gather_results();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].value(), "okyy");
  ASSERT_FALSE(out[1]);
  {
    const lox::error e = thrown([&] { std::rethrow_exception(out[1].error()); });
    EXPECT_EQ(e.status(), LOX_EWORKER);
  }
}

TEST(cppProcess, BadOptions) {
  auto make = [](lox::process_options o) { return lox::process(1, o, [](int x) { return x; }); };
  lox::process_options zero;
  zero.task_timeout = 0s;
  lox::process_options nan;
  nan.task_timeout = std::chrono::duration<double>(std::nan(""));
  lox::process_options no_room;
  no_room.max_message = 0;
  for (const auto& o : {zero, nan, no_room}) {
    try {
      make(o);
      ADD_FAILURE() << "bad options accepted";
    } catch (const lox::error& e) {
      EXPECT_EQ(e.status(), LOX_EINVAL);
    }
  }
}

// ----------------------------------------------------------- void, timing --

TEST(cppProcess, VoidResult) {
  auto pool = lox::process(2, [](int x) {
    if (x < 0) throw std::runtime_error("negative");
  });
  static_assert(std::is_same_v<decltype(pool.gather()), void>);
  pool.scatter(1);
  pool.scatter(2);
  pool.gather();
  pool.scatter(-1);
  {
    const lox::error e = thrown([&] { pool.gather(); });
    EXPECT_EQ(e.detail(), "negative");
  }
  pool.scatter(3);
  pool.scatter(-3);
  std::vector<lox::outcome<void>> out = pool.gather_results();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].has_value());
  EXPECT_FALSE(out[1].has_value());
  EXPECT_THROW(out[1].value(), lox::error);
  pool.scatter(4);
  EXPECT_TRUE(pool.try_gather(30s));
}

TEST(cppProcess, TryGatherTimesOutWithoutLosingAnything) {
  auto pool = lox::process(2, [](int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  });
  pool.scatter(1000);
  pool.scatter(0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(pool.try_gather(50ms).has_value());
  EXPECT_FALSE(pool.try_gather(-1s).has_value());  // a negative try checks once
  EXPECT_FALSE(pool.try_gather_results(0ms).has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms);
  auto r = pool.try_gather(30s);
  ASSERT_TRUE(r.has_value());
  EXPECT_THAT(*r, ElementsAre(1000, 0));
  pool.scatter(1);
  auto o = pool.try_gather_results(30s);
  ASSERT_TRUE(o.has_value());
  ASSERT_EQ(o->size(), 1u);
  EXPECT_EQ((*o)[0].value(), 1);
}

TEST(cppProcess, Progress) {
  auto pool = lox::process(2, [](int x) { return x; });
  for (int i = 0; i < 20; ++i) pool.scatter(i);
  std::vector<std::pair<std::size_t, std::size_t>> calls;
  auto r = pool.gather([&](std::size_t done, std::size_t total) { calls.emplace_back(done, total); });
  EXPECT_EQ(r.size(), 20u);
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), std::make_pair(std::size_t{20}, std::size_t{20}));
  for (std::size_t i = 1; i < calls.size(); ++i) EXPECT_LE(calls[i - 1].first, calls[i].first);

  pool.scatter(1);
  EXPECT_THAT(pool.gather(lox::progress_bar), ElementsAre(1));
  pool.scatter(2);
  auto o = pool.gather_results(lox::progress_bar);
  ASSERT_EQ(o.size(), 1u);

  // A throwing progress callable: the round is still taken, its exception
  // propagates.
  pool.scatter(3);
  EXPECT_THROW(pool.gather([](std::size_t, std::size_t) { throw std::logic_error("progress"); }), std::logic_error);
  EXPECT_TRUE(pool.gather().empty());
}

TEST(cppProcess, PendingAndWorkers) {
  auto pool = lox::process(2, [](int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
  });
  EXPECT_LE(pool.workers(), 2u);
  for (int i = 0; i < 6; ++i) pool.scatter(800);
  EXPECT_LE(pool.pending(), 6u);
  // Within the first 800 ms each of the 2 workers can have started one
  // task: at least 4 are not started yet (lox_process_pending: "tasks
  // scattered but not yet started").
  std::this_thread::sleep_for(100ms);
  EXPECT_GE(pool.pending(), 4u);
  EXPECT_TRUE(eventually([&] { return pool.workers() >= 1; }));
  EXPECT_LE(pool.workers(), 2u);
  EXPECT_EQ(pool.gather().size(), 6u);
  EXPECT_EQ(pool.pending(), 0u);
  EXPECT_LE(pool.workers(), 2u);
}

TEST(cppProcess, InlineModeRunsInThisProcess) {
  static std::atomic<int> calls{0};
  calls = 0;
  auto pool = lox::process(0, [](int x) {
    ++calls;
    if (x < 0) throw std::out_of_range("inline failure");
    return std::make_pair(getpid(), x);
  });
  pool.scatter(5);
  EXPECT_EQ(calls.load(), 1);  // ran before scatter returned
  pool.scatter(-1);
  auto out = pool.gather_results();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].value(), std::make_pair(getpid(), 5));
  ASSERT_FALSE(out[1]);
  try {
    std::rethrow_exception(out[1].error());
  } catch (const lox::error& e) {  // still through the codec: a lox::error
    EXPECT_EQ(e.detail(), "inline failure");
  }
}

// ------------------------------------------------------------- lifetime --

TEST(cppProcess, MoveSemantics) {
  auto inc = [](int x) { return x + 1; };
  auto a = lox::process(2, inc);
  a.scatter(1);
  auto b = std::move(a);  // the task in flight is unaffected
  EXPECT_FALSE(a);        // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(b);
  try {
    a.scatter(1);
    ADD_FAILURE() << "scatter on a moved-from pool";
  } catch (const lox::error& e) {
    EXPECT_EQ(e.status(), LOX_EINVAL);
  }
  EXPECT_THROW(a.gather(), lox::error);
  EXPECT_THROW(a(1), lox::error);
  EXPECT_EQ(a.pending(), 0u);
  EXPECT_EQ(a.workers(), 0u);
  EXPECT_EQ(a.native_handle(), nullptr);
  EXPECT_THAT(b.gather(), ElementsAre(2));

  auto c = lox::process(1, inc);
  c.scatter(100);  // dropped with c's pool
  c = std::move(b);
  c.scatter(10);
  EXPECT_THAT(c.gather(), ElementsAre(11));
  a = std::move(c);
  a.scatter(20);
  EXPECT_THAT(a.gather(), ElementsAre(21));
}

TEST(cppProcess, DestroyDoesNotWaitForRunningTasks) {
  const auto start = std::chrono::steady_clock::now();
  {
    auto pool = lox::process(2, [](int x) {
      std::this_thread::sleep_for(60s);
      return x;
    });
    pool.scatter(1);
    pool.scatter(2);
    pool.scatter(3);
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
}
