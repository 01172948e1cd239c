#pragma once
// A process-wide setting changed for a scope and restored on every exit, exceptions included: the one guard that
// library code uses when a dependency offers no other way to ask it something (glog's FLAGS_minloglevel around Ceres'
// solver in optim, LibTorch's log level in train). docs/development.md: libraries change no process-wide state
// beyond the call that needs it.

#include <utility>

namespace dissect::theory {

template <typename T>
class ScopedAssignment {
 public:
  ScopedAssignment(T& variable, T value) : variable_(variable), saved_(variable) { variable_ = std::move(value); }
  ~ScopedAssignment() { variable_ = std::move(saved_); }
  ScopedAssignment(const ScopedAssignment&) = delete;
  ScopedAssignment& operator=(const ScopedAssignment&) = delete;

 private:
  T& variable_;
  T saved_;
};

}  // namespace dissect::theory
