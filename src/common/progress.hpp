// SPDX-License-Identifier: Apache-2.0
// Progress of a gather: the user's callback and/or lox's terminal progress
// bar (tqdm=True). Owned and driven by the gathering thread only, so the
// callback is never called concurrently.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace lox::core {

using ProgressFn = void (*)(void* ctx, size_t done, size_t total);

// A one-line bar redrawn in place on a terminal:
//   " 45%|#########           | 450/1000 [00:02<00:03, 180.5 it/s]"
// Draws nothing when the stream is not a terminal. Redraws at most ~10
// times a second, plus the final state.
class ProgressBar {
 public:
  ProgressBar(std::FILE* stream, size_t total);
  void update(size_t done);
  void finish(size_t done);  // final redraw and newline
  bool active() const noexcept { return active_; }

  // The text of the bar for these figures (exposed for tests).
  static std::string render(size_t done, size_t total, double elapsed_s, int width);

 private:
  void draw(size_t done);
  std::FILE* stream_;
  size_t total_;
  bool active_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

class ProgressReporter {
 public:
  ProgressReporter(ProgressFn fn, void* ctx, bool bar, size_t total);
  bool wanted() const noexcept { return fn_ != nullptr || bar_.active(); }
  // Reports `done` if it grew since the last report.
  void update(size_t done);
  // Reports the final count (done == total); call once when the round is complete.
  void finish();

 private:
  ProgressFn fn_;
  void* ctx_;
  size_t total_;
  size_t reported_ = 0;
  bool any_ = false;
  ProgressBar bar_;
};

}  // namespace lox::core
