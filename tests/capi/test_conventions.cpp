// SPDX-License-Identifier: Apache-2.0
// Conventions shared by every object of the C ABI (include/lox/lox.h,
// "Conventions shared by every object"): status codes and their
// text, the thread-local error detail, versioning, options structs, bad
// input, and "a call that returns an error changes nothing".
#include <lox/lox.h>

#include <gtest/gtest.h>

#include <climits>
#include <iterator>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "test_util.hpp"

using namespace loxtest;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string last_error() {
  const char* e = lox_last_error();
  EXPECT_NE(e, nullptr);
  return e ? e : "(null)";
}

// Puts a known, unrelated detail in the calling thread's slot, so that a
// following check proves the detail was (re)written by the call under test.
void prime_detail() {
  ASSERT_EQ(lox_thread_call(nullptr, nullptr, nullptr), LOX_EINVAL);
  ASSERT_NE(last_error().find("thread call"), std::string::npos) << last_error();
}

// The detail must be non-empty and contain `op` (the operation's name).
#define EXPECT_DETAIL(op)                                                        \
  do {                                                                           \
    std::string d_ = last_error();                                               \
    EXPECT_FALSE(d_.empty());                                                    \
    EXPECT_NE(d_.find(op), std::string::npos) << "detail was: \"" << d_ << "\""; \
  } while (0)

// --------------------------------------------------------------- statuses --

TEST(Status, CodesHaveTheDocumentedValues) {
  EXPECT_EQ(LOX_OK, 0);
  EXPECT_EQ(LOX_TIMEOUT, 1);
  EXPECT_EQ(LOX_EINVAL, -1);
  EXPECT_EQ(LOX_ENOMEM, -2);
  EXPECT_EQ(LOX_ESTATE, -3);
  EXPECT_EQ(LOX_ECLOSED, -4);
  EXPECT_EQ(LOX_ETASK, -5);
  EXPECT_EQ(LOX_EWORKER, -6);
  EXPECT_EQ(LOX_ESYS, -7);
  EXPECT_LT(LOX_FOREVER, 0.0);
}

TEST(Status, EveryCodeHasItsOwnText) {
  const int codes[] = {LOX_OK,      LOX_TIMEOUT, LOX_EINVAL,  LOX_ENOMEM, LOX_ESTATE,
                       LOX_ECLOSED, LOX_ETASK,   LOX_EWORKER, LOX_ESYS};
  const std::string unknown = lox_status_str(12345);
  std::set<std::string> seen;
  for (int c : codes) {
    const char* s = lox_status_str(c);
    ASSERT_NE(s, nullptr) << c;
    EXPECT_GT(std::strlen(s), 0u) << c;
    EXPECT_NE(unknown, s) << "code " << c << " is described as unknown";
    EXPECT_TRUE(seen.insert(s).second) << "two codes share the text \"" << s << "\"";
    // Static text: the same pointer contents on every call.
    EXPECT_STREQ(s, lox_status_str(c));
  }
  EXPECT_STREQ(lox_status_str(LOX_EINVAL), "invalid argument");
}

// Every code of LOX_STATUS_MAP: its enum value, its text from
// lox_status_str and its name from lox_status_name, all from the one list.
TEST(Status, TheMapGeneratesEnumTextAndName) {
  struct Entry {
    const char* name;
    int enum_value, map_value;
    const char* text;
  };
#define LOX_TEST_ENTRY_(name, value, text, meaning) {"LOX_" #name, LOX_##name, (value), (text)},
  const Entry entries[] = {LOX_STATUS_MAP(LOX_TEST_ENTRY_)};
#undef LOX_TEST_ENTRY_
  std::set<int> values;
  std::set<std::string> names;
  for (const Entry& e : entries) {
    EXPECT_EQ(e.enum_value, e.map_value) << e.name;
    EXPECT_STREQ(lox_status_str(e.enum_value), e.text) << e.name;
    EXPECT_STREQ(lox_status_name(e.enum_value), e.name);
    EXPECT_TRUE(values.insert(e.enum_value).second) << "two codes share the value " << e.enum_value;
    EXPECT_TRUE(names.insert(e.name).second) << e.name;
  }
  EXPECT_EQ(std::size(entries), 11u);
  EXPECT_STREQ(lox_status_name(LOX_EINVAL), "LOX_EINVAL");
  EXPECT_STREQ(lox_status_name(LOX_TIMEOUT), "LOX_TIMEOUT");
  for (int c : {2, 3, -10, -100, 1000, INT_MAX, INT_MIN}) EXPECT_STREQ(lox_status_name(c), "LOX_UNKNOWN") << c;
}

TEST(Status, UnknownCodesAreNeverNull) {
  for (int c : {2, 3, -10, -100, 1000, INT_MAX, INT_MIN}) {
    const char* s = lox_status_str(c);
    ASSERT_NE(s, nullptr) << c;
    EXPECT_STREQ(s, "unknown status") << c;
  }
}

TEST(Status, TextIsThreadSafe) {
  std::vector<std::thread> ts;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 2000; ++i)
        if (!lox_status_str(-(i % 10)) || !lox_version_string()) bad.fetch_add(1);
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad.load(), 0);
}

// ----------------------------------------------------------- last error --

TEST(LastError, EmptyInAFreshThread) {
  // The main thread may have failed calls from other tests; a new thread
  // starts clean.
  std::string seen = "(not run)";
  bool was_null = true;
  std::thread([&] {
    const char* e = lox_last_error();
    was_null = e == nullptr;
    if (e) seen = e;
  }).join();
  EXPECT_FALSE(was_null);
  EXPECT_EQ(seen, "");
}

TEST(LastError, IsThreadLocal) {
  Gate a_failed, b_checked;
  std::string in_a_after, in_b_before, in_b_after;
  std::thread a([&] {
    EXPECT_EQ(lox_thread_scatter(nullptr, nullptr, nullptr), LOX_EINVAL);
    a_failed.open();
    ASSERT_TRUE(b_checked.wait());
    in_a_after = lox_last_error();
  });
  std::thread b([&] {
    ASSERT_TRUE(a_failed.wait());
    in_b_before = lox_last_error();  // A's failure is not visible here
    EXPECT_EQ(lox_results_status(nullptr, 0), LOX_EINVAL);
    in_b_after = lox_last_error();
    b_checked.open();
  });
  a.join();
  b.join();
  EXPECT_EQ(in_b_before, "");
  EXPECT_NE(in_b_after.find("results status"), std::string::npos) << in_b_after;
  // B's failure did not overwrite A's detail.
  EXPECT_NE(in_a_after.find("thread scatter"), std::string::npos) << in_a_after;
  EXPECT_EQ(in_a_after.find("results status"), std::string::npos) << in_a_after;
}

TEST(LastError, SuccessfulCallsDoNotClearIt) {
  prime_detail();
  std::string before = last_error();
  Pool p = make_pool(2, identity_task);
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(1), nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 1u);
  EXPECT_EQ(last_error(), before);
}

TEST(LastError, NamesTheOperationOfEachFailingCall) {
  // Alternating operations: each detail must name the call that just failed.
  EXPECT_EQ(lox_thread_scatter(nullptr, nullptr, nullptr), LOX_EINVAL);
  EXPECT_DETAIL("thread scatter");
  EXPECT_EQ(lox_thread_gather(nullptr, nullptr, nullptr), LOX_EINVAL);
  EXPECT_DETAIL("thread gather");
  EXPECT_EQ(lox_thread_create(1, identity_task, nullptr, nullptr), LOX_EINVAL);
  EXPECT_DETAIL("thread create");
  EXPECT_EQ(lox_results_status(nullptr, 0), LOX_EINVAL);
  EXPECT_DETAIL("results status");
  EXPECT_EQ(lox_thread_call(nullptr, nullptr, nullptr), LOX_EINVAL);
  EXPECT_DETAIL("thread call");
  EXPECT_EQ(lox_results_value(nullptr, 0), nullptr);
  EXPECT_DETAIL("results value");
}

// -------------------------------------------------------------- version --

TEST(Version, LibraryMatchesHeader) {
  EXPECT_EQ(lox_version(), static_cast<unsigned>(LOX_VERSION_NUMBER));
  EXPECT_EQ(lox_version(),
            static_cast<unsigned>((LOX_VERSION_MAJOR << 16) | (LOX_VERSION_MINOR << 8) | LOX_VERSION_PATCH));
  EXPECT_EQ(lox_version() >> 16, static_cast<unsigned>(LOX_VERSION_MAJOR));
  EXPECT_EQ((lox_version() >> 8) & 0xff, static_cast<unsigned>(LOX_VERSION_MINOR));
  EXPECT_EQ(lox_version() & 0xff, static_cast<unsigned>(LOX_VERSION_PATCH));
}

TEST(Version, StringMatchesNumbers) {
  const char* s = lox_version_string();
  ASSERT_NE(s, nullptr);
  std::string expect = std::to_string(LOX_VERSION_MAJOR) + "." + std::to_string(LOX_VERSION_MINOR) + "." +
                       std::to_string(LOX_VERSION_PATCH);
  EXPECT_EQ(std::string(s), expect);
  EXPECT_EQ(s, lox_version_string()) << "static text: the same pointer every time";
}

// -------------------------------------------------------- options structs --

TEST(Options, GatherOptsInitMatchesMacro) {
  lox_gather_opts by_macro = LOX_GATHER_OPTS_INIT;
  lox_gather_opts by_fn;
  std::memset(&by_fn, 0xAB, sizeof by_fn);
  lox_gather_opts_init(&by_fn);
  EXPECT_EQ(by_fn.struct_size, sizeof(lox_gather_opts));
  EXPECT_EQ(by_fn.struct_size, by_macro.struct_size);
  EXPECT_EQ(by_fn.timeout, by_macro.timeout);
  EXPECT_EQ(by_fn.timeout, LOX_FOREVER);
  EXPECT_EQ(by_fn.progress, nullptr);
  EXPECT_EQ(by_fn.progress, by_macro.progress);
  EXPECT_EQ(by_fn.progress_ctx, nullptr);
  EXPECT_EQ(by_fn.progress_ctx, by_macro.progress_ctx);
  EXPECT_EQ(by_fn.progress_bar, 0);
  EXPECT_EQ(by_fn.progress_bar, by_macro.progress_bar);
  lox_gather_opts_init(nullptr);  // ignored, no crash
}

TEST(Options, ThreadOptsInitMatchesMacro) {
  lox_thread_opts by_macro = LOX_THREAD_OPTS_INIT;
  lox_thread_opts by_fn;
  std::memset(&by_fn, 0xAB, sizeof by_fn);
  lox_thread_opts_init(&by_fn);
  EXPECT_EQ(by_fn.struct_size, sizeof(lox_thread_opts));
  EXPECT_EQ(by_fn.struct_size, by_macro.struct_size);
  EXPECT_EQ(by_fn.idle_timeout, by_macro.idle_timeout);
  EXPECT_EQ(by_fn.idle_timeout, 2.0);
  lox_thread_opts_init(nullptr);  // ignored, no crash
}

TEST(Options, MacroAndFunctionOptionsWorkForGather) {
  Pool p = make_pool(2, identity_task);
  for (int variant = 0; variant < 3; ++variant) {
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(variant), nullptr), LOX_OK);
    lox_gather_opts macro = LOX_GATHER_OPTS_INIT;
    lox_gather_opts fn;
    lox_gather_opts_init(&fn);
    const lox_gather_opts* o = variant == 0 ? &macro : variant == 1 ? &fn : nullptr;
    lox_results* r = nullptr;
    ASSERT_EQ(lox_thread_gather(p.get(), o, &r), LOX_OK) << lox_last_error();
    Results owner(r);
    ASSERT_EQ(lox_results_count(r), 1u);
    EXPECT_EQ(value_at(r, 0), variant);
  }
}

TEST(Options, BadGatherStructSizeIsRejectedAndChangesNothing) {
  Pool p = make_pool(2, identity_task);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  const size_t bad_sizes[] = {
      0, 1, sizeof(size_t), sizeof(lox_gather_opts) - 1, sizeof(lox_gather_opts) + 8, static_cast<size_t>(-1)};
  for (size_t bad : bad_sizes) {
    lox_gather_opts o;
    lox_gather_opts_init(&o);
    o.struct_size = bad;
    auto* sentinel = reinterpret_cast<lox_results*>(0x1234);
    lox_results* r = sentinel;
    prime_detail();
    EXPECT_EQ(lox_thread_gather(p.get(), &o, &r), LOX_EINVAL) << "struct_size " << bad;
    EXPECT_EQ(r, sentinel) << "*out must be untouched on error";
    EXPECT_DETAIL("thread gather");
    EXPECT_DETAIL("struct_size");
  }
  // Nothing was consumed: the round is intact.
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 3u);
  EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{0, 1, 2}));
}

namespace {

// A thread pool create with options `o` is refused with LOX_EINVAL, leaves
// *out alone and names `field` in its detail.
void expect_thread_opts_refused(const lox_thread_opts& o, const char* field) {
  auto* sentinel = reinterpret_cast<lox_thread*>(0x5678);
  lox_thread* p = sentinel;
  prime_detail();
  EXPECT_EQ(lox_thread_create_ex(1, identity_task, nullptr, &o, &p), LOX_EINVAL);
  EXPECT_EQ(p, sentinel);
  EXPECT_DETAIL("thread create");
  EXPECT_DETAIL(field);
}

}  // namespace

TEST(Options, BadThreadOptsAreRejectedAndChangeNothing) {
  for (size_t bad : {size_t{0}, size_t{1}, sizeof(lox_thread_opts) - 1, sizeof(lox_thread_opts) + 8}) {
    SCOPED_TRACE(bad);
    lox_thread_opts o;
    lox_thread_opts_init(&o);
    o.struct_size = bad;
    expect_thread_opts_refused(o, "struct_size");
  }
  for (double bad : {kNaN, -1.0, -0.001, -std::numeric_limits<double>::infinity()}) {
    SCOPED_TRACE(bad);
    lox_thread_opts o;
    lox_thread_opts_init(&o);
    o.idle_timeout = bad;
    expect_thread_opts_refused(o, "idle_timeout");
  }
}

TEST(Options, GoodThreadOptsAreAccepted) {
  for (double ok : {0.0, 0.5, 2.0, 1e12, std::numeric_limits<double>::infinity()}) {
    lox_thread_opts o;
    lox_thread_opts_init(&o);
    o.idle_timeout = ok;
    lox_thread* p = nullptr;
    ASSERT_EQ(lox_thread_create_ex(2, identity_task, nullptr, &o, &p), LOX_OK) << ok << ": " << lox_last_error();
    Pool owner(p);
    ASSERT_EQ(lox_thread_scatter(p, to_ptr(42), nullptr), LOX_OK);
    Results r = gather_ok(p);
    ASSERT_EQ(lox_results_count(r.get()), 1u);
    EXPECT_EQ(value_at(r.get(), 0), 42);
  }
  // NULL options mean the defaults.
  lox_thread* p = nullptr;
  ASSERT_EQ(lox_thread_create_ex(2, identity_task, nullptr, nullptr, &p), LOX_OK);
  lox_thread_destroy(p);
}

// ------------------------------------------------------------ bad input --

TEST(BadInput, NullOutPointersOfCreate) {
  prime_detail();
  EXPECT_EQ(lox_thread_create(1, identity_task, nullptr, nullptr), LOX_EINVAL);
  EXPECT_DETAIL("thread create");
  prime_detail();
  EXPECT_EQ(lox_thread_create_ex(1, identity_task, nullptr, nullptr, nullptr), LOX_EINVAL);
  EXPECT_DETAIL("thread create");
  lox_thread_opts o = LOX_THREAD_OPTS_INIT;
  prime_detail();
  EXPECT_EQ(lox_thread_create_ex(1, identity_task, nullptr, &o, nullptr), LOX_EINVAL);
  EXPECT_DETAIL("thread create");
}

TEST(BadInput, NullPoolForEveryThreadFunction) {
  size_t index = 777;
  void* result = to_ptr(555);

  prime_detail();
  EXPECT_EQ(lox_thread_scatter(nullptr, to_ptr(1), &index), LOX_EINVAL);
  EXPECT_DETAIL("thread scatter");
  EXPECT_EQ(index, 777u);

  prime_detail();
  EXPECT_EQ(lox_thread_scatter_fn(nullptr, identity_task, nullptr, to_ptr(1), &index), LOX_EINVAL);
  EXPECT_DETAIL("thread scatter");
  EXPECT_EQ(index, 777u);

  EXPECT_EQ(lox_results_status(nullptr, 0), LOX_EINVAL);  // unrelated detail
  EXPECT_EQ(lox_thread_call(nullptr, to_ptr(1), &result), LOX_EINVAL);
  EXPECT_DETAIL("thread call");
  EXPECT_EQ(result, to_ptr(555));

  lox_results* out = reinterpret_cast<lox_results*>(0x99);
  lox_gather_opts o = LOX_GATHER_OPTS_INIT;
  prime_detail();
  EXPECT_EQ(lox_thread_gather(nullptr, &o, &out), LOX_EINVAL);
  EXPECT_DETAIL("thread gather");
  EXPECT_EQ(out, reinterpret_cast<lox_results*>(0x99));
  prime_detail();
  EXPECT_EQ(lox_thread_gather(nullptr, nullptr, &out), LOX_EINVAL);
  EXPECT_DETAIL("thread gather");

  EXPECT_EQ(lox_thread_pending(nullptr), 0u);
  EXPECT_EQ(lox_thread_workers(nullptr), 0u);
  lox_thread_destroy(nullptr);  // accepted
}

TEST(BadInput, NullOutOfGatherChangesNothing) {
  Pool p = make_pool(2, identity_task);
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(5), nullptr), LOX_OK);
  prime_detail();
  EXPECT_EQ(lox_thread_gather(p.get(), nullptr, nullptr), LOX_EINVAL);
  EXPECT_DETAIL("thread gather");
  lox_gather_opts o = LOX_GATHER_OPTS_INIT;
  prime_detail();
  EXPECT_EQ(lox_thread_gather(p.get(), &o, nullptr), LOX_EINVAL);
  EXPECT_DETAIL("thread gather");
  // The round was not taken by the failed calls.
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 1u);
  EXPECT_EQ(value_at(r.get(), 0), 5);
}

TEST(BadInput, NullFnForScatterFn) {
  Pool p = make_pool(2, identity_task);
  size_t index = 777;
  prime_detail();
  EXPECT_EQ(lox_thread_scatter_fn(p.get(), nullptr, nullptr, to_ptr(1), &index), LOX_EINVAL);
  EXPECT_DETAIL("scatter");
  EXPECT_EQ(index, 777u);
  // The failed call consumed no index.
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(9), &index), LOX_OK);
  EXPECT_EQ(index, 0u);
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 1u);
  EXPECT_EQ(value_at(r.get(), 0), 9);
}

TEST(BadInput, NaNTimeoutIsRejectedAndChangesNothing) {
  Pool p = make_pool(2, identity_task);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  for (double nan : {kNaN, -kNaN, std::numeric_limits<double>::signaling_NaN()}) {
    lox_gather_opts o;
    lox_gather_opts_init(&o);
    o.timeout = nan;
    auto* sentinel = reinterpret_cast<lox_results*>(0x4242);
    lox_results* r = sentinel;
    prime_detail();
    EXPECT_EQ(lox_thread_gather(p.get(), &o, &r), LOX_EINVAL);
    EXPECT_EQ(r, sentinel);
    EXPECT_DETAIL("thread gather");
    EXPECT_DETAIL("NaN");
  }
  // Later scatters continue the same round: nothing was sealed by the failures.
  size_t index = 0;
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(4), &index), LOX_OK);
  EXPECT_EQ(index, 4u);
  Results r = gather_ok(p.get());
  EXPECT_EQ(values(r.get()), (std::vector<intptr_t>{0, 1, 2, 3, 4}));
}

TEST(BadInput, NegativeTimeoutsWaitForever) {
  Pool p = make_pool(2, identity_task);
  for (double t : {LOX_FOREVER, -0.5, -1e300, -std::numeric_limits<double>::infinity()}) {
    ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(3), nullptr), LOX_OK);
    int rc = -100;
    Results r = gather(p.get(), &rc, t);
    EXPECT_EQ(rc, LOX_OK) << t << ": " << lox_last_error();
    ASSERT_EQ(lox_results_count(r.get()), 1u);
    EXPECT_EQ(value_at(r.get(), 0), 3);
  }
}

TEST(BadInput, NullResultsForEveryResultsFunction) {
  const void* data = to_ptr(1);
  size_t len = 77;

  EXPECT_EQ(lox_results_count(nullptr), 0u);

  prime_detail();
  EXPECT_EQ(lox_results_status(nullptr, 0), LOX_EINVAL);
  EXPECT_DETAIL("results status");

  prime_detail();
  EXPECT_EQ(lox_results_value(nullptr, 0), nullptr);
  EXPECT_DETAIL("results value");

  prime_detail();
  EXPECT_EQ(lox_results_bytes(nullptr, 0, &data, &len), LOX_EINVAL);
  EXPECT_DETAIL("results bytes");
  EXPECT_EQ(data, to_ptr(1));
  EXPECT_EQ(len, 77u);

  EXPECT_EQ(lox_results_error(nullptr, 0), nullptr);
  lox_results_destroy(nullptr);  // accepted
}

TEST(BadInput, ResultsIndexOutOfRangeAndNullOutputs) {
  Pool p = make_pool(2, identity_task);
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(11), nullptr), LOX_OK);
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(12), nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r.get()), 2u);

  for (size_t bad : {size_t{2}, size_t{3}, static_cast<size_t>(-1)}) {
    prime_detail();
    EXPECT_EQ(lox_results_status(r.get(), bad), LOX_EINVAL) << bad;
    EXPECT_DETAIL("results status");
    prime_detail();
    EXPECT_EQ(lox_results_value(r.get(), bad), nullptr) << bad;
    EXPECT_DETAIL("results value");
    EXPECT_EQ(lox_results_error(r.get(), bad), nullptr) << bad;
    const void* data = to_ptr(1);
    size_t len = 77;
    prime_detail();
    EXPECT_EQ(lox_results_bytes(r.get(), bad, &data, &len), LOX_EINVAL) << bad;
    EXPECT_DETAIL("results bytes");
    EXPECT_EQ(data, to_ptr(1));
    EXPECT_EQ(len, 77u);
  }

  // NULL out-pointers of lox_results_bytes.
  size_t len = 77;
  const void* data = to_ptr(1);
  prime_detail();
  EXPECT_EQ(lox_results_bytes(r.get(), 0, nullptr, &len), LOX_EINVAL);
  EXPECT_DETAIL("results bytes");
  EXPECT_EQ(len, 77u);
  prime_detail();
  EXPECT_EQ(lox_results_bytes(r.get(), 0, &data, nullptr), LOX_EINVAL);
  EXPECT_DETAIL("results bytes");
  EXPECT_EQ(data, to_ptr(1));

  // The failures changed nothing in the results.
  EXPECT_EQ(lox_results_count(r.get()), 2u);
  EXPECT_EQ(value_at(r.get(), 0), 11);
  EXPECT_EQ(value_at(r.get(), 1), 12);
  EXPECT_EQ(lox_results_status(r.get(), 1), 0);
}

TEST(BadInput, ThreadResultsHoldValuesNotBytes) {
  Pool p = make_pool(2, identity_task);
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(1), nullptr), LOX_OK);
  Results r = gather_ok(p.get());
  const void* data = to_ptr(3);
  size_t len = 33;
  prime_detail();
  EXPECT_EQ(lox_results_bytes(r.get(), 0, &data, &len), LOX_EINVAL);
  EXPECT_DETAIL("results bytes");
  EXPECT_EQ(data, to_ptr(3)) << "outputs are untouched on error";
  EXPECT_EQ(len, 33u);
}

TEST(BadInput, ScatterAndCallOnAPoolWithoutFn) {
  lox_thread* raw = nullptr;
  ASSERT_EQ(lox_thread_create(2, nullptr, nullptr, &raw), LOX_OK) << "fn may be NULL";
  Pool p(raw);
  size_t index = 777;
  prime_detail();
  EXPECT_EQ(lox_thread_scatter(p.get(), to_ptr(1), &index), LOX_EINVAL);
  EXPECT_DETAIL("thread scatter");
  EXPECT_EQ(index, 777u);
  void* result = to_ptr(5);
  prime_detail();
  EXPECT_EQ(lox_thread_call(p.get(), to_ptr(1), &result), LOX_EINVAL);
  EXPECT_DETAIL("thread call");
  EXPECT_EQ(result, to_ptr(5));
  EXPECT_EQ(lox_thread_pending(p.get()), 0u);
  // Nothing was queued by the failures: an empty round.
  Results r = gather_ok(p.get());
  EXPECT_EQ(lox_results_count(r.get()), 0u);
}

// ------------------------------------------------ exceptions stay inside --

int throwing_task(void*, void* arg, void** result) {
  if (from_ptr(arg) % 2) throw std::runtime_error("boom from a task");
  *result = arg;
  return 0;
}

TEST(Exceptions, ATaskThrowingDoesNotCrossTheBoundary) {
  QuietLog quiet;
  Pool p = make_pool(2, throwing_task);
  for (int i = 0; i < 6; ++i) ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(i), nullptr), LOX_OK);
  int rc = 0;
  Results r = gather(p.get(), &rc);
  EXPECT_EQ(rc, LOX_ETASK);
  ASSERT_EQ(lox_results_count(r.get()), 6u);
  for (size_t i = 0; i < 6; ++i) {
    if (i % 2) {
      EXPECT_NE(lox_results_status(r.get(), i), 0) << i;
      EXPECT_NE(lox_results_error(r.get(), i), nullptr) << i;
    } else {
      EXPECT_EQ(lox_results_status(r.get(), i), 0) << i;
      EXPECT_EQ(value_at(r.get(), i), static_cast<intptr_t>(i));
    }
  }
  // lox_thread_call too.
  EXPECT_NE(lox_thread_call(p.get(), to_ptr(1), nullptr), 0);
  // The pool still works.
  ASSERT_EQ(lox_thread_scatter(p.get(), to_ptr(8), nullptr), LOX_OK);
  Results r2 = gather_ok(p.get());
  ASSERT_EQ(lox_results_count(r2.get()), 1u);
  EXPECT_EQ(value_at(r2.get(), 0), 8);
}

}  // namespace
