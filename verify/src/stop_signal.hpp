#pragma once
// Clean interruption of long commands (train, noise, minimize): SIGINT and SIGTERM only set a stop request, which the
// commands' progress callbacks read; the work then ends at a safe point with what is finished written.

namespace dissect::cli {

// SIGINT and SIGTERM set a stop request (the signal number) while a StopOnSignal lives; the previous handlers come
// back when it ends.
class StopOnSignal {
 public:
  StopOnSignal();
  ~StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;
  // The signal that asked to stop, 0 when none.
  static int Requested();

 private:
  void (*previous_int_)(int);
  void (*previous_term_)(int);
};

}  // namespace dissect::cli
