// A GoogleTest listener linked into every test program: it counts the
// process's open file descriptors and threads when a test starts and checks
// that both are back to that count when the test ends, so a test whose
// objects leak a descriptor or a thread fails, with the descriptors listed.
//
// Threads and descriptors are released asynchronously in a few places (a
// joined thread's kernel task disappears a moment after pthread_join
// returns; a reaped worker's socket is closed by the pool's reaper), so the
// end count is polled for up to kSettle before it is judged. Nothing passes
// by waiting: a real leak stays and fails the test after kSettle.
//
// Registered at static-initialisation time, before gtest_main's main runs.
// The check can be switched off with LOX_TEST_NO_RESOURCE_GUARD=1 (for a
// debugger session; CI never sets it).
// A test that knowingly keeps something alive (e.g. a deliberately leaked
// handle) calls loxtest::allow_resource_change() to opt out.
#include "resource_guard.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace loxtest {
namespace {

constexpr auto kSettle = std::chrono::seconds(10);
bool g_allowed = false;

// Entries of a /proc directory, without "." and "..", except `skip` (the
// descriptor opendir itself holds).
std::vector<std::string> list_dir(const char* path) {
  std::vector<std::string> names;
  DIR* d = opendir(path);
  if (!d) return names;
  int own = dirfd(d);
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    if (n == std::to_string(own) && std::string(path) == "/proc/self/fd") continue;
    names.push_back(n);
  }
  closedir(d);
  return names;
}

std::string describe_fds() {
  std::string out;
  for (const auto& n : list_dir("/proc/self/fd")) {
    char target[512];
    std::string link = "/proc/self/fd/" + n;
    ssize_t len = readlink(link.c_str(), target, sizeof target - 1);
    target[len > 0 ? len : 0] = '\0';
    out += "  fd " + n + " -> " + target + "\n";
  }
  return out;
}

class ResourceGuard : public testing::EmptyTestEventListener {
 public:
  void OnTestStart(const testing::TestInfo&) override {
    g_allowed = false;
    fds_ = list_dir("/proc/self/fd").size();
    threads_ = list_dir("/proc/self/task").size();
  }

  void OnTestEnd(const testing::TestInfo& info) override {
    if (g_allowed || info.result()->Skipped()) return;
    size_t fds = 0, threads = 0;
    auto deadline = std::chrono::steady_clock::now() + kSettle;
    for (;;) {
      fds = list_dir("/proc/self/fd").size();
      threads = list_dir("/proc/self/task").size();
      if ((fds <= fds_ && threads <= threads_) || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (fds > fds_)
      ADD_FAILURE() << "resource guard: " << fds - fds_ << " file descriptor(s) more at the end of "
                    << info.test_suite_name() << "." << info.name() << " than at its start (" << fds_
                    << " -> " << fds << "); open now:\n"
                    << describe_fds();
    if (threads > threads_)
      ADD_FAILURE() << "resource guard: " << threads - threads_ << " thread(s) more at the end of "
                    << info.test_suite_name() << "." << info.name() << " than at its start ("
                    << threads_ << " -> " << threads << ")";
  }

 private:
  size_t fds_ = 0, threads_ = 0;
};

const bool g_registered = [] {
  // ThreadSanitizer starts a background thread of its own the first time
  // the program creates a thread, and keeps it. Starting (and joining) one
  // thread now, before any test, makes it part of every test's starting
  // count. Without TSan this is one thread started and joined.
  std::thread([] {}).join();
  if (const char* off = std::getenv("LOX_TEST_NO_RESOURCE_GUARD"); off && *off && *off != '0') return false;
  testing::UnitTest::GetInstance()->listeners().Append(new ResourceGuard);
  return true;
}();

}  // namespace

void allow_resource_change() { g_allowed = true; }

}  // namespace loxtest
