#pragma once
// The paper's learning-rate schedule (docs/theory.md, Experiments): poly-5, lr_i = lr0 (1 - i/T)^5 for step i of a
// schedule of T steps ("exponential" in the authors' code). One definition for every optimizer that uses it:
// optim's sampled SGD over free points, train's encoder training and its retrained linear probe.

#include <cmath>
#include <cstdint>

namespace dissect::theory {

// lr0 (1 - step/steps)^5; step in [0, steps] (steps >= 1) gives a rate from lr0 down to 0.
inline double Poly5LearningRate(double base_rate, std::int64_t step, std::int64_t steps) {
  return base_rate * std::pow(1.0 - static_cast<double>(step) / static_cast<double>(steps), 5.0);
}

}  // namespace dissect::theory
