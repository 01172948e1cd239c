#pragma once
// The extreme eigenvalues of a large symmetric operator known only through its products: thick-restart Lanczos
// with full reorthogonalization (Wu and Simon 2000), memory basis_size + a few vectors of the operator's length.

#include <Eigen/Core>
#include <functional>
#include <limits>
#include <string>

namespace dissect::optim {

// The two extreme Ritz pairs of a Lanczos basis.
struct RitzExtremes {
  double lowest = std::numeric_limits<double>::quiet_NaN();   // the smallest Ritz value
  double highest = std::numeric_limits<double>::quiet_NaN();  // the largest Ritz value
  // Their residual norms ||A y - theta y||.
  double lowest_residual = std::numeric_limits<double>::quiet_NaN();
  double highest_residual = std::numeric_limits<double>::quiet_NaN();
};

// What LanczosExtremeEigenpairs reports after each step.
struct LanczosProgress {
  int iteration = 0;   // operator products in the iteration so far
  int basis_size = 0;  // vectors in the basis now
  int restarts = 0;
  RitzExtremes extremes;  // residuals from the Lanczos relation (beta |s_last|)
};

struct LanczosOptions {
  int basis_size = 24;        // m >= 2: the vectors kept (memory: m + 4 vectors of the operator's length)
  int restart_size = 10;      // Ritz vectors kept at a thick restart (2/3 of them from the low end), 1 <= . < m
  int max_iterations = 1000;  // cap on the products of the iteration (2 more recompute the final residuals)
  // Converged when both extremes have residual <= max(absolute_tolerance, relative_tolerance |theta|).
  double relative_tolerance = 1e-6;
  double absolute_tolerance = 0.0;
  std::function<bool(const LanczosProgress&)> callback;  // after each step; true = stop

  // Throws std::invalid_argument naming the first bad field ("LanczosExtremeEigenpairs(): expected ...").
  void Validate() const;
};

struct LanczosResult {
  bool converged = false;  // both extremes within the tolerances, or the subspace exhausted
  bool stopped = false;    // the callback asked to stop (the values below are those of the last step)
  int iterations = 0;      // products of the iteration (without the 2 of the final residuals)
  int restarts = 0;
  // The final extremes; their residuals recomputed with a product each (the recurrence's where stopped).
  RitzExtremes extremes;
  Eigen::VectorXd ritz_values;    // of the final basis, ascending
  Eigen::VectorXd lowest_vector;  // the unit Ritz vector of `lowest` (empty where stopped)
  std::string message = "not run";
};

// The smallest and the largest eigenvalue of a symmetric operator A on a subspace of dimension subspace_dim: `apply`
// returns A x for x in the subspace, projected back onto it (the iterates stay there only through it). `start`:
// a nonzero vector of the subspace (a random one finds every eigenvalue with probability 1). The basis never grows
// beyond subspace_dim, where the Ritz values are exact. Ritz values approach the extremes from inside: a lowest
// below zero proves negative curvature at any iteration, one above zero is a bound only once converged. Throws
// std::invalid_argument for a zero start, subspace_dim < 1 and what Validate() throws.
LanczosResult LanczosExtremeEigenpairs(const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& apply,
                                       const Eigen::Ref<const Eigen::VectorXd>& start,
                                       Eigen::Index subspace_dim,
                                       const LanczosOptions& options = {});

}  // namespace dissect::optim
