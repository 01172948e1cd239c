// Numerical stress (issue "Hardening"): temperatures from 1e-3 to 1e3, feature norms up to 1e4, K up to 1000,
// N up to 100,000. Losses, gradients and bounds stay finite, or are +inf where the value really overflows (the
// multiset total), and are never NaN.

#include <cmath>

#include "catch.hpp"
#include "dissect/theory/bounds.hpp"
#include "dissect/theory/cross_entropy_loss.hpp"
#include "dissect/theory/geometry.hpp"
#include "dissect/theory/regular_simplex.hpp"
#include "dissect/theory/supcon_loss.hpp"
#include "test_support.hpp"

namespace {

namespace theory = dissect::theory;

bool AllFinite(const Eigen::MatrixXd& m) { return m.allFinite(); }

}  // namespace

TEST_CASE("Stress: the SC loss and its gradient stay finite for tau in [1e-3, 1e3] and norms up to 1e4") {
  const Eigen::VectorXi labels = dissect::test::RandomLabels(64, 5, 2);
  for (const double norm : {1e-4, 1.0, 1e2, 1e4}) {
    const Eigen::MatrixXd points = dissect::test::RandomSpherePoints(8, 64, norm, 3);
    for (const double tau : {1e-3, 1e-1, 1.0, 1e3}) {
      theory::SupConOptions options;
      options.temperature = theory::Temperature::FromTemperature(tau);
      const theory::SupConResult r = theory::SupConLoss(points, labels, options, true);
      INFO("norm " << norm << " tau " << tau << " value " << r.value << " excess " << r.excess);
      CHECK(std::isfinite(r.value));
      CHECK(std::isfinite(r.excess));
      CHECK(r.value >= 0.0);
      CHECK(AllFinite(r.gradient));
    }
  }
}

TEST_CASE("Stress: at a collapsed simplex with rho^2/tau up to 1e11 the SC excess is tiny and finite, never NaN") {
  const Eigen::MatrixXd vertices = theory::RegularSimplex(10, 12, 1e4, 1);
  const Eigen::VectorXi labels = dissect::test::BalancedLabels(10, 6);
  const Eigen::MatrixXd points = dissect::test::PointsAtVertices(vertices, labels);
  for (const double tau : {1e-3, 1.0, 1e3}) {
    theory::SupConOptions options;
    options.temperature = theory::Temperature::FromTemperature(tau);
    const theory::SupConResult r = theory::SupConLoss(points, labels, options, true);
    CHECK(std::isfinite(r.value));
    CHECK(r.excess >= 0.0);
    CHECK(std::isfinite(r.excess));
    CHECK(AllFinite(r.gradient));
  }
}

TEST_CASE("Stress: the CE loss and its gradients stay finite for logits up to 1e8 and K = 1000") {
  const Eigen::MatrixXd points = dissect::test::RandomSpherePoints(16, 200, 1e4, 4);
  const Eigen::VectorXi labels = dissect::test::RandomLabels(200, 1000, 5);
  const Eigen::MatrixXd weights = dissect::test::RandomSpherePoints(16, 1000, 1e4, 6).transpose();
  const theory::CrossEntropyResult r = theory::CrossEntropyLoss(points, labels, weights, true);
  CHECK(std::isfinite(r.value));
  CHECK(AllFinite(r.points_gradient));
  CHECK(AllFinite(r.weights_gradient));
}

TEST_CASE("Stress: the bounds are finite or +inf, never NaN, for K up to 1000, N up to 100,000, tau in [1e-3, 1e3]") {
  for (const int K : {2, 10, 100, 1000}) {
    for (const double rho_r : {1e-8, 1.0, 1e4, 1e8}) {
      const double ce = theory::CrossEntropyBound(K, rho_r, 1.0);
      CHECK(std::isfinite(ce));
      CHECK(ce >= 0.0);
      CHECK(ce <= std::log(static_cast<double>(K)) + 1e-12);
    }
    for (const double tau : {1e-3, 1.0, 1e3}) {
      const auto temperature = theory::Temperature::FromTemperature(tau);
      const double floor = theory::SupConIidFloor(K, 256, temperature);
      CHECK(std::isfinite(floor));
      CHECK(floor >= 0.0);
      const theory::SupConMultisetBoundResult bound = theory::SupConMultisetBound(K, 100000 / K, 256, temperature);
      INFO("K " << K << " tau " << tau);
      CHECK(std::isfinite(bound.log_value));
      CHECK(std::isfinite(bound.per_anchor_mean));
      CHECK(!std::isnan(bound.value));  // +inf: C(100000 + 255, 256) overflows double
      CHECK(!std::isnan(bound.excess));
      CHECK(std::isfinite(bound.log_num_batches));
    }
  }
}

TEST_CASE("Stress: a simplex of K = 1000 vertices in h = 999 has the simplex Gram matrix and similarity") {
  const Eigen::MatrixXd vertices = theory::RegularSimplex(1000, 999, 1e4);
  CHECK(theory::MaxGramErrorAgainstSimplex(vertices, 1e4) / 1e8 < 1e-12);
  CHECK(std::isfinite(theory::SimplexAngularSimilarity(1000)));
  // cos = -1/999: just below 1/2.
  CHECK(theory::SimplexAngularSimilarity(1000) < 0.5);
  CHECK(theory::SimplexAngularSimilarity(1000) > 0.4996);
}

TEST_CASE("Stress: the SC loss of 20,000 points in one batch at tau = 1e-3 is finite with a finite gradient") {
  const Eigen::MatrixXd points = dissect::test::RandomSpherePoints(4, 20000, 1.0, 7);
  const Eigen::VectorXi labels = dissect::test::RandomLabels(20000, 1000, 8);
  theory::SupConOptions options;
  options.temperature = theory::Temperature::FromTemperature(1e-3);
  const theory::SupConResult r = theory::SupConLoss(points, labels, options, true);
  CHECK(std::isfinite(r.value));
  CHECK(AllFinite(r.gradient));
}

TEST_CASE("Stress: the SC loss of 100,000 points in one batch is finite (slow: 137 s here)", "[.slow]") {
  const Eigen::MatrixXd points = dissect::test::RandomSpherePoints(4, 100000, 1.0, 9);
  const Eigen::VectorXi labels = dissect::test::RandomLabels(100000, 1000, 10);
  theory::SupConOptions options;
  options.temperature = theory::Temperature::FromTemperature(1e-3);
  const theory::SupConResult r = theory::SupConLoss(points, labels, options, false);
  CHECK(std::isfinite(r.value));
}
