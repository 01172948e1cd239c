// Tests of dissect/theory/cross_entropy_loss.hpp. Paper: CE loss and CE bound; docs/theory.md:
//   L_CE(Z, W; Y) = (1/N) sum_i -log( exp(<w_{y_i}, z_i>) / sum_k exp(<w_k, z_i>) ).

#include "dissect/theory/cross_entropy_loss.hpp"

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "catch.hpp"
#include "dissect/theory/bounds.hpp"
#include "dissect/theory/regular_simplex.hpp"
#include "test_support.hpp"

namespace dissect::theory {
namespace {

using test::BalancedLabels;
using test::kGradientTolerance;
using test::kRoundingTolerance;
using test::kTightTolerance;
using test::MaxGradientError;
using test::MessageContains;
using test::PointsAtVertices;
using test::RandomGaussianPoints;
using test::RandomLabels;

// The equality case of the CE bound: z_i = zeta_{y_i} on a radius-rho simplex, w_k = (r/rho) zeta_k.
struct SimplexConfiguration {
  Eigen::MatrixXd points;   // dim x N
  Eigen::VectorXi labels;   // N, balanced
  Eigen::MatrixXd weights;  // K x dim
};

SimplexConfiguration AtSimplex(int num_classes, int per_class, int dim, double radius, double weight_norm) {
  const Eigen::MatrixXd vertices = RegularSimplex(num_classes, dim, radius, 1234);
  SimplexConfiguration c;
  c.labels = BalancedLabels(num_classes, per_class);
  c.points = PointsAtVertices(vertices, c.labels);
  c.weights = (weight_norm / radius) * vertices.transpose();
  return c;
}

TEST_CASE("CrossEntropyLoss: at the simplex with w_k = (r/rho) zeta_k the loss equals the docs/theory.md known answers",
          "[cross_entropy_loss]") {
  const SimplexConfiguration k3 = AtSimplex(3, 4, 2, 1.0, 1.0);
  REQUIRE(CrossEntropyLoss(k3.points, k3.labels, k3.weights).value ==
          Approx(0.3689811354013154).epsilon(kRoundingTolerance));
  const SimplexConfiguration k10 = AtSimplex(10, 3, 12, 1.0, 1.0);
  REQUIRE(CrossEntropyLoss(k10.points, k10.labels, k10.weights).value ==
          Approx(1.3769349204501935).epsilon(kRoundingTolerance));
}

TEST_CASE("CrossEntropyLoss: at the simplex with w_k = (r/rho) zeta_k the loss equals CrossEntropyBound",
          "[cross_entropy_loss]") {
  for (const int k : {2, 3, 5, 10, 40}) {
    for (const int extra_dims : {0, 3}) {
      for (const auto& [radius, weight_norm] : {std::pair{1.0, 1.0}, std::pair{2.0, 0.5}, std::pair{0.7, 3.0}}) {
        CAPTURE(k, extra_dims, radius, weight_norm);
        const SimplexConfiguration c = AtSimplex(k, 3, k - 1 + extra_dims, radius, weight_norm);
        const double bound = CrossEntropyBound(k, radius, weight_norm);
        REQUIRE(CrossEntropyLoss(c.points, c.labels, c.weights).value ==
                Approx(bound).epsilon(kRoundingTolerance).margin(kRoundingTolerance));
      }
    }
  }
}

TEST_CASE("CrossEntropyLoss: with W = 0 the loss is log K and the gradients are the closed forms",
          "[cross_entropy_loss]") {
  const int k = 4;
  const Eigen::MatrixXd points = RandomGaussianPoints(3, 6, 17);
  const Eigen::VectorXi labels = RandomLabels(6, k, 18);
  const CrossEntropyResult result = CrossEntropyLoss(points, labels, Eigen::MatrixXd::Zero(k, 3));
  REQUIRE(result.value == Approx(std::log(4.0)).epsilon(kRoundingTolerance));
  REQUIRE(result.points_gradient.cwiseAbs().maxCoeff() == Approx(0.0).margin(0.0));
  // dL/dW = (1/N) sum_i (1/K - e_{y_i}) z_i^T.
  Eigen::MatrixXd expected = Eigen::MatrixXd::Zero(k, 3);
  for (Eigen::Index i = 0; i < points.cols(); ++i) {
    for (int row = 0; row < k; ++row) {
      expected.row(row) += ((row == labels[i] ? -1.0 : 0.0) + 1.0 / k) * points.col(i).transpose() / 6.0;
    }
  }
  REQUIRE((result.weights_gradient - expected).cwiseAbs().maxCoeff() == Approx(0.0).margin(kRoundingTolerance));
}

TEST_CASE("CrossEntropyLoss: a single point equals -log softmax computed by hand", "[cross_entropy_loss]") {
  Eigen::MatrixXd points(2, 1);
  points << 1.0, -2.0;
  Eigen::MatrixXd weights(3, 2);
  weights << 0.5, 0.0,  // logit 0.5
      0.0, 1.0,         // logit -2
      1.0, 1.0;         // logit -1
  Eigen::VectorXi labels(1);
  labels << 2;
  const double expected = -(-1.0) + std::log(std::exp(0.5) + std::exp(-2.0) + std::exp(-1.0));
  REQUIRE(CrossEntropyLoss(points, labels, weights).value == Approx(expected).epsilon(kRoundingTolerance));
}

TEST_CASE("CrossEntropyLoss: the analytic gradients match central finite differences at random points",
          "[cross_entropy_loss]") {
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    CAPTURE(seed);
    const int k = 4, dim = 5, n = 9;
    const Eigen::MatrixXd points = RandomGaussianPoints(dim, n, seed);
    const Eigen::MatrixXd weights = RandomGaussianPoints(k, dim, seed + 100, 0.8);
    const Eigen::VectorXi labels = RandomLabels(n, k, seed + 200);
    const CrossEntropyResult result = CrossEntropyLoss(points, labels, weights);
    REQUIRE(result.points_gradient.rows() == dim);
    REQUIRE(result.points_gradient.cols() == n);
    REQUIRE(result.weights_gradient.rows() == k);
    REQUIRE(result.weights_gradient.cols() == dim);
    const auto of_points = [&](const Eigen::MatrixXd& z) { return CrossEntropyLoss(z, labels, weights, false).value; };
    const auto of_weights = [&](const Eigen::MatrixXd& w) { return CrossEntropyLoss(points, labels, w, false).value; };
    REQUIRE(MaxGradientError(of_points, points, result.points_gradient) < kGradientTolerance);
    REQUIRE(MaxGradientError(of_weights, weights, result.weights_gradient) < kGradientTolerance);
  }
}

TEST_CASE("CrossEntropyLoss: without the gradient the value is the same and the gradients are empty",
          "[cross_entropy_loss]") {
  const Eigen::MatrixXd points = RandomGaussianPoints(3, 7, 5);
  const Eigen::MatrixXd weights = RandomGaussianPoints(4, 3, 6);
  const Eigen::VectorXi labels = RandomLabels(7, 4, 7);
  const CrossEntropyResult with = CrossEntropyLoss(points, labels, weights, true);
  const CrossEntropyResult without = CrossEntropyLoss(points, labels, weights, false);
  REQUIRE(without.value == Approx(with.value).epsilon(kRoundingTolerance));
  REQUIRE(without.points_gradient.size() == 0);
  REQUIRE(without.weights_gradient.size() == 0);
}

TEST_CASE("CrossEntropyLoss: rotating Z by Q and W by W Q^T leaves the value unchanged and rotates the gradients",
          "[cross_entropy_loss]") {
  const int k = 5, dim = 6, n = 11;
  const Eigen::MatrixXd points = RandomGaussianPoints(dim, n, 31);
  const Eigen::MatrixXd weights = RandomGaussianPoints(k, dim, 32);
  const Eigen::VectorXi labels = RandomLabels(n, k, 33);
  const Eigen::MatrixXd q = test::RandomRotation(dim, 34);
  const CrossEntropyResult original = CrossEntropyLoss(points, labels, weights);
  const CrossEntropyResult rotated = CrossEntropyLoss(q * points, labels, weights * q.transpose());
  REQUIRE(rotated.value == Approx(original.value).epsilon(kTightTolerance));
  REQUIRE((rotated.points_gradient - q * original.points_gradient).cwiseAbs().maxCoeff() ==
          Approx(0.0).margin(kTightTolerance));
  REQUIRE((rotated.weights_gradient - original.weights_gradient * q.transpose()).cwiseAbs().maxCoeff() ==
          Approx(0.0).margin(kTightTolerance));
}

TEST_CASE("CrossEntropyLoss: logits of order 1e4 give a finite value and gradient equal to the shifted computation",
          "[cross_entropy_loss]") {
  // Adding one vector u to every row of W adds <u, z_i> to all logits of point i: the loss and both gradients are
  // unchanged (the softmax minus one-hot sums to 0). With <u, z_i> ~ 1e4, exp() of a raw logit overflows or
  // underflows, so only a shifted (log-sum-exp) evaluation survives.
  const int k = 3, dim = 4, n = 6;
  Eigen::MatrixXd points = RandomGaussianPoints(dim, n, 41);
  points.row(0) = Eigen::RowVectorXd::LinSpaced(n, 1.0, 1.5);  // so that <u, z_i> = 1e4 .. 1.5e4 below
  const Eigen::MatrixXd weights = RandomGaussianPoints(k, dim, 42);
  const Eigen::VectorXi labels = RandomLabels(n, k, 43);
  const CrossEntropyResult moderate = CrossEntropyLoss(points, labels, weights);
  for (const double sign : {1.0, -1.0}) {
    CAPTURE(sign);
    Eigen::VectorXd u = Eigen::VectorXd::Zero(dim);
    u[0] = sign * 1e4;
    const Eigen::MatrixXd shifted_weights = weights.rowwise() + u.transpose();
    const CrossEntropyResult large = CrossEntropyLoss(points, labels, shifted_weights);
    REQUIRE(((shifted_weights * points).cwiseAbs().array() > 1e4 - 100.0).all());
    REQUIRE(std::isfinite(large.value));
    REQUIRE(large.points_gradient.allFinite());
    REQUIRE(large.weights_gradient.allFinite());
    // Logits near 1.5e4 carry rounding errors of 1.5e4 * eps = 3e-12 (value). The softmax exp(l - max)/sum keeps
    // the gradients to about that (measured below 1e-11); exp(l - lse) lost three more digits.
    INFO("value error " << std::abs(large.value - moderate.value));
    INFO("dZ error " << (large.points_gradient - moderate.points_gradient).cwiseAbs().maxCoeff());
    INFO("dW error " << (large.weights_gradient - moderate.weights_gradient).cwiseAbs().maxCoeff());
    REQUIRE(large.value == Approx(moderate.value).margin(1e-10));
    REQUIRE((large.points_gradient - moderate.points_gradient).cwiseAbs().maxCoeff() == Approx(0.0).margin(1e-10));
    REQUIRE((large.weights_gradient - moderate.weights_gradient).cwiseAbs().maxCoeff() == Approx(0.0).margin(1e-10));
  }
}

TEST_CASE("CrossEntropyLoss: a confidently wrong prediction with logits +-1e4 costs the logit gap",
          "[cross_entropy_loss]") {
  // Logits 1e4 (class 0) and -1e4 (class 1), label 1: L = 2e4 + log(1 + exp(-2e4)) = 2e4 in double.
  Eigen::MatrixXd points(1, 1);
  points << 1.0;
  Eigen::MatrixXd weights(2, 1);
  weights << 1e4, -1e4;
  Eigen::VectorXi labels(1);
  labels << 1;
  const CrossEntropyResult result = CrossEntropyLoss(points, labels, weights);
  REQUIRE(result.value == Approx(2e4).epsilon(kRoundingTolerance));
  // dL/dz = sum_k p_k w_k - w_y = 1e4 + 1e4; dL/dW = (p - e_y) z^T = (1, -1).
  REQUIRE(result.points_gradient(0, 0) == Approx(2e4).epsilon(kRoundingTolerance));
  REQUIRE(result.weights_gradient(0, 0) == Approx(1.0).epsilon(kRoundingTolerance));
  REQUIRE(result.weights_gradient(1, 0) == Approx(-1.0).epsilon(kRoundingTolerance));
}

TEST_CASE("CrossEntropyLoss: bad inputs throw std::invalid_argument naming the problem", "[cross_entropy_loss]") {
  const Eigen::MatrixXd points = RandomGaussianPoints(3, 4, 51);
  const Eigen::MatrixXd weights = RandomGaussianPoints(3, 3, 52);
  Eigen::VectorXi labels(4);
  labels << 0, 1, 2, 1;
  REQUIRE_NOTHROW(CrossEntropyLoss(points, labels, weights));

  SECTION("a label out of range") {
    Eigen::VectorXi bad = labels;
    bad[3] = 3;
    REQUIRE_THROWS_MATCHES(CrossEntropyLoss(points, bad, weights),
                           std::invalid_argument,
                           Catch::Message("CrossEntropyLoss(): expected labels in [0, 3), got 3 at index 3"));
    bad[3] = -1;
    REQUIRE_THROWS_MATCHES(CrossEntropyLoss(points, bad, weights),
                           std::invalid_argument,
                           MessageContains("expected labels in [0, 3), got -1 at index 3"));
  }
  SECTION("a label count that differs from N") {
    REQUIRE_THROWS_MATCHES(CrossEntropyLoss(points, labels.head(3), weights),
                           std::invalid_argument,
                           Catch::Message("CrossEntropyLoss(): expected 4 labels (one per point), got 3"));
  }
  SECTION("W whose column count differs from the dimension of the points") {
    REQUIRE_THROWS_MATCHES(
        CrossEntropyLoss(points, labels, Eigen::MatrixXd::Ones(3, 2)),
        std::invalid_argument,
        Catch::Message("CrossEntropyLoss(): expected W with h = 3 columns (the dimension of the points), got 2"));
  }
  SECTION("NaN or inf in the points") {
    Eigen::MatrixXd bad = points;
    bad(1, 2) = std::numeric_limits<double>::quiet_NaN();
    REQUIRE_THROWS_MATCHES(CrossEntropyLoss(bad, labels, weights),
                           std::invalid_argument,
                           Catch::Message("CrossEntropyLoss(): expected finite points, got nan at row 1, column 2"));
    bad(1, 2) = std::numeric_limits<double>::infinity();
    REQUIRE_THROWS_MATCHES(CrossEntropyLoss(bad, labels, weights),
                           std::invalid_argument,
                           MessageContains("expected finite points, got inf at row 1, column 2"));
  }
  SECTION("NaN or inf in W") {
    Eigen::MatrixXd bad = weights;
    bad(2, 0) = std::numeric_limits<double>::quiet_NaN();
    REQUIRE_THROWS_MATCHES(CrossEntropyLoss(points, labels, bad),
                           std::invalid_argument,
                           Catch::Message("CrossEntropyLoss(): expected finite weights, got nan at row 2, column 0"));
    bad(2, 0) = -std::numeric_limits<double>::infinity();
    REQUIRE_THROWS_MATCHES(CrossEntropyLoss(points, labels, bad),
                           std::invalid_argument,
                           MessageContains("expected finite weights, got -inf at row 2, column 0"));
  }
  SECTION("no points (N = 0)") {
    REQUIRE_THROWS_MATCHES(CrossEntropyLoss(Eigen::MatrixXd(3, 0), Eigen::VectorXi(0), weights),
                           std::invalid_argument,
                           Catch::Message("CrossEntropyLoss(): expected number of points (N) >= 1, got 0"));
  }
  SECTION("fewer than two classes (K < 2)") {
    REQUIRE_THROWS_MATCHES(CrossEntropyLoss(points, Eigen::VectorXi::Zero(4), Eigen::MatrixXd::Ones(1, 3)),
                           std::invalid_argument,
                           Catch::Message("CrossEntropyLoss(): expected number of classes (rows of W) >= 2, got 1"));
  }
}

}  // namespace
}  // namespace dissect::theory
