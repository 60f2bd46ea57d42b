// SPDX-License-Identifier: Apache-2.0
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
#include <vector>

#include "proc_self.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

namespace {

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
  loxtest::start_thread_runtime();  // TSan's own thread is then part of the start count
  const loxtest::ResourceCounts start = loxtest::resource_counts();
  int failed = 0;
  for (const auto& f : files) failed += replay(f);
  const loxtest::ResourceCounts end = loxtest::settled_counts(start, std::chrono::seconds(10));
  if (end.fds > start.fds || end.threads > start.threads) {
    std::fprintf(stderr, "replay: %zu descriptors and %zu threads left, %zu and %zu at start\n", end.fds, end.threads,
                 start.fds, start.threads);
    ++failed;
  }
  std::printf("replay: %zu inputs replayed%s\n", files.size(), failed ? ", FAILED" : "");
  return failed ? 1 : 0;
}
