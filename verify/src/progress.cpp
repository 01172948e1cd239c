#include "progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace dissect::cli {

ProgressLine::ProgressLine(bool wanted) : enabled_(wanted && ::isatty(STDERR_FILENO) == 1) {}

ProgressLine::~ProgressLine() { Finish(); }

void ProgressLine::Update(const std::string& text) {
  if (!enabled_) return;
  const double now = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  if (now - last_ < 0.1) return;
  last_ = now;
  std::fprintf(stderr, "\r\033[K%s", text.c_str());
  std::fflush(stderr);
  dirty_ = true;
}

void ProgressLine::Finish() {
  if (enabled_ && dirty_) {
    std::fprintf(stderr, "\n");
    dirty_ = false;
  }
}

}  // namespace dissect::cli
