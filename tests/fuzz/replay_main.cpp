// Replays fuzzer inputs through a harness's LLVMFuzzerTestOneInput without
// libFuzzer: the CTest regression tests (label `fuzz`) of every build,
// sanitized ones included. Arguments are files or directories (every
// regular file inside, in name order). Fails if an input aborts (the
// harness's invariants) or if the run ends with more open descriptors or
// threads than it started with.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

namespace {

size_t entries(const char* dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

int replay(const fs::path& file) {
  std::ifstream f(file, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
    return 1;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    if (fs::is_directory(argv[i])) {
      for (const auto& e : fs::directory_iterator(argv[i]))
        if (e.is_regular_file()) files.push_back(e.path());
    } else {
      files.emplace_back(argv[i]);
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "replay: no input given\n");
    return 1;
  }
  // ThreadSanitizer starts a thread of its own at the first thread creation
  // and keeps it: start (and join) one before counting, so that it is part
  // of the starting count (as tests/support/resource_guard.cpp does).
  std::thread([] {}).join();
  const size_t fds = entries("/proc/self/fd"), threads = entries("/proc/self/task");
  int failed = 0;
  for (const auto& f : files) failed += replay(f);
  // A joined thread's kernel task can outlive pthread_join by a moment:
  // give the counts up to 10 s to settle before judging them.
  size_t fds_after = 0, threads_after = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    fds_after = entries("/proc/self/fd");
    threads_after = entries("/proc/self/task");
    if ((fds_after <= fds && threads_after <= threads) || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (fds_after > fds || threads_after > threads) {
    std::fprintf(stderr, "replay: %zu descriptors and %zu threads left, %zu and %zu at start\n", fds_after,
                 threads_after, fds, threads);
    ++failed;
  }
  std::printf("replay: %zu inputs replayed%s\n", files.size(), failed ? ", FAILED" : "");
  return failed ? 1 : 0;
}
