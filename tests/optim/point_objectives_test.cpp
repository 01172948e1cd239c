// Tests of dissect/optim/point_objectives.hpp: the SC and CE losses of docs/theory.md as Objectives over the flat point
// vector (SC: vec(Z); CE: [vec(Z); vec(W^T)]) and their composition with the block parametrization.

#include "dissect/optim/point_objectives.hpp"

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "catch.hpp"
#include "dissect/theory/bounds.hpp"
#include "dissect/theory/cross_entropy_loss.hpp"
#include "dissect/theory/regular_simplex.hpp"
#include "dissect/theory/supcon_loss.hpp"
#include "dissect/theory/temperature.hpp"
#include "test_support.hpp"

namespace dissect::optim {
namespace {

using test::BalancedLabels;
using test::Flatten;
using test::kGradientTolerance;
using test::kRoundingTolerance;
using test::kTightTolerance;
using test::MaxVectorGradientError;
using test::MessageContains;
using test::PointsAtVertices;
using test::RandomGaussianPoints;
using test::RandomLabels;
using test::RandomRotation;
using test::RandomSpherePoints;

// z = [vec(Z); vec(W^T)], written entry by entry (shares nothing with the implementation's maps).
Eigen::VectorXd CrossEntropyParameters(const Eigen::MatrixXd& points, const Eigen::MatrixXd& weights) {
  const Eigen::Index h = points.rows();
  const Eigen::Index n = points.cols();
  Eigen::VectorXd z(h * (n + weights.rows()));
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index d = 0; d < h; ++d) z[h * i + d] = points(d, i);
  }
  for (Eigen::Index k = 0; k < weights.rows(); ++k) {
    for (Eigen::Index d = 0; d < h; ++d) z[h * (n + k) + d] = weights(k, d);
  }
  return z;
}

theory::SupConOptions PlainSum() {
  theory::SupConOptions options;
  options.temperature = theory::Temperature::FromTemperature(1.0);
  options.reduction = theory::SupConReduction::kSum;
  return options;
}

// The columns of `points` picked by `indices`, and their labels.
struct Gathered {
  Eigen::MatrixXd points;
  Eigen::VectorXi labels;
};
Gathered Gather(const Eigen::MatrixXd& points, const Eigen::VectorXi& labels, const std::vector<int>& indices) {
  Gathered gathered{Eigen::MatrixXd(points.rows(), indices.size()), Eigen::VectorXi(indices.size())};
  for (std::size_t j = 0; j < indices.size(); ++j) {
    gathered.points.col(j) = points.col(indices[j]);
    gathered.labels[j] = labels[indices[j]];
  }
  return gathered;
}

double GradientError(const Objective& objective, const Eigen::VectorXd& x) {
  Eigen::VectorXd analytic;
  objective.Evaluate(x, &analytic);
  const auto value = [&](const Eigen::VectorXd& at) { return objective.Evaluate(at, nullptr); };
  return MaxVectorGradientError(value, x, analytic);
}

// Six points of 3 classes and batches with repeated indices, a permuted full batch and a singleton.
constexpr int kDim = 3;
std::vector<WeightedBatch> MixedBatches() {
  return {
      WeightedBatch{{0, 2, 2, 5, 1}, 1.0},
      WeightedBatch{{3, 3, 4, 0}, 0.25},
      WeightedBatch{{5, 4, 3, 2, 1, 0}, 2.0},
      WeightedBatch{{4}, 1.0},
  };
}
Eigen::VectorXi MixedLabels() {
  Eigen::VectorXi labels(6);
  labels << 0, 1, 0, 2, 2, 1;
  return labels;
}

TEST_CASE("SupConPointObjective: one full batch equals theory::SupConLoss (sum, temperature 1), value and gradient",
          "[point_objectives]") {
  for (const double radius : {1.0, 2.0, 3.5}) {
    CAPTURE(radius);
    const Eigen::MatrixXd points = RandomSpherePoints(4, 9, radius, 11);
    const Eigen::VectorXi labels = RandomLabels(9, 3, 12);
    const SupConPointObjective objective(4, labels, {WeightedBatch{{0, 1, 2, 3, 4, 5, 6, 7, 8}, 1.0}});
    REQUIRE(objective.NumParameters() == 36);
    const theory::SupConResult expected = theory::SupConLoss(points, labels, PlainSum());
    Eigen::VectorXd gradient;
    const double value = objective.Evaluate(Flatten(points), &gradient);
    REQUIRE(value == Approx(expected.value).epsilon(kRoundingTolerance));
    REQUIRE(gradient.size() == 36);
    REQUIRE((gradient - Flatten(expected.gradient)).cwiseAbs().maxCoeff() ==
            Approx(0.0).margin(kRoundingTolerance * expected.gradient.cwiseAbs().maxCoeff()));
    REQUIRE(objective.Evaluate(Flatten(points), nullptr) == Approx(value).epsilon(kRoundingTolerance));
  }
}

TEST_CASE("SupConPointObjective: the batch weight scales value and gradient", "[point_objectives]") {
  const Eigen::MatrixXd points = RandomSpherePoints(3, 6, 1.5, 21);
  const Eigen::VectorXi labels = MixedLabels();
  const SupConPointObjective unit(kDim, labels, {WeightedBatch{{0, 1, 2, 3, 4, 5}, 1.0}});
  const SupConPointObjective scaled(kDim, labels, {WeightedBatch{{0, 1, 2, 3, 4, 5}, 0.125}});
  Eigen::VectorXd unit_gradient, scaled_gradient;
  const double unit_value = unit.Evaluate(Flatten(points), &unit_gradient);
  REQUIRE(scaled.Evaluate(Flatten(points), &scaled_gradient) == Approx(0.125 * unit_value).epsilon(kRoundingTolerance));
  REQUIRE((scaled_gradient - 0.125 * unit_gradient).cwiseAbs().maxCoeff() == Approx(0.0).margin(kRoundingTolerance));
}

TEST_CASE("SupConPointObjective: at a radius-rho simplex one balanced full batch equals SupConCompositionValue",
          "[point_objectives]") {
  // Paper: SC at the simplex; docs/theory.md. The scale lives in the radius: logits <z, z'> with ||z|| = rho.
  for (const double radius : {1.0, 1.0 / std::sqrt(0.1)}) {
    CAPTURE(radius);
    const Eigen::VectorXi labels = BalancedLabels(4, 3);
    const Eigen::MatrixXd points = PointsAtVertices(theory::RegularSimplex(4, 5, radius, 3), labels);
    const SupConPointObjective objective(5, labels, {WeightedBatch{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 1.0}});
    const double expected = theory::SupConCompositionValue({3, 3, 3, 3}, theory::Temperature::FromRadius(radius));
    REQUIRE(objective.Evaluate(Flatten(points), nullptr) == Approx(expected).epsilon(kTightTolerance));
  }
}

TEST_CASE("SupConPointObjective: batches of index lists (repeats included) sum SupConLoss over the gathered batches",
          "[point_objectives]") {
  const Eigen::VectorXi labels = MixedLabels();
  const SupConPointObjective objective(kDim, labels, MixedBatches());
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    const Eigen::MatrixXd points = RandomSpherePoints(kDim, 6, 1.7, seed);
    double expected = 0.0;
    for (const WeightedBatch& batch : MixedBatches()) {
      const Gathered gathered = Gather(points, labels, batch.indices);
      expected += batch.weight * theory::SupConLoss(gathered.points, gathered.labels, PlainSum(), false).value;
    }
    REQUIRE(objective.Evaluate(Flatten(points), nullptr) == Approx(expected).epsilon(kTightTolerance));
  }
}

TEST_CASE("SupConPointObjective: a permuted full batch gives the value of the batch in order", "[point_objectives]") {
  const Eigen::VectorXi labels = MixedLabels();
  const Eigen::MatrixXd points = RandomSpherePoints(kDim, 6, 2.0, 5);
  const SupConPointObjective in_order(kDim, labels, {WeightedBatch{{0, 1, 2, 3, 4, 5}, 1.0}});
  const SupConPointObjective permuted(kDim, labels, {WeightedBatch{{3, 0, 5, 1, 4, 2}, 1.0}});
  Eigen::VectorXd in_order_gradient, permuted_gradient;
  REQUIRE(permuted.Evaluate(Flatten(points), &permuted_gradient) ==
          Approx(in_order.Evaluate(Flatten(points), &in_order_gradient)).epsilon(kTightTolerance));
  REQUIRE((permuted_gradient - in_order_gradient).cwiseAbs().maxCoeff() == Approx(0.0).margin(kTightTolerance));
}

TEST_CASE("SupConPointObjective: the gradient matches central finite differences, repeated indices accumulating",
          "[point_objectives]") {
  const Eigen::VectorXi labels = MixedLabels();
  const SupConPointObjective objective(kDim, labels, MixedBatches());
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    REQUIRE(GradientError(objective, Flatten(RandomSpherePoints(kDim, 6, 1.3, seed + 10))) < kGradientTolerance);
    REQUIRE(GradientError(objective, Flatten(RandomGaussianPoints(kDim, 6, seed + 20))) < kGradientTolerance);
  }
  // The gradient on a point that appears twice in a batch is the sum of its two columns' gradients; a point that is
  // in no batch gets zero.
  const Eigen::MatrixXd points = RandomSpherePoints(kDim, 4, 1.0, 99);
  Eigen::VectorXi labels4(4);
  labels4 << 0, 1, 0, 1;
  const SupConPointObjective twice(kDim, labels4, {WeightedBatch{{0, 0, 1, 2}, 1.0}});
  Eigen::VectorXd gradient;
  twice.Evaluate(Flatten(points), &gradient);
  const Gathered gathered = Gather(points, labels4, {0, 0, 1, 2});
  const theory::SupConResult batch = theory::SupConLoss(gathered.points, gathered.labels, PlainSum());
  const Eigen::Map<const Eigen::MatrixXd> per_point(gradient.data(), kDim, 4);
  REQUIRE((per_point.col(0) - batch.gradient.col(0) - batch.gradient.col(1)).cwiseAbs().maxCoeff() ==
          Approx(0.0).margin(kRoundingTolerance));
  REQUIRE((per_point.col(1) - batch.gradient.col(2)).cwiseAbs().maxCoeff() == Approx(0.0).margin(kRoundingTolerance));
  REQUIRE(per_point.col(3).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("SupConPointObjective: the value is invariant under a rotation of all points", "[point_objectives]") {
  const Eigen::VectorXi labels = MixedLabels();
  const SupConPointObjective objective(kDim, labels, MixedBatches());
  const Eigen::MatrixXd points = RandomSpherePoints(kDim, 6, 1.5, 41);
  const Eigen::MatrixXd rotated = RandomRotation(kDim, 42) * points;
  REQUIRE(objective.Evaluate(Flatten(rotated), nullptr) ==
          Approx(objective.Evaluate(Flatten(points), nullptr)).epsilon(kTightTolerance));
}

TEST_CASE("SupConPointObjective: no batch, an empty batch, an index out of range, dim 0 and bad labels throw",
          "[point_objectives]") {
  const Eigen::VectorXi labels = MixedLabels();
  REQUIRE_THROWS_MATCHES(SupConPointObjective(kDim, labels, {}),
                         std::invalid_argument,
                         Catch::Message("SupConPointObjective(): expected number of batches >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(SupConPointObjective(kDim, labels, {WeightedBatch{{0, 1}, 1.0}, WeightedBatch{{}, 1.0}}),
                         std::invalid_argument,
                         Catch::Message("SupConPointObjective(): batch 1 is empty"));
  REQUIRE_THROWS_MATCHES(SupConPointObjective(kDim, labels, {WeightedBatch{{0, 6}, 1.0}}),
                         std::invalid_argument,
                         Catch::Message("SupConPointObjective(): batch 0 has index 6 outside [0, 6)"));
  REQUIRE_THROWS_MATCHES(SupConPointObjective(kDim, labels, {WeightedBatch{{0, 1}, 1.0}, WeightedBatch{{-1}, 1.0}}),
                         std::invalid_argument,
                         Catch::Message("SupConPointObjective(): batch 1 has index -1 outside [0, 6)"));
  REQUIRE_THROWS_MATCHES(SupConPointObjective(0, labels, {WeightedBatch{{0, 1}, 1.0}}),
                         std::invalid_argument,
                         Catch::Message("SupConPointObjective(): expected dim (h) >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(SupConPointObjective(kDim, Eigen::VectorXi(0), {WeightedBatch{{0}, 1.0}}),
                         std::invalid_argument,
                         Catch::Message("SupConPointObjective(): expected number of points (N) >= 1, got 0"));
  Eigen::VectorXi negative = labels;
  negative[2] = -1;
  REQUIRE_THROWS_MATCHES(SupConPointObjective(kDim, negative, {WeightedBatch{{0, 1}, 1.0}}),
                         std::invalid_argument,
                         MessageContains("expected labels >= 0, got -1 at index 2"));
}

TEST_CASE("SupConPointObjective: Evaluate with a parameter vector of the wrong length throws", "[point_objectives]") {
  const SupConPointObjective objective(kDim, MixedLabels(), MixedBatches());
  REQUIRE_THROWS_MATCHES(
      objective.Evaluate(Eigen::VectorXd::Ones(17), nullptr),
      std::invalid_argument,
      Catch::Message("SupConPointObjective::Evaluate(): expected a parameter vector of length 18, got 17"));
}

TEST_CASE("CrossEntropyPointObjective: equals theory::CrossEntropyLoss with z = [vec(Z), vec(W^T)]",
          "[point_objectives]") {
  const int h = 3, k = 4, n = 7;
  const Eigen::VectorXi labels = RandomLabels(n, k, 5);
  const CrossEntropyPointObjective objective(h, k, labels);
  REQUIRE(objective.NumParameters() == h * (n + k));
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    const Eigen::MatrixXd points = RandomGaussianPoints(h, n, seed);
    const Eigen::MatrixXd weights = RandomGaussianPoints(k, h, seed + 10, 1.5);
    const theory::CrossEntropyResult expected = theory::CrossEntropyLoss(points, labels, weights);
    Eigen::VectorXd gradient;
    const Eigen::VectorXd z = CrossEntropyParameters(points, weights);
    REQUIRE(objective.Evaluate(z, &gradient) == Approx(expected.value).epsilon(kRoundingTolerance));
    REQUIRE(objective.Evaluate(z, nullptr) == Approx(expected.value).epsilon(kRoundingTolerance));
    // The gradient has the layout of z.
    REQUIRE((gradient - CrossEntropyParameters(expected.points_gradient, expected.weights_gradient))
                .cwiseAbs()
                .maxCoeff() == Approx(0.0).margin(kRoundingTolerance));
  }
}

TEST_CASE("CrossEntropyPointObjective: at the simplex with aligned classifier rows it equals the CE bound",
          "[point_objectives]") {
  // Paper: CE bound; docs/theory.md. z_i = zeta_{y_i}, w_k = (r/rho) zeta_k.
  const int k = 3, h = 2, per_class = 2;
  const double rho = 1.5, r = 0.8;
  const Eigen::MatrixXd simplex = theory::RegularSimplex(k, h, rho, 7);
  const Eigen::VectorXi labels = BalancedLabels(k, per_class);
  const Eigen::MatrixXd weights = (r / rho) * simplex.transpose();
  const CrossEntropyPointObjective objective(h, k, labels);
  REQUIRE(objective.Evaluate(CrossEntropyParameters(PointsAtVertices(simplex, labels), weights), nullptr) ==
          Approx(theory::CrossEntropyBound(k, rho, r)).epsilon(kTightTolerance));
}

TEST_CASE(
    "CrossEntropyPointObjective: the gradient matches central finite differences and the value is rotation "
    "invariant",
    "[point_objectives]") {
  const int h = 4, k = 3, n = 6;
  const Eigen::VectorXi labels = RandomLabels(n, k, 8);
  const CrossEntropyPointObjective objective(h, k, labels);
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    const Eigen::MatrixXd points = RandomGaussianPoints(h, n, seed);
    const Eigen::MatrixXd weights = RandomGaussianPoints(k, h, seed + 5);
    REQUIRE(GradientError(objective, CrossEntropyParameters(points, weights)) < kGradientTolerance);
    const Eigen::MatrixXd rotation = RandomRotation(h, seed + 7);
    REQUIRE(objective.Evaluate(CrossEntropyParameters(rotation * points, weights * rotation.transpose()), nullptr) ==
            Approx(objective.Evaluate(CrossEntropyParameters(points, weights), nullptr)).epsilon(kTightTolerance));
  }
}

TEST_CASE("CrossEntropyPointObjective: dim 0, K < 2, no points, labels out of range and a wrong length throw",
          "[point_objectives]") {
  Eigen::VectorXi labels(4);
  labels << 0, 2, 1, 0;
  REQUIRE_THROWS_MATCHES(CrossEntropyPointObjective(0, 3, labels),
                         std::invalid_argument,
                         Catch::Message("CrossEntropyPointObjective(): expected dim (h) >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(CrossEntropyPointObjective(2, 1, Eigen::VectorXi::Zero(4)),
                         std::invalid_argument,
                         Catch::Message("CrossEntropyPointObjective(): expected num_classes (K) >= 2, got 1"));
  REQUIRE_THROWS_MATCHES(CrossEntropyPointObjective(2, 3, Eigen::VectorXi(0)),
                         std::invalid_argument,
                         Catch::Message("CrossEntropyPointObjective(): expected number of points (N) >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(CrossEntropyPointObjective(2, 2, labels),
                         std::invalid_argument,
                         MessageContains("expected labels in [0, 2), got 2 at index 1"));
  Eigen::VectorXi negative = labels;
  negative[3] = -2;
  REQUIRE_THROWS_MATCHES(CrossEntropyPointObjective(2, 3, negative),
                         std::invalid_argument,
                         MessageContains("expected labels in [0, 3), got -2 at index 3"));
  const CrossEntropyPointObjective objective(2, 3, labels);
  REQUIRE_THROWS_MATCHES(
      objective.Evaluate(Eigen::VectorXd::Ones(8), nullptr),
      std::invalid_argument,
      Catch::Message("CrossEntropyPointObjective::Evaluate(): expected a parameter vector of length 14, got 8"));
}

TEST_CASE("ParametrizedObjective: equals f(z(u)) and its gradient matches central finite differences in u",
          "[point_objectives]") {
  SECTION("SC on spheres") {
    const Eigen::VectorXi labels = MixedLabels();
    const SupConPointObjective points_objective(kDim, labels, MixedBatches());
    std::vector<Block> blocks;
    for (Eigen::Index i = 0; i < 6; ++i) blocks.push_back(Block{kDim * i, kDim, 1.8, BlockKind::kSphere});
    const ParametrizedObjective objective(points_objective, blocks);
    REQUIRE(objective.NumParameters() == 18);
    REQUIRE(objective.blocks().size() == 6);
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      CAPTURE(seed);
      const Eigen::VectorXd u = Flatten(RandomGaussianPoints(kDim, 6, seed, 0.8));
      REQUIRE(objective.Evaluate(u, nullptr) ==
              Approx(points_objective.Evaluate(PointsFromParameters(blocks, u), nullptr)).epsilon(kRoundingTolerance));
      REQUIRE(GradientError(objective, u) < kGradientTolerance);
    }
  }
  SECTION("CE in balls, per-row and Frobenius weight bounds") {
    const int h = 3, k = 3, n = 5;
    const Eigen::VectorXi labels = RandomLabels(n, k, 4);
    const CrossEntropyPointObjective points_objective(h, k, labels);
    std::vector<Block> rows, frobenius;
    for (Eigen::Index i = 0; i < n; ++i) {
      rows.push_back(Block{h * i, h, 1.3, BlockKind::kBall});
      frobenius.push_back(Block{h * i, h, 1.3, BlockKind::kBall});
    }
    for (Eigen::Index c = 0; c < k; ++c) rows.push_back(Block{h * (n + c), h, 0.9, BlockKind::kBall});
    frobenius.push_back(Block{h * n, h * k, 2.0, BlockKind::kBall});
    for (const std::vector<Block>& blocks : {rows, frobenius}) {
      const ParametrizedObjective objective(points_objective, blocks);
      for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        CAPTURE(blocks.size(), seed);
        const Eigen::VectorXd u = Flatten(RandomGaussianPoints(h, n + k, seed, 0.7));
        REQUIRE(
            objective.Evaluate(u, nullptr) ==
            Approx(points_objective.Evaluate(PointsFromParameters(blocks, u), nullptr)).epsilon(kRoundingTolerance));
        REQUIRE(GradientError(objective, u) < kGradientTolerance);
      }
    }
  }
}

TEST_CASE("ParametrizedObjective: blocks that do not tile the points and a wrong parameter length throw",
          "[point_objectives]") {
  const SupConPointObjective points_objective(kDim, MixedLabels(), MixedBatches());
  const std::vector<Block> short_blocks = {Block{0, 9, 1.0, BlockKind::kSphere}};
  REQUIRE_THROWS_MATCHES(ParametrizedObjective(points_objective, short_blocks),
                         std::invalid_argument,
                         Catch::Message("ValidateBlocks(): expected blocks covering 18 entries, got 9"));
  const ParametrizedObjective objective(points_objective, {Block{0, 18, 1.0, BlockKind::kSphere}});
  REQUIRE_THROWS_MATCHES(
      objective.Evaluate(Eigen::VectorXd::Ones(19), nullptr),
      std::invalid_argument,
      Catch::Message("ParametrizedObjective::Evaluate(): expected a parameter vector of length 18, got 19"));
}

}  // namespace
}  // namespace dissect::optim
