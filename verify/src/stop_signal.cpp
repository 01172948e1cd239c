#include "stop_signal.hpp"

#include <atomic>
#include <csignal>

namespace dissect::cli {
namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void RequestStop(int signal) { g_stop_signal = signal; }

}  // namespace

StopOnSignal::StopOnSignal() {
  g_stop_signal = 0;
  previous_int_ = std::signal(SIGINT, RequestStop);
  previous_term_ = std::signal(SIGTERM, RequestStop);
}

StopOnSignal::~StopOnSignal() {
  std::signal(SIGINT, previous_int_);
  std::signal(SIGTERM, previous_term_);
}

int StopOnSignal::Requested() { return g_stop_signal.load(); }

}  // namespace dissect::cli
