// Tests of dissect/theory/supcon_loss.hpp. Paper: SC loss; docs/theory.md: for a batch B (a multiset of columns),
//   l_SC = sum over anchors i with |B_{y_i}| >= 2 of
//          (1/(|B_{y_i}|-1)) sum_{j in B_{y_i}, j != i} -log( exp(<z_i,z_j>/tau) / sum_{k != i} exp(<z_i,z_k>/tau) ).

#include "dissect/theory/supcon_loss.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <vector>

#include "catch.hpp"
#include "dissect/theory/bounds.hpp"
#include "dissect/theory/regular_simplex.hpp"
#include "dissect/theory/temperature.hpp"
#include "test_support.hpp"

namespace dissect::theory {
namespace {

using test::kGradientTolerance;
using test::kRoundingTolerance;
using test::kTightTolerance;
using test::MaxGradientError;
using test::MessageContains;
using test::PointsAtVertices;
using test::RandomGaussianPoints;
using test::RandomSpherePoints;
using test::SameBits;

// l_SC by plain loops over anchors, positives and the denominator, straight from the formula of docs/theory.md, in
// long double with each anchor's largest logit subtracted. Shares nothing with the implementation (no Gram matrix,
// no class counts).
double ReferenceSupConSum(const Eigen::MatrixXd& points, const Eigen::VectorXi& labels, double temperature) {
  const Eigen::Index b = points.cols();
  long double total = 0.0L;
  for (Eigen::Index i = 0; i < b; ++i) {
    std::vector<long double> logits(b);
    for (Eigen::Index k = 0; k < b; ++k) {
      long double dot = 0.0L;
      for (Eigen::Index d = 0; d < points.rows(); ++d) {
        dot += static_cast<long double>(points(d, i)) * static_cast<long double>(points(d, k));
      }
      logits[k] = dot / static_cast<long double>(temperature);
    }
    int positives = 0;
    long double largest = -std::numeric_limits<long double>::infinity();
    for (Eigen::Index k = 0; k < b; ++k) {
      if (k == i) continue;
      if (labels[k] == labels[i]) ++positives;
      largest = std::max(largest, logits[k]);
    }
    if (positives == 0) continue;
    long double denominator = 0.0L;
    for (Eigen::Index k = 0; k < b; ++k) {
      if (k != i) denominator += std::exp(logits[k] - largest);
    }
    long double anchor = 0.0L;
    for (Eigen::Index j = 0; j < b; ++j) {
      if (j != i && labels[j] == labels[i]) anchor += -((logits[j] - largest) - std::log(denominator));
    }
    total += anchor / positives;
  }
  return static_cast<double>(total);
}

SupConOptions Options(Temperature temperature,
                      SupConReduction reduction = SupConReduction::kSum,
                      std::optional<double> base_temperature = std::nullopt) {
  SupConOptions options;
  options.temperature = temperature;
  options.reduction = reduction;
  options.base_temperature = base_temperature;
  return options;
}

// A batch of 10 with three anchors-with-positives classes, one anchor without a positive (label 7, classes 3..6
// absent) and a repeated sample (column 9 is a copy of column 0, both label 0).
struct MixedBatch {
  Eigen::MatrixXd points;
  Eigen::VectorXi labels;
};

MixedBatch MakeMixedBatch() {
  MixedBatch batch;
  batch.points = RandomGaussianPoints(4, 10, 2021, 0.7);
  batch.points.col(9) = batch.points.col(0);
  batch.labels.resize(10);
  batch.labels << 0, 1, 0, 2, 1, 0, 7, 2, 0, 0;
  return batch;
}

TEST_CASE("SupConLoss: three points in 2-D give the hand-computed value log(1 + e^(-1/tau)) + log 2", "[supcon_loss]") {
  // z0 = (1,0), z1 = (0,1) with label 0 and z2 = (-1,0) with label 1. Anchor 0: positive z1 (logit 0), negative z2
  // (logit -1/tau): log(1 + e^(-1/tau)). Anchor 1: both logits 0: log 2. Anchor 2 has no positive: 0.
  Eigen::MatrixXd points(2, 3);
  points << 1.0, 0.0, -1.0,  //
      0.0, 1.0, 0.0;
  Eigen::VectorXi labels(3);
  labels << 0, 0, 1;
  for (const double tau : {1.0, 0.5, 0.1}) {
    CAPTURE(tau);
    const SupConResult result = SupConLoss(points, labels, Options(Temperature::FromTemperature(tau)));
    REQUIRE(result.value == Approx(std::log1p(std::exp(-1.0 / tau)) + std::log(2.0)).epsilon(kRoundingTolerance));
    REQUIRE(result.num_anchors_with_positives == 2);
  }
}

TEST_CASE("SupConLoss: small batches equal the formula evaluated by plain loops", "[supcon_loss]") {
  Eigen::MatrixXd four(2, 4);
  four << 0.6, -0.8, 1.0, 0.0,  //
      0.8, 0.6, 0.0, -1.0;
  Eigen::VectorXi four_labels(4);
  four_labels << 0, 1, 0, 1;
  for (const double tau : {1.0, 0.3}) {
    CAPTURE(tau);
    REQUIRE(SupConLoss(four, four_labels, Options(Temperature::FromTemperature(tau))).value ==
            Approx(ReferenceSupConSum(four, four_labels, tau)).epsilon(kRoundingTolerance));
  }
  const MixedBatch mixed = MakeMixedBatch();
  REQUIRE(SupConLoss(mixed.points, mixed.labels, Options(Temperature::FromTemperature(0.5))).value ==
          Approx(ReferenceSupConSum(mixed.points, mixed.labels, 0.5)).epsilon(kRoundingTolerance));
  const Eigen::MatrixXd sphere = RandomSpherePoints(8, 24, 1.0, 7);
  const Eigen::VectorXi sphere_labels = test::RandomLabels(24, 5, 8);
  REQUIRE(SupConLoss(sphere, sphere_labels, Options(Temperature::FromTemperature(0.1))).value ==
          Approx(ReferenceSupConSum(sphere, sphere_labels, 0.1)).epsilon(kTightTolerance));
}

TEST_CASE("SupConLoss: repeated columns are positives of each other", "[supcon_loss]") {
  // Two copies of one sample and one other class: anchor 0 has positive 1 (logit 1) and negative z2 (logit 0),
  // anchor 1 likewise: value 2 log(1 + e^(-1)).
  Eigen::MatrixXd points(2, 3);
  points << 1.0, 1.0, 0.0,  //
      0.0, 0.0, 1.0;
  Eigen::VectorXi labels(3);
  labels << 4, 4, 0;
  const SupConResult result = SupConLoss(points, labels, Options(Temperature::FromTemperature(1.0)));
  REQUIRE(result.value == Approx(2.0 * std::log1p(std::exp(-1.0))).epsilon(kRoundingTolerance));
  REQUIRE(result.num_anchors_with_positives == 2);
}

TEST_CASE("SupConLoss: the analytic gradient matches central finite differences for every reduction", "[supcon_loss]") {
  const MixedBatch mixed = MakeMixedBatch();
  const Eigen::MatrixXd sphere = RandomSpherePoints(5, 12, 1.0, 99);
  const Eigen::VectorXi sphere_labels = test::RandomLabels(12, 3, 98);
  for (const SupConReduction reduction :
       {SupConReduction::kSum, SupConReduction::kBatchMean, SupConReduction::kReference}) {
    for (const std::optional<double> base : {std::optional<double>{}, std::optional<double>{0.07}}) {
      CAPTURE(ToString(reduction), base.value_or(-1.0));
      const SupConOptions options = Options(Temperature::FromTemperature(0.5), reduction, base);
      const auto of_mixed = [&](const Eigen::MatrixXd& z) { return SupConLoss(z, mixed.labels, options, false).value; };
      const SupConResult at_mixed = SupConLoss(mixed.points, mixed.labels, options);
      REQUIRE(at_mixed.gradient.rows() == 4);
      REQUIRE(at_mixed.gradient.cols() == 10);
      REQUIRE(MaxGradientError(of_mixed, mixed.points, at_mixed.gradient) < kGradientTolerance);

      const SupConOptions cold = Options(Temperature::FromTemperature(0.1), reduction, base);
      const auto of_sphere = [&](const Eigen::MatrixXd& z) { return SupConLoss(z, sphere_labels, cold, false).value; };
      const SupConResult at_sphere = SupConLoss(sphere, sphere_labels, cold);
      REQUIRE(MaxGradientError(of_sphere, sphere, at_sphere.gradient) < kGradientTolerance);
    }
  }
}

TEST_CASE("SupConLoss: without the gradient the value is the same and the gradient is empty", "[supcon_loss]") {
  const MixedBatch mixed = MakeMixedBatch();
  const SupConOptions options = Options(Temperature::FromTemperature(0.5));
  const SupConResult with = SupConLoss(mixed.points, mixed.labels, options, true);
  const SupConResult without = SupConLoss(mixed.points, mixed.labels, options, false);
  REQUIRE(without.value == Approx(with.value).epsilon(kRoundingTolerance));
  REQUIRE(without.gradient.size() == 0);
  REQUIRE(without.num_anchors_with_positives == with.num_anchors_with_positives);
  REQUIRE(with.num_anchors_with_positives == 9);  // all but the single label 7
}

TEST_CASE("SupConLoss: batch_mean equals sum / b", "[supcon_loss]") {
  const MixedBatch mixed = MakeMixedBatch();
  const double b = 10.0;
  const SupConResult sum = SupConLoss(mixed.points, mixed.labels, Options(Temperature::FromTemperature(0.2)));
  const SupConResult mean =
      SupConLoss(mixed.points, mixed.labels, Options(Temperature::FromTemperature(0.2), SupConReduction::kBatchMean));
  REQUIRE(mean.value == Approx(sum.value / b).epsilon(kRoundingTolerance));
  REQUIRE((mean.gradient - sum.gradient / b).cwiseAbs().maxCoeff() ==
          Approx(0.0).margin(kRoundingTolerance * sum.gradient.cwiseAbs().maxCoeff()));
  // The two normalizations differ: only by b.
  REQUIRE(std::abs(mean.value - sum.value) > 0.5 * sum.value);
}

TEST_CASE("SupConLoss: reference equals sum / b * tau / base_tau, and batch_mean when base_temperature is unset",
          "[supcon_loss]") {
  const MixedBatch mixed = MakeMixedBatch();
  const double b = 10.0, tau = 0.2, base_tau = 0.07;
  const Temperature temperature = Temperature::FromTemperature(tau);
  const SupConResult sum = SupConLoss(mixed.points, mixed.labels, Options(temperature));
  const SupConResult mean = SupConLoss(mixed.points, mixed.labels, Options(temperature, SupConReduction::kBatchMean));
  const SupConResult reference =
      SupConLoss(mixed.points, mixed.labels, Options(temperature, SupConReduction::kReference, base_tau));
  const SupConResult reference_unset =
      SupConLoss(mixed.points, mixed.labels, Options(temperature, SupConReduction::kReference));
  REQUIRE(reference.value == Approx(sum.value / b * tau / base_tau).epsilon(kRoundingTolerance));
  REQUIRE((reference.gradient - sum.gradient / b * (tau / base_tau)).cwiseAbs().maxCoeff() ==
          Approx(0.0).margin(kRoundingTolerance * reference.gradient.cwiseAbs().maxCoeff()));
  REQUIRE(reference_unset.value == Approx(mean.value).epsilon(kRoundingTolerance));
  REQUIRE((reference_unset.gradient - mean.gradient).cwiseAbs().maxCoeff() ==
          Approx(0.0).margin(kRoundingTolerance * mean.gradient.cwiseAbs().maxCoeff()));
  // base_tau == tau is the reference implementation's one-view cross-check of docs/theory.md: equal to sum / b.
  const SupConResult reference_equal =
      SupConLoss(mixed.points, mixed.labels, Options(temperature, SupConReduction::kReference, tau));
  REQUIRE(reference_equal.value == Approx(sum.value / b).epsilon(kRoundingTolerance));
}

TEST_CASE("SupConOptions: ReductionFactor is 1, 1/b or (tau/base_tau)/b", "[supcon_loss]") {
  const Temperature temperature = Temperature::FromTemperature(0.5);
  REQUIRE(Options(temperature).ReductionFactor(8, 8) == Approx(1.0).epsilon(kRoundingTolerance));
  REQUIRE(Options(temperature, SupConReduction::kBatchMean).ReductionFactor(8, 8) ==
          Approx(0.125).epsilon(kRoundingTolerance));
  REQUIRE(Options(temperature, SupConReduction::kReference).ReductionFactor(8, 8) ==
          Approx(0.125).epsilon(kRoundingTolerance));
  REQUIRE(Options(temperature, SupConReduction::kReference, 0.25).ReductionFactor(8, 8) ==
          Approx(0.25).epsilon(kRoundingTolerance));
  // base_temperature only matters for the reference reduction.
  REQUIRE(Options(temperature, SupConReduction::kBatchMean, 0.25).ReductionFactor(8, 8) ==
          Approx(0.125).epsilon(kRoundingTolerance));
  // positive_mean divides by the anchors with a positive, 1 where there are none (the loss is then 0).
  REQUIRE(Options(temperature, SupConReduction::kPositiveMean).ReductionFactor(8, 5) == 0.2);
  REQUIRE(Options(temperature, SupConReduction::kPositiveMean).ReductionFactor(8, 0) == 1.0);
}

TEST_CASE("SupConLoss: positive_mean equals sum / anchors with a positive, and differs from batch_mean",
          "[supcon_loss]") {
  const MixedBatch mixed = MakeMixedBatch();
  const Temperature temperature = Temperature::FromTemperature(0.2);
  const SupConResult sum = SupConLoss(mixed.points, mixed.labels, Options(temperature));
  const SupConResult positive =
      SupConLoss(mixed.points, mixed.labels, Options(temperature, SupConReduction::kPositiveMean));
  const Eigen::Index with_positives = NumAnchorsWithPositives(mixed.labels);
  REQUIRE(with_positives == sum.num_anchors_with_positives);
  REQUIRE(with_positives < mixed.labels.size());  // the batch has anchors without a positive
  REQUIRE(positive.value == Approx(sum.value / with_positives).epsilon(kRoundingTolerance));
  REQUIRE((positive.gradient - sum.gradient / with_positives).cwiseAbs().maxCoeff() ==
          Approx(0.0).margin(kRoundingTolerance * sum.gradient.cwiseAbs().maxCoeff()));
  const SupConResult mean = SupConLoss(mixed.points, mixed.labels, Options(temperature, SupConReduction::kBatchMean));
  REQUIRE(std::abs(positive.value - mean.value) > 1e-3 * mean.value);
  // Labels {3, 0, 3, 7, 0, 5}: four anchors have a positive.
  Eigen::VectorXi labels(6);
  labels << 3, 0, 3, 7, 0, 5;
  REQUIRE(NumAnchorsWithPositives(labels) == 4);
}

TEST_CASE("SupConLoss: Temperature::FromRadius(2) and FromTemperature(0.25) give identical values and gradients",
          "[supcon_loss]") {
  const MixedBatch mixed = MakeMixedBatch();
  for (const SupConReduction reduction :
       {SupConReduction::kSum, SupConReduction::kBatchMean, SupConReduction::kReference}) {
    CAPTURE(ToString(reduction));
    const SupConResult a =
        SupConLoss(mixed.points, mixed.labels, Options(Temperature::FromRadius(2.0), reduction, 0.07));
    const SupConResult b =
        SupConLoss(mixed.points, mixed.labels, Options(Temperature::FromTemperature(0.25), reduction, 0.07));
    REQUIRE(test::BitPattern(a.value) == test::BitPattern(b.value));
    REQUIRE(SameBits(a.gradient, b.gradient));
  }
}

TEST_CASE("SupConLoss: points scaled by s at temperature tau*s^2 give the same value and the gradient divided by s",
          "[supcon_loss]") {
  const MixedBatch mixed = MakeMixedBatch();
  const double tau = 0.3;
  const SupConResult base = SupConLoss(mixed.points, mixed.labels, Options(Temperature::FromTemperature(tau)));
  for (const double s : {0.1, 3.0, 40.0}) {
    CAPTURE(s);
    const SupConResult scaled =
        SupConLoss(s * mixed.points, mixed.labels, Options(Temperature::FromTemperature(tau * s * s)));
    REQUIRE(scaled.value == Approx(base.value).epsilon(kTightTolerance));
    REQUIRE((scaled.gradient * s - base.gradient).cwiseAbs().maxCoeff() ==
            Approx(0.0).margin(kTightTolerance * base.gradient.cwiseAbs().maxCoeff()));
  }
}

TEST_CASE("SupConLoss: a random rotation of the points leaves the value unchanged and rotates the gradient",
          "[supcon_loss]") {
  const MixedBatch mixed = MakeMixedBatch();
  const Eigen::MatrixXd q = test::RandomRotation(4, 77);
  const SupConOptions options = Options(Temperature::FromTemperature(0.2), SupConReduction::kBatchMean);
  const SupConResult original = SupConLoss(mixed.points, mixed.labels, options);
  const SupConResult rotated = SupConLoss(q * mixed.points, mixed.labels, options);
  REQUIRE(rotated.value == Approx(original.value).epsilon(kTightTolerance));
  REQUIRE((rotated.gradient - q * original.gradient).cwiseAbs().maxCoeff() ==
          Approx(0.0).margin(kTightTolerance * original.gradient.cwiseAbs().maxCoeff()));
}

TEST_CASE("SupConLoss: similarities of order 1e4 (radius 100) stay finite and match the shifted loop evaluation",
          "[supcon_loss]") {
  const Eigen::MatrixXd unit = RandomSpherePoints(6, 16, 1.0, 123);
  const Eigen::VectorXi labels = test::RandomLabels(16, 4, 124);
  const Eigen::MatrixXd large = 100.0 * unit;
  const SupConResult at_radius_100 = SupConLoss(large, labels, Options(Temperature::FromTemperature(1.0)));
  const SupConResult unit_cold = SupConLoss(unit, labels, Options(Temperature::FromRadius(100.0)));
  REQUIRE(std::isfinite(at_radius_100.value));
  REQUIRE(at_radius_100.gradient.allFinite());
  REQUIRE(unit_cold.gradient.allFinite());
  REQUIRE(at_radius_100.value > 100.0);  // the logits really are large: a naive exp() would overflow
  REQUIRE(at_radius_100.value == Approx(ReferenceSupConSum(large, labels, 1.0)).epsilon(kTightTolerance));
  REQUIRE(unit_cold.value == Approx(at_radius_100.value).epsilon(kTightTolerance));
  // d/dz of the unit form = 100 * d/dz' of the radius-100 form (z' = 100 z).
  REQUIRE((unit_cold.gradient - 100.0 * at_radius_100.gradient).cwiseAbs().maxCoeff() ==
          Approx(0.0).margin(kTightTolerance * unit_cold.gradient.cwiseAbs().maxCoeff()));
}

TEST_CASE("SupConLoss: a batch of one class collapsed onto one point gives b log(b-1) and a zero gradient",
          "[supcon_loss]") {
  const int b = 5;
  const Eigen::MatrixXd collapsed = RandomSpherePoints(3, 1, 1.0, 5).replicate(1, b);
  const SupConResult result =
      SupConLoss(collapsed, Eigen::VectorXi::Zero(b), Options(Temperature::FromTemperature(0.1)));
  REQUIRE(result.value == Approx(b * std::log(b - 1.0)).epsilon(kRoundingTolerance));
  REQUIRE(result.num_anchors_with_positives == b);
  REQUIRE(result.gradient.cwiseAbs().maxCoeff() == Approx(0.0).margin(kRoundingTolerance));
}

TEST_CASE("SupConLoss: a batch of one class at random points equals the loop evaluation", "[supcon_loss]") {
  const Eigen::MatrixXd points = RandomSpherePoints(3, 6, 1.0, 6);
  const Eigen::VectorXi labels = Eigen::VectorXi::Constant(6, 2);
  const SupConResult result = SupConLoss(points, labels, Options(Temperature::FromTemperature(0.5)));
  REQUIRE(result.value == Approx(ReferenceSupConSum(points, labels, 0.5)).epsilon(kRoundingTolerance));
  REQUIRE(result.num_anchors_with_positives == 6);
}

TEST_CASE("SupConLoss: all-distinct classes give value 0, a zero gradient and no anchor with positives",
          "[supcon_loss]") {
  const Eigen::MatrixXd points = RandomGaussianPoints(3, 5, 8);
  Eigen::VectorXi labels(5);
  labels << 4, 0, 3, 1, 2;
  for (const SupConReduction reduction :
       {SupConReduction::kSum, SupConReduction::kBatchMean, SupConReduction::kReference}) {
    const SupConResult result = SupConLoss(points, labels, Options(Temperature::FromTemperature(0.1), reduction));
    REQUIRE(result.value == Approx(0.0).margin(0.0));
    REQUIRE(result.gradient.rows() == 3);
    REQUIRE(result.gradient.cols() == 5);
    REQUIRE(result.gradient.cwiseAbs().maxCoeff() == Approx(0.0).margin(0.0));
    REQUIRE(result.num_anchors_with_positives == 0);
  }
}

TEST_CASE("SupConLoss: a batch of one point gives value 0 and a zero gradient", "[supcon_loss]") {
  const SupConResult result =
      SupConLoss(RandomGaussianPoints(2, 1, 9), Eigen::VectorXi::Zero(1), Options(Temperature::FromTemperature(1.0)));
  REQUIRE(result.value == Approx(0.0).margin(0.0));
  REQUIRE(result.gradient.cwiseAbs().maxCoeff() == Approx(0.0).margin(0.0));
  REQUIRE(result.num_anchors_with_positives == 0);
}

TEST_CASE(
    "SupConLoss: at the simplex the sum equals SupConCompositionValue (K=3, rho=1, {5, 4, 0} gives "
    "13.597726095124795)",
    "[supcon_loss]") {
  Eigen::VectorXi labels(9);
  labels << 1, 0, 0, 1, 0, 1, 0, 1, 0;  // composition [5, 4, 0], in mixed order
  const Eigen::MatrixXd points = PointsAtVertices(RegularSimplex(3, 2, 1.0), labels);
  const SupConResult result = SupConLoss(points, labels, Options(Temperature::FromTemperature(1.0)));
  REQUIRE(result.value == Approx(13.597726095124795).epsilon(kTightTolerance));
  REQUIRE(result.value ==
          Approx(SupConCompositionValue({5, 4, 0}, Temperature::FromTemperature(1.0))).epsilon(kTightTolerance));
}

TEST_CASE("SupConLoss: at the simplex the sum equals SupConCompositionValue for other compositions and radii",
          "[supcon_loss]") {
  struct Case {
    std::vector<int> composition;
    double radius;
  };
  for (const Case& c : {Case{{3, 3, 3}, 2.0},
                        Case{{9, 0, 0}, 1.0},
                        Case{{2, 1, 1, 1}, 1.5},
                        Case{{1, 1, 1}, 1.0},
                        Case{{4, 0, 2, 1, 3}, 0.8},
                        Case{{6, 2}, 3.0}}) {
    const int k = static_cast<int>(c.composition.size());
    std::vector<int> label_list;
    for (int label = 0; label < k; ++label) label_list.insert(label_list.end(), c.composition[label], label);
    std::reverse(label_list.begin(), label_list.end());
    const Eigen::VectorXi labels =
        Eigen::Map<const Eigen::VectorXi>(label_list.data(), static_cast<Eigen::Index>(label_list.size()));
    CAPTURE(k, c.radius, labels.transpose());
    const double expected = SupConCompositionValue(c.composition, Temperature::FromRadius(c.radius));
    // Radius-rho vertices at tau = 1, and unit vertices at rho = 1/sqrt(tau): the same logits.
    const Eigen::MatrixXd at_radius = PointsAtVertices(RegularSimplex(k, k + 1, c.radius, 3), labels);
    const Eigen::MatrixXd at_unit = PointsAtVertices(RegularSimplex(k, k + 1, 1.0, 3), labels);
    REQUIRE(SupConLoss(at_radius, labels, Options(Temperature::FromTemperature(1.0))).value ==
            Approx(expected).epsilon(kTightTolerance).margin(kTightTolerance));
    REQUIRE(SupConLoss(at_unit, labels, Options(Temperature::FromRadius(c.radius))).value ==
            Approx(expected).epsilon(kTightTolerance).margin(kTightTolerance));
  }
}

TEST_CASE("SupConLoss: bad inputs throw std::invalid_argument naming the problem", "[supcon_loss]") {
  const Eigen::MatrixXd points = RandomGaussianPoints(2, 3, 10);
  Eigen::VectorXi labels(3);
  labels << 0, 1, 0;
  const SupConOptions options = Options(Temperature::FromTemperature(0.5));
  REQUIRE_NOTHROW(SupConLoss(points, labels, options));

  SECTION("a NaN or infinite point") {
    Eigen::MatrixXd bad = points;
    bad(0, 1) = std::numeric_limits<double>::quiet_NaN();
    REQUIRE_THROWS_MATCHES(SupConLoss(bad, labels, options),
                           std::invalid_argument,
                           Catch::Message("SupConLoss(): expected finite points, got nan at row 0, column 1"));
    bad(0, 1) = std::numeric_limits<double>::infinity();
    REQUIRE_THROWS_MATCHES(
        SupConLoss(bad, labels, options), std::invalid_argument, MessageContains("got inf at row 0, column 1"));
  }
  SECTION("a negative label") {
    Eigen::VectorXi bad = labels;
    bad[2] = -1;
    REQUIRE_THROWS_MATCHES(SupConLoss(points, bad, options),
                           std::invalid_argument,
                           Catch::Message("SupConLoss(): expected labels >= 0, got -1 at index 2"));
  }
  SECTION("a label count that differs from b") {
    REQUIRE_THROWS_MATCHES(SupConLoss(points, labels.head(2), options),
                           std::invalid_argument,
                           Catch::Message("SupConLoss(): expected 3 labels (one per point), got 2"));
  }
  SECTION("a base temperature that is not finite and > 0") {
    for (const double base :
         {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
      CAPTURE(base);
      const SupConOptions bad = Options(Temperature::FromTemperature(0.5), SupConReduction::kReference, base);
      REQUIRE_THROWS_MATCHES(bad.Validate(),
                             std::invalid_argument,
                             MessageContains("SupConOptions::Validate(): expected base_temperature > 0, got"));
      REQUIRE_THROWS_MATCHES(SupConLoss(points, labels, bad),
                             std::invalid_argument,
                             MessageContains("SupConOptions::Validate(): expected base_temperature > 0, got"));
    }
    REQUIRE_THROWS_MATCHES(Options(Temperature::FromTemperature(0.5), SupConReduction::kReference, 0.0).Validate(),
                           std::invalid_argument,
                           Catch::Message("SupConOptions::Validate(): expected base_temperature > 0, got 0"));
  }
  SECTION("an empty batch") {
    REQUIRE_THROWS_MATCHES(SupConLoss(Eigen::MatrixXd(2, 0), Eigen::VectorXi(0), options),
                           std::invalid_argument,
                           Catch::Message("SupConLoss(): expected batch size (number of points) >= 1, got 0"));
  }
  SECTION("points of dimension 0") {
    REQUIRE_THROWS_MATCHES(SupConLoss(Eigen::MatrixXd(0, 3), labels, options),
                           std::invalid_argument,
                           Catch::Message("SupConLoss(): expected dimension (rows of the points) >= 1, got 0"));
  }
}

TEST_CASE("SupConLoss: any non-negative label is accepted, up to 2^31-1", "[supcon_loss]") {
  // The header accepts any non-negative label (and ReadNpyLabels any label < 2^31). A label of INT_MAX must give
  // the same value as relabelling it to 1. Regression test: class counts sized by labels.maxCoeff() + 1 overflow
  // int for INT_MAX (and allocate 8 bytes per possible label below it).
  Eigen::MatrixXd points = RandomGaussianPoints(3, 4, 11);
  Eigen::VectorXi small(4), large(4);
  small << 0, 1, 0, 1;
  large << 0, std::numeric_limits<int>::max(), 0, std::numeric_limits<int>::max();
  const SupConOptions options = Options(Temperature::FromTemperature(0.5));
  const double expected = SupConLoss(points, small, options).value;
  double got = std::numeric_limits<double>::quiet_NaN();
  CHECK_NOTHROW(got = SupConLoss(points, large, options).value);
  CHECK(got == Approx(expected).epsilon(kRoundingTolerance));
}

TEST_CASE("ParseSupConReduction: parses every name that ToString writes", "[supcon_loss]") {
  for (const SupConReduction reduction : {SupConReduction::kSum,
                                          SupConReduction::kBatchMean,
                                          SupConReduction::kReference,
                                          SupConReduction::kPositiveMean}) {
    REQUIRE(ParseSupConReduction(ToString(reduction)) == reduction);
  }
  REQUIRE(ToString(SupConReduction::kSum) == "sum");
  REQUIRE(ToString(SupConReduction::kBatchMean) == "batch_mean");
  REQUIRE(ToString(SupConReduction::kReference) == "reference");
}

TEST_CASE("ParseSupConReduction: an unknown name throws naming the accepted values", "[supcon_loss]") {
  REQUIRE_THROWS_MATCHES(
      ParseSupConReduction("mean"),
      std::invalid_argument,
      Catch::Message(
          "ParseSupConReduction(): expected reduction sum, batch_mean, reference or positive_mean, got 'mean'"));
  REQUIRE_THROWS_MATCHES(ParseSupConReduction(""), std::invalid_argument, MessageContains("got ''"));
  REQUIRE_THROWS_MATCHES(ParseSupConReduction("Sum"), std::invalid_argument, MessageContains("got 'Sum'"));
}

}  // namespace
}  // namespace dissect::theory

namespace dissect::theory {
namespace {

TEST_CASE("SupConLoss: value = collapse_value + excess, and the excess at a simplex keeps its precision at small tau",
          "[supcon_loss]") {
  // Random points: the split adds up to the value.
  const Eigen::MatrixXd points = test::RandomGaussianPoints(4, 12, 5);
  Eigen::VectorXi labels(12);
  labels << 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 4, 4;
  SupConOptions options;
  options.temperature = Temperature::FromTemperature(0.3);
  const SupConResult random = SupConLoss(points, labels, options, false);
  CHECK(random.value == Approx(random.collapse_value + random.excess).epsilon(test::kRoundingTolerance));
  // sum over anchors with positives of log P: classes of 3, 4, 2, 1, 2 points.
  CHECK(random.collapse_value ==
        Approx(3 * std::log(2.0) + 4 * std::log(3.0) + 2 * std::log(1.0) + 2 * std::log(1.0)).epsilon(1e-15));

  // At a simplex with rho^2 = 20 the excess is ~exp(-30) of the value: it must still be exact to 1e-10 relative.
  for (const double radius : {1.0, std::sqrt(20.0)}) {
    CAPTURE(radius);
    const std::vector<int> composition = {5, 4, 3};
    const Eigen::MatrixXd simplex = RegularSimplex(3, 3, radius, 3);
    Eigen::MatrixXd batch(3, 12);
    Eigen::VectorXi batch_labels(12);
    int column = 0;
    for (int k = 0; k < 3; ++k) {
      for (int j = 0; j < composition[k]; ++j, ++column) {
        batch.col(column) = simplex.col(k);
        batch_labels[column] = k;
      }
    }
    SupConOptions plain;
    const SupConResult result = SupConLoss(batch, batch_labels, plain, false);
    const double expected_excess = SupConCompositionExcess(composition, Temperature::FromRadius(radius));
    CHECK(expected_excess > 0.0);
    CHECK(result.excess == Approx(expected_excess).epsilon(1e-10));
    CHECK(result.collapse_value + expected_excess ==
          Approx(SupConCompositionValue(composition, Temperature::FromRadius(radius))).epsilon(1e-15));
  }
}

}  // namespace
}  // namespace dissect::theory

namespace dissect::theory {
namespace {

// tau = 0.1 with each reduction (the reference one with base_tau = 0.07).
std::vector<SupConOptions> OptionsOfEveryReduction() {
  std::vector<SupConOptions> all;
  for (const SupConReduction reduction :
       {SupConReduction::kSum, SupConReduction::kBatchMean, SupConReduction::kReference}) {
    SupConOptions options;
    options.temperature = Temperature::FromTemperature(0.1);
    options.reduction = reduction;
    if (reduction == SupConReduction::kReference) options.base_temperature = 0.07;
    all.push_back(options);
  }
  return all;
}

// The loss computed with the default budget (one tile: the dense computation) and with a 1-byte budget (tiles of 64
// anchor columns) must agree to rounding, value and gradient.
void RequireTiledEqualsDense(const Eigen::MatrixXd& points, const Eigen::VectorXi& labels, SupConOptions options) {
  const SupConResult dense = SupConLoss(points, labels, options, true);
  options.memory_budget_bytes = 1.0;
  REQUIRE(options.TileColumns(points.cols()) == std::min<Eigen::Index>(64, points.cols()));
  const SupConResult tiled = SupConLoss(points, labels, options, true);
  CHECK(tiled.value == Approx(dense.value).epsilon(1e-12).margin(1e-300));
  CHECK(tiled.excess == Approx(dense.excess).epsilon(1e-12).margin(1e-300));
  CHECK(tiled.num_anchors_with_positives == dense.num_anchors_with_positives);
  const double scale = std::max(1e-300, dense.gradient.cwiseAbs().maxCoeff());
  CHECK((tiled.gradient - dense.gradient).cwiseAbs().maxCoeff() <= 1e-12 * scale);
}

TEST_CASE("SupConLoss: tiles of 64 anchors give the dense value and gradient, for every reduction", "[supcon_loss]") {
  const Eigen::MatrixXd points = test::RandomSpherePoints(16, 300, 2.0, 21);
  Eigen::VectorXi labels(300);
  for (int i = 0; i < 300; ++i) labels[i] = i % 7;
  labels[5] = 40;  // a class of one sample: an anchor without positives
  for (const SupConOptions& options : OptionsOfEveryReduction()) {
    CAPTURE(ToString(options.reduction));
    RequireTiledEqualsDense(points, labels, options);
  }
  SECTION("one class") { RequireTiledEqualsDense(points, Eigen::VectorXi::Zero(300), SupConOptions{}); }
  SECTION("every sample its own class: value 0, zero gradient") {
    Eigen::VectorXi distinct(300);
    for (int i = 0; i < 300; ++i) distinct[i] = i;
    SupConOptions options;
    options.memory_budget_bytes = 1.0;
    const SupConResult result = SupConLoss(points, distinct, options, true);
    CHECK(result.value == 0.0);
    CHECK(result.gradient.cwiseAbs().maxCoeff() == 0.0);
  }
}

TEST_CASE("SupConOptions: the tile follows the memory budget, and a bad budget is refused", "[supcon_loss]") {
  SupConOptions options;
  options.memory_budget_bytes = 8.0 * 1000 * 128;  // 128 columns of 1000 doubles
  CHECK(options.TileColumns(1000) == 128);
  CHECK(options.TileColumns(10) == 10);
  SECTION("below the budget, the cache tile: 16 MB, never under 256 columns") {
    const SupConOptions defaults;
    CHECK(defaults.TileColumns(4096) == 512);             // 4096 x 512 doubles = 16 MB
    CHECK(defaults.TileColumns(4096, 4) == 1024);         // floats
    CHECK(defaults.TileColumns(65536, 4) == 256);         // 64 columns would fit 16 MB: 256, within the 256 MB budget
    CHECK(defaults.TileColumns(300) == 300);              // one tile
    CHECK(defaults.TileColumns(4096, 8, 128) == 512);     // h below 256 changes nothing
    CHECK(defaults.TileColumns(20000, 8, 1024) == 1024);  // never narrower than h (the budget allows 1677)
    CHECK(defaults.TileColumns(200000, 8, 1024) == 167);  // the budget first
    SupConOptions whole = defaults;
    whole.cache_tile_bytes = 1e12;  // the memory budget decides alone
    CHECK(whole.TileColumns(4096) == 4096);
    CHECK(whole.TileColumns(16384) == 2048);
  }
  SECTION("a bad budget or cache tile") {
    options.memory_budget_bytes = 0.0;
    REQUIRE_THROWS_MATCHES(options.Validate(), std::invalid_argument, test::MessageContains("memory_budget_bytes > 0"));
    options.memory_budget_bytes = 1.0;
    options.cache_tile_bytes = -1.0;
    REQUIRE_THROWS_MATCHES(options.Validate(), std::invalid_argument, test::MessageContains("cache_tile_bytes > 0"));
    options.cache_tile_bytes = std::numeric_limits<double>::quiet_NaN();
    REQUIRE_THROWS_MATCHES(
        options.Validate(), std::invalid_argument, test::MessageContains("expected cache_tile_bytes > 0, got nan"));
  }
}

// float32, in tiles of 64 anchors, against float64 in one tile on the same (float-rounded) points: value to 1e-5
// relative, gradient to 1e-5 of its largest entry (issue "Exact SC loss at any batch size").
void RequireFloatTiledEqualsDoubleDense(const Eigen::MatrixXd& points,
                                        const Eigen::VectorXi& labels,
                                        SupConOptions options) {
  const Eigen::MatrixXf points_float = points.cast<float>();
  const SupConResult dense = SupConLoss(Eigen::MatrixXd(points_float.cast<double>()), labels, options, true);
  options.memory_budget_bytes = 1.0;
  REQUIRE(options.TileColumns(points.cols(), 4) == std::min<Eigen::Index>(64, points.cols()));
  const SupConResultFloat tiled = SupConLoss(points_float, labels, options, true);
  CHECK(tiled.value == Approx(dense.value).epsilon(1e-5).margin(1e-30));
  CHECK(tiled.collapse_value == Approx(dense.collapse_value).epsilon(1e-12));
  CHECK(tiled.num_anchors_with_positives == dense.num_anchors_with_positives);
  REQUIRE(tiled.gradient.rows() == dense.gradient.rows());
  REQUIRE(tiled.gradient.cols() == dense.gradient.cols());
  const double scale = std::max(1e-30, dense.gradient.cwiseAbs().maxCoeff());
  CHECK((tiled.gradient.cast<double>() - dense.gradient).cwiseAbs().maxCoeff() <= 1e-5 * scale);
}

TEST_CASE("SupConLoss in float32: tiles give the float64 dense value and gradient to 1e-5, for every reduction",
          "[supcon_loss]") {
  const Eigen::MatrixXd points = test::RandomSpherePoints(32, 1000, 1.0, 31);
  Eigen::VectorXi labels(1000);
  for (int i = 0; i < 1000; ++i) labels[i] = (i * 7) % 10;
  labels[3] = 77;  // classes of one sample: anchors without positives
  labels[11] = 78;
  for (const SupConOptions& options : OptionsOfEveryReduction()) {
    CAPTURE(ToString(options.reduction));
    RequireFloatTiledEqualsDoubleDense(points, labels, options);
  }
  SECTION("one class") { RequireFloatTiledEqualsDoubleDense(points, Eigen::VectorXi::Zero(1000), SupConOptions{}); }
  SECTION("a small temperature (logits up to 1/tau = 100)") {
    SupConOptions options;
    options.temperature = Temperature::FromTemperature(0.01);
    RequireFloatTiledEqualsDoubleDense(points, labels, options);
  }
  SECTION("every sample its own class: value 0, zero gradient") {
    Eigen::VectorXi distinct(1000);
    for (int i = 0; i < 1000; ++i) distinct[i] = i;
    SupConOptions options;
    options.memory_budget_bytes = 1.0;
    const SupConResultFloat result = SupConLoss(Eigen::MatrixXf(points.cast<float>()), distinct, options, true);
    CHECK(result.value == 0.0);
    CHECK(result.gradient.cwiseAbs().maxCoeff() == 0.0f);
  }
  SECTION("a non-finite float is refused, naming its place") {
    Eigen::MatrixXf bad = points.cast<float>();
    bad(2, 5) = std::numeric_limits<float>::quiet_NaN();
    REQUIRE_THROWS_MATCHES(SupConLoss(bad, labels, SupConOptions{}, true),
                           std::invalid_argument,
                           test::MessageContains("expected finite points, got nan at row 2, column 5"));
  }
}

TEST_CASE("SupConLoss in float32: the tile of a float batch holds twice the columns of a double one", "[supcon_loss]") {
  SupConOptions options;
  options.memory_budget_bytes = 8.0 * 1000 * 128;
  CHECK(options.TileColumns(1000, 8) == 128);
  CHECK(options.TileColumns(1000, 4) == 256);
}

}  // namespace
}  // namespace dissect::theory
