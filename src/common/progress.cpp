// SPDX-License-Identifier: Apache-2.0
#include "common/progress.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

namespace lox::core {
namespace {

std::string clock_text(double seconds) {
  if (!(seconds >= 0) || seconds > 359999) return "??:??";
  auto s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{:02}:{:02}", s / 60, s % 60);
}

int terminal_width(std::FILE* stream) {
  winsize ws{};
  if (ioctl(fileno(stream), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace

ProgressBar::ProgressBar(std::FILE* stream, size_t total)
    : stream_(stream),
      total_(total),
      active_(stream && isatty(fileno(stream))),
      start_(std::chrono::steady_clock::now()),
      last_draw_() {}

std::string ProgressBar::render(size_t done, size_t total, double elapsed, int width) {
  double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  double eta = rate > 0 ? static_cast<double>(total - std::min(done, total)) / rate : -1.0;
  std::string left = fmt::format("{:3.0f}%|", frac * 100.0);
  std::string rate_text = rate > 0 ? fmt::format("{:.1f} it/s", rate) : std::string("? it/s");
  std::string right = fmt::format("| {}/{} [{}<{}, {}]", done, total, clock_text(elapsed),
                                  done >= total ? clock_text(0) : clock_text(eta), rate_text);
  int bar_width = std::max(10, width - 1 - static_cast<int>(left.size() + right.size()));
  auto filled = static_cast<int>(frac * bar_width);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(static_cast<size_t>(bar_width), ' ');
  return left + bar + right;
}

void ProgressBar::draw(size_t done) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string line = render(done, total_, elapsed, terminal_width(stream_));
  // \r returns to the line start; \x1b[K clears what a longer line left.
  std::fprintf(stream_, "\r%s\x1b[K", line.c_str());
  std::fflush(stream_);
}

void ProgressBar::update(size_t done) {
  if (!active_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(done);
}

void ProgressBar::finish(size_t done) {
  if (!active_) return;
  draw(done);
  std::fputc('\n', stream_);
  std::fflush(stream_);
}

ProgressReporter::ProgressReporter(ProgressFn fn, void* ctx, bool bar, size_t total)
    : fn_(fn), ctx_(ctx), total_(total), bar_(bar ? stderr : nullptr, total) {}

void ProgressReporter::update(size_t done) {
  if (any_ && done <= reported_) return;
  if (done >= total_) return;  // the final count is reported by finish()
  reported_ = done;
  any_ = true;
  if (fn_) fn_(ctx_, done, total_);
  bar_.update(done);
}

void ProgressReporter::finish() {
  if (fn_) fn_(ctx_, total_, total_);
  bar_.finish(total_);
}

}  // namespace lox::core
