#include "progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace dissect::cli {
namespace {

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// DISSECT_PROGRESS_SECONDS, or 30; a value that is not a non-negative number is ignored (progress is not worth an
// error).
double HeartbeatSeconds() {
  const char* text = std::getenv("DISSECT_PROGRESS_SECONDS");
  if (text == nullptr || *text == '\0') return 30.0;
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  return (*end == '\0' && std::isfinite(value) && value >= 0.0) ? value : 30.0;
}

}  // namespace

ProgressLine::ProgressLine(bool wanted)
    : wanted_(wanted),
      terminal_(wanted && ::isatty(STDERR_FILENO) == 1),
      heartbeat_seconds_(HeartbeatSeconds()),
      last_line_(Now()) {}

ProgressLine::~ProgressLine() { Finish(); }

void ProgressLine::Update(const std::string& text, bool event) {
  if (!wanted_) return;
  const double now = Now();
  if (terminal_) {
    if (!event && now - last_ < 0.1) return;
    last_ = now;
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    std::fflush(stderr);
    dirty_ = true;
    return;
  }
  const bool heartbeat = heartbeat_seconds_ > 0.0 && now - last_line_ >= heartbeat_seconds_;
  if (!event && !heartbeat) return;
  last_line_ = now;
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

void ProgressLine::Finish() {
  if (terminal_ && dirty_) {
    std::fprintf(stderr, "\n");
    dirty_ = false;
  }
}

}  // namespace dissect::cli
