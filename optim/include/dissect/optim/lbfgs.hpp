#pragma once
// LBFGS over an Objective, with Ceres' GradientProblemSolver behind a non-template function (Ceres stays private
// to optim's .cpp files, docs/development.md).

#include <Eigen/Core>
#include <functional>
#include <limits>
#include <string>

#include "dissect/optim/objective.hpp"

namespace dissect::optim {

struct LbfgsOptions {
  int max_iterations = 10000;  // iterations of LBFGS
  int memory = 20;             // LBFGS rank
  // Stop when stationarity(x) <= gradient_tolerance (stationarity: the caller's measure, else ||grad||_2).
  double gradient_tolerance = 1e-10;
  // Where no step changes the loss in double precision any more (Ceres' function/parameter tolerance), the run
  // still counts as converged when stationarity <= precision_floor_tolerance * max(1, |f|): a sum of many terms
  // cannot resolve a smaller gradient through its values.
  double precision_floor_tolerance = 1.5e-8;
  // Called at each accepted iterate with the parameters; returns the stationarity measure reported and tested.
  // Null means the Euclidean gradient norm of the objective.
  std::function<double(const Eigen::Ref<const Eigen::VectorXd>&)> stationarity;
  IterationCallback callback;  // progress and cancellation (true = stop)

  // Throws std::invalid_argument for max_iterations < 0, memory < 1, a tolerance < 0 or NaN.
  void Validate() const;
};

struct LbfgsSummary {
  double final_loss = std::numeric_limits<double>::quiet_NaN();
  double grad_norm = std::numeric_limits<double>::quiet_NaN();  // the stationarity measure at the end
  int iterations = 0;
  double seconds = 0.0;
  bool converged = false;  // the gradient tolerance, or the precision floor, was met
  bool cancelled = false;  // the callback asked to stop
  std::string message = "not run";
};

// Minimizes the objective from *x (updated in place). Numerical failure (line-search failure, no convergence) is
// reported in the summary; an exception thrown by the objective or a callback is rethrown after the solver returns.
LbfgsSummary MinimizeLbfgs(const Objective& objective, Eigen::VectorXd* x, const LbfgsOptions& options);

}  // namespace dissect::optim
