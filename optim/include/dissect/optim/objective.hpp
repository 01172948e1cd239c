#pragma once
// The one interface of every loss over free points (docs/development.md, Objectives): ensmallen's EvaluateWithGradient
// plus Ceres' nullable gradient, over a flat parameter vector.

#include <Eigen/Core>
#include <functional>
#include <limits>

namespace dissect::optim {

class Objective {
 public:
  virtual ~Objective() = default;
  // Length of the parameter vector.
  virtual Eigen::Index NumParameters() const = 0;
  // The value at x; when gradient is not null it is resized and filled with the gradient. Throws
  // std::invalid_argument for an x of the wrong length.
  virtual double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& x, Eigen::VectorXd* gradient) const = 0;
};

// What a solver reports after each iteration.
struct IterationInfo {
  int iteration = 0;                                            // 0 = the starting point
  double loss = std::numeric_limits<double>::quiet_NaN();       // objective value
  double grad_norm = std::numeric_limits<double>::quiet_NaN();  // stationarity measure (see MinimizeResult)
  double step_size = std::numeric_limits<double>::quiet_NaN();  // line-search step or learning rate
  double seconds = 0.0;                                         // wall time since the start
  // Minimize(): the stage that produced it ("continuation", "lbfgs", "newton", "sgd") and the radius of the spheres
  // the points were on (continuation stages run at radii below rho, where the loss is another function).
  const char* stage = "";
  double radius = std::numeric_limits<double>::quiet_NaN();
};

// Called after each iteration; returning true stops the solver (cancellation).
using IterationCallback = std::function<bool(const IterationInfo&)>;

}  // namespace dissect::optim
