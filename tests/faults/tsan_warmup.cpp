// ThreadSanitizer starts a background thread of its own the first time the
// program creates a thread, and keeps it: the first test of a process that
// starts a thread would end with one thread more than it began with, and the
// resource guard would fail it. Starting (and joining) one thread at static
// initialisation, before any test, makes that thread part of every test's
// starting count. Without TSan this is a thread started and joined, nothing
// more.
#include <thread>

namespace {
const bool g_warm = [] {
  std::thread([] {}).join();
  return true;
}();
}  // namespace
