// Tests of dissect/theory/iid_supcon_estimate.hpp: the i.i.d. batch draws (seeded, uniform, in range) and the SC
// estimate over them (its mean and standard error against SupConLoss batch by batch).

#include "dissect/theory/iid_supcon_estimate.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "catch.hpp"
#include "dissect/theory/supcon_loss.hpp"
#include "test_support.hpp"

namespace dissect::theory {
namespace {

using test::MessageContains;

TEST_CASE("DrawIidBatchIndices: M b indices below n, seeded, spread uniformly, bad sizes refused") {
  const std::vector<Eigen::Index> a = DrawIidBatchIndices(10, 250, 40, 7);
  REQUIRE(a.size() == 10000);
  CHECK(a == DrawIidBatchIndices(10, 250, 40, 7));
  CHECK(a != DrawIidBatchIndices(10, 250, 40, 8));
  std::vector<int> counts(10, 0);
  for (const Eigen::Index i : a) {
    REQUIRE(i >= 0);
    REQUIRE(i < 10);
    ++counts[static_cast<std::size_t>(i)];
  }
  for (const int c : counts) CHECK(std::abs(c - 1000) < 150);  // binomial sd 30
  // The first batches do not depend on how many follow.
  const std::vector<Eigen::Index> b = DrawIidBatchIndices(10, 250, 2, 7);
  CHECK(std::equal(b.begin(), b.end(), a.begin()));
  REQUIRE_THROWS_MATCHES(DrawIidBatchIndices(0, 2, 2, 0), std::invalid_argument, MessageContains("n"));
  REQUIRE_THROWS_MATCHES(DrawIidBatchIndices(5, 2, 0, 0), std::invalid_argument, MessageContains("num_batches"));
}

TEST_CASE("EstimateIidSupCon: the mean and standard error of SupConLoss over the batches, in draw order") {
  std::mt19937_64 engine(3);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd points(3, 12);
  Eigen::VectorXi labels(12);
  for (Eigen::Index c = 0; c < 12; ++c) {
    for (Eigen::Index r = 0; r < 3; ++r) points(r, c) = normal(engine);
    points.col(c).normalize();
    labels(c) = static_cast<int>(c % 3);
  }
  const Temperature tau = Temperature::FromTemperature(0.5);
  SupConOptions options;
  options.temperature = tau;
  options.reduction = SupConReduction::kBatchMean;
  std::vector<double> values;
  for (int m = 0; m < 3; ++m) {
    values.push_back(SupConLoss(points.middleCols(4 * m, 4), labels.segment(4 * m, 4), options, false).value);
  }
  const double mean = (values[0] + values[1] + values[2]) / 3.0;
  double squares = 0.0;
  for (const double v : values) squares += (v - mean) * (v - mean);
  const IidSupConEstimate estimate = EstimateIidSupCon(points, labels, 4, tau);
  CHECK(estimate.num_batches == 3);
  CHECK(estimate.mean == Approx(mean).epsilon(1e-15));
  CHECK(estimate.standard_error == Approx(std::sqrt(squares / 2.0 / 3.0)).epsilon(1e-14));
  // One batch: no standard error.
  CHECK(std::isnan(EstimateIidSupCon(points.leftCols(4), labels.head(4), 4, tau).standard_error));
  REQUIRE_THROWS_MATCHES(
      EstimateIidSupCon(points, labels, 5, tau), std::invalid_argument, MessageContains("M b points"));
}

}  // namespace
}  // namespace dissect::theory
