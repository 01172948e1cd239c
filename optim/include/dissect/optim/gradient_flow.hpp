#pragma once
// The paper's Figure 1 as numbers: free points (and CE's classifier) moved by projected gradient descent from a
// seeded random start until the classes collapse onto the vertices of a regular simplex. Unlike Minimize (LBFGS with
// line searches, continuation and Newton steps), the path itself is the result: snapshots of every point along the
// way, for a 3-D picture of K = 4 classes becoming a tetrahedron.

#include <Eigen/Core>
#include <cstdint>
#include <dissect/theory/temperature.hpp>
#include <limits>
#include <vector>

#include "dissect/optim/minimize.hpp"

namespace dissect::optim {

struct GradientFlowOptions {
  LossKind loss = LossKind::kSupCon;
  int num_classes = 4;  // K >= 2
  int per_class = 5;    // n >= 1, balanced
  int dim = 3;          // h >= 1
  // rho = 1/sqrt(tau): SC points on the sphere of radius rho, CE points in the ball of radius rho.
  theory::Temperature temperature = theory::Temperature::FromTemperature(1.0);
  double weight_norm = 1.0;  // CE: per-row bound r on W
  int steps = 1000;          // gradient steps
  // Step length eta: z <- P(z - eta g), P the projection onto the spheres (SC) or balls (CE). SC's loss is a sum
  // over the N anchors (Paper: SC loss), so its step is divided by N to keep one scale for both losses.
  double step_size = 0.5;
  int record_every = 5;    // a snapshot every this many steps (and the start and the end)
  std::uint64_t seed = 0;  // the random start

  // Throws std::invalid_argument naming the first bad field.
  void Validate() const;
};

struct GradientFlowSnapshot {
  int iteration = 0;
  double loss = std::numeric_limits<double>::quiet_NaN();
  Eigen::MatrixXd points;   // dim x N
  Eigen::MatrixXd weights;  // K x dim (CE), empty for SC
};

struct GradientFlowResult {
  Eigen::VectorXi labels;  // N, class-major (n points of class 0, then class 1, ...)
  std::vector<GradientFlowSnapshot> snapshots;
  // Paper: CE bound, or the SC value of the one balanced batch at the simplex (its minimum, Paper: SC bound).
  double bound = std::numeric_limits<double>::quiet_NaN();
  double final_loss = std::numeric_limits<double>::quiet_NaN();
  double rel_gap = std::numeric_limits<double>::quiet_NaN();         // (final_loss - bound) / |bound|
  double max_gram_error = std::numeric_limits<double>::quiet_NaN();  // final class means vs the radius-rho simplex
  double max_within_class_spread = std::numeric_limits<double>::quiet_NaN();
};

// Runs the projected gradient descent; throws std::invalid_argument for bad options.
GradientFlowResult RunGradientFlow(const GradientFlowOptions& options);

}  // namespace dissect::optim
