#include "dissect/optim/gradient_flow.hpp"

#include <fmt/format.h>

#include <cmath>
#include <dissect/theory/bounds.hpp>
#include <dissect/theory/check.hpp>
#include <dissect/theory/geometry.hpp>
#include <memory>
#include <numeric>
#include <random>

#include "dissect/optim/point_objectives.hpp"

namespace dissect::optim {
namespace {

// Projects each block of size `size` of v (from `first` on, `count` blocks) onto the sphere (or into the ball) of
// radius `radius`.
void Project(
    Eigen::VectorXd* v, Eigen::Index first, Eigen::Index count, Eigen::Index size, double radius, bool sphere) {
  for (Eigen::Index b = 0; b < count; ++b) {
    auto block = v->segment(first + b * size, size);
    const double norm = block.norm();
    if (sphere || norm > radius) block *= radius / norm;
  }
}

}  // namespace

void GradientFlowOptions::Validate() const {
  constexpr const char* kFunction = "RunGradientFlow";
  theory::RequireAtLeast(kFunction, "num_classes (K)", num_classes, 2);
  theory::RequireAtLeast(kFunction, "per_class (n)", per_class, 1);
  theory::RequireAtLeast(kFunction, "dim (h)", dim, 1);
  theory::RequireAtLeast(kFunction, "steps", steps, 1);
  theory::RequireAtLeast(kFunction, "record_every", record_every, 1);
  if (!(step_size > 0.0) || !std::isfinite(step_size)) {
    theory::ThrowInvalidArgument(kFunction, fmt::format("expected step_size > 0, got {}", step_size));
  }
  if (loss == LossKind::kCrossEntropy && (!(weight_norm > 0.0) || !std::isfinite(weight_norm))) {
    theory::ThrowInvalidArgument(kFunction, fmt::format("expected weight_norm (r) > 0, got {}", weight_norm));
  }
}

GradientFlowResult RunGradientFlow(const GradientFlowOptions& options) {
  options.Validate();
  const int k = options.num_classes;
  const Eigen::Index h = options.dim;
  const Eigen::Index n = static_cast<Eigen::Index>(k) * options.per_class;
  const double rho = options.temperature.radius();
  const bool ce = options.loss == LossKind::kCrossEntropy;

  GradientFlowResult result;
  result.labels.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) result.labels[i] = static_cast<int>(i / options.per_class);

  std::unique_ptr<Objective> objective;
  if (ce) {
    objective = std::make_unique<CrossEntropyPointObjective>(options.dim, k, result.labels);
    result.bound = theory::CrossEntropyBound(k, rho, options.weight_norm);  // Paper: CE bound
  } else {
    WeightedBatch all;
    all.indices.resize(n);
    std::iota(all.indices.begin(), all.indices.end(), 0);
    objective = std::make_unique<SupConPointObjective>(options.dim, result.labels, std::vector<WeightedBatch>{all});
    // Paper: SC bound; the one balanced batch of all points, logits <z, z'> with ||z|| = rho.
    result.bound =
        theory::SupConCompositionValue(std::vector<int>(k, options.per_class), theory::Temperature::FromRadius(rho));
  }

  // Seeded start: Gaussian directions; SC points on the sphere, CE points and rows at a quarter of their radius.
  std::mt19937_64 engine(options.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::VectorXd z(objective->NumParameters());
  for (Eigen::Index i = 0; i < z.size(); ++i) z[i] = normal(engine);
  Project(&z, 0, n, h, ce ? 0.25 * rho : rho, true);
  if (ce) Project(&z, h * n, k, h, 0.25 * options.weight_norm, true);

  const double eta = ce ? options.step_size : options.step_size / static_cast<double>(n);
  const auto snapshot = [&](int iteration, double loss) {
    GradientFlowSnapshot s;
    s.iteration = iteration;
    s.loss = loss;
    s.points = Eigen::Map<const Eigen::MatrixXd>(z.data(), h, n);
    if (ce) s.weights = Eigen::Map<const Eigen::MatrixXd>(z.data() + h * n, h, k).transpose();
    result.snapshots.push_back(std::move(s));
  };
  Eigen::VectorXd gradient;
  for (int step = 0; step < options.steps; ++step) {
    const double loss = objective->Evaluate(z, &gradient);
    if (step % options.record_every == 0) snapshot(step, loss);
    z -= eta * gradient;
    Project(&z, 0, n, h, rho, !ce);
    if (ce) Project(&z, h * n, k, h, options.weight_norm, false);
  }
  result.final_loss = objective->Evaluate(z, nullptr);
  snapshot(options.steps, result.final_loss);
  result.rel_gap = (result.final_loss - result.bound) / std::abs(result.bound);

  const Eigen::MatrixXd& points = result.snapshots.back().points;
  const theory::ClassMeans means = theory::ComputeClassMeans(points, result.labels, k);
  if (h >= k - 1) result.max_gram_error = theory::MaxGramErrorAgainstSimplex(means.means, rho);
  result.max_within_class_spread = theory::WithinClassSpread(points, result.labels, k).maxCoeff();
  return result;
}

}  // namespace dissect::optim
