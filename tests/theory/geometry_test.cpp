// Tests of dissect/theory/geometry.hpp: class means, angular similarity s(u, v) = 1 - arccos(cos(u, v))/pi, the
// Gram error against the simplex and the within-class spread; docs/theory.md (Regular simplex, Geometry).

#include "dissect/theory/geometry.hpp"

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "dissect/theory/regular_simplex.hpp"
#include "test_support.hpp"

namespace dissect::theory {
namespace {

using test::kRoundingTolerance;
using test::kSevenDigitTolerance;
using test::kTightTolerance;
using test::MessageContains;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Six points in 2-D: class 0 = {(1,0), (3,2)}, class 1 = {(0,-1)}, class 2 = {(-1,1), (1,1), (0,4)}, interleaved.
struct KnownConfiguration {
  Eigen::MatrixXd points;
  Eigen::VectorXi labels;
};

KnownConfiguration MakeKnownConfiguration() {
  KnownConfiguration c;
  c.points.resize(2, 6);
  c.points << 1.0, -1.0, 0.0, 3.0, 1.0, 0.0,  //
      0.0, 1.0, -1.0, 2.0, 1.0, 4.0;
  c.labels.resize(6);
  c.labels << 0, 2, 1, 0, 2, 2;
  return c;
}

TEST_CASE("ComputeClassMeans: means and counts of a known configuration", "[geometry]") {
  const KnownConfiguration c = MakeKnownConfiguration();
  const ClassMeans result = ComputeClassMeans(c.points, c.labels, 3);
  REQUIRE(result.means.rows() == 2);
  REQUIRE(result.means.cols() == 3);
  REQUIRE(result.counts.size() == 3);
  REQUIRE(result.counts[0] == 2);
  REQUIRE(result.counts[1] == 1);
  REQUIRE(result.counts[2] == 3);
  // Means (2, 1), (0, -1), (0, 2).
  REQUIRE(result.means(0, 0) == Approx(2.0).epsilon(kRoundingTolerance));
  REQUIRE(result.means(1, 0) == Approx(1.0).epsilon(kRoundingTolerance));
  REQUIRE(result.means(0, 1) == Approx(0.0).margin(kRoundingTolerance));
  REQUIRE(result.means(1, 1) == Approx(-1.0).epsilon(kRoundingTolerance));
  REQUIRE(result.means(0, 2) == Approx(0.0).margin(kRoundingTolerance));
  REQUIRE(result.means(1, 2) == Approx(2.0).epsilon(kRoundingTolerance));
}

TEST_CASE("ComputeClassMeans: an empty class gets a NaN column and count 0", "[geometry]") {
  const KnownConfiguration c = MakeKnownConfiguration();
  const ClassMeans result = ComputeClassMeans(c.points, c.labels, 5);
  REQUIRE(result.counts.size() == 5);
  for (const int empty : {3, 4}) {
    CAPTURE(empty);
    REQUIRE(result.counts[empty] == 0);
    REQUIRE(result.means.col(empty).array().isNaN().all());
  }
  REQUIRE(result.means.leftCols(3).allFinite());
}

TEST_CASE("ComputeClassMeans: points collapsed onto the simplex give the simplex back", "[geometry]") {
  const Eigen::MatrixXd vertices = RegularSimplex(4, 6, 2.0, 3);
  const Eigen::VectorXi labels = test::BalancedLabels(4, 5);
  const ClassMeans result = ComputeClassMeans(test::PointsAtVertices(vertices, labels), labels, 4);
  REQUIRE((result.means - vertices).cwiseAbs().maxCoeff() == Approx(0.0).margin(kTightTolerance));
  REQUIRE((result.counts.array() == 5).all());
}

TEST_CASE("ComputeClassMeans: bad inputs throw std::invalid_argument naming the problem", "[geometry]") {
  const KnownConfiguration c = MakeKnownConfiguration();
  REQUIRE_THROWS_MATCHES(ComputeClassMeans(c.points, c.labels, 0),
                         std::invalid_argument,
                         Catch::Message("ComputeClassMeans(): expected num_classes (K) >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(ComputeClassMeans(c.points, c.labels, 2),
                         std::invalid_argument,
                         Catch::Message("ComputeClassMeans(): expected labels in [0, 2), got 2 at index 1"));
  REQUIRE_THROWS_MATCHES(ComputeClassMeans(c.points, c.labels.head(5), 3),
                         std::invalid_argument,
                         Catch::Message("ComputeClassMeans(): expected 6 labels (one per point), got 5"));
  REQUIRE_THROWS_MATCHES(ComputeClassMeans(Eigen::MatrixXd(2, 0), Eigen::VectorXi(0), 3),
                         std::invalid_argument,
                         Catch::Message("ComputeClassMeans(): expected number of points (N) >= 1, got 0"));
  Eigen::MatrixXd bad = c.points;
  bad(1, 4) = kNaN;
  REQUIRE_THROWS_MATCHES(ComputeClassMeans(bad, c.labels, 3),
                         std::invalid_argument,
                         Catch::Message("ComputeClassMeans(): expected finite points, got nan at row 1, column 4"));
}

TEST_CASE("AngularSimilarity: orthogonal vectors give 0.5, equal ones 1 and opposite ones 0", "[geometry]") {
  Eigen::VectorXd e1(3), e2(3);
  e1 << 1.0, 0.0, 0.0;
  e2 << 0.0, 2.0, 0.0;
  REQUIRE(AngularSimilarity(e1, e2) == Approx(0.5).epsilon(kRoundingTolerance));
  REQUIRE(AngularSimilarity(e1, e1) == Approx(1.0).epsilon(kRoundingTolerance));
  REQUIRE(AngularSimilarity(e1, 3.0 * e1) == Approx(1.0).epsilon(kRoundingTolerance));
  REQUIRE(AngularSimilarity(e1, -e1) == Approx(0.0).margin(kRoundingTolerance));
  REQUIRE(AngularSimilarity(e2, -0.5 * e2) == Approx(0.0).margin(kRoundingTolerance));
}

TEST_CASE("AngularSimilarity: 60 and 120 degrees give 2/3 and 1/3, symmetric in u and v", "[geometry]") {
  Eigen::VectorXd u(2), v(2), w(2);
  u << 1.0, 0.0;
  v << 0.5, std::sqrt(3.0) / 2.0;
  w << -0.5, std::sqrt(3.0) / 2.0;
  REQUIRE(AngularSimilarity(u, v) == Approx(2.0 / 3.0).epsilon(kTightTolerance));
  REQUIRE(AngularSimilarity(v, u) == Approx(2.0 / 3.0).epsilon(kTightTolerance));
  REQUIRE(AngularSimilarity(u, w) == Approx(1.0 / 3.0).epsilon(kTightTolerance));
  // Scale does not matter.
  REQUIRE(AngularSimilarity(7.0 * u, 0.01 * w) == Approx(1.0 / 3.0).epsilon(kTightTolerance));
}

TEST_CASE("SimplexAngularSimilarity: equals 0.4645591 for K=10 and 0.4967847 for K=100", "[geometry]") {
  REQUIRE(SimplexAngularSimilarity(10) == Approx(0.4645591).margin(kSevenDigitTolerance));
  REQUIRE(SimplexAngularSimilarity(100) == Approx(0.4967847).margin(kSevenDigitTolerance));
  REQUIRE(SimplexAngularSimilarity(2) == Approx(0.0).margin(kRoundingTolerance));
  REQUIRE(SimplexAngularSimilarity(3) == Approx(1.0 / 3.0).epsilon(kTightTolerance));  // 120 degrees
  for (const int k : {2, 3, 10, 100}) {
    CAPTURE(k);
    REQUIRE(SimplexAngularSimilarity(k) ==
            Approx(1.0 - std::acos(-1.0 / (k - 1.0)) / M_PI).epsilon(kRoundingTolerance));
  }
}

TEST_CASE(
    "AngularSimilarity: two vertices of a simplex give the simplex value (0.4645591 for K=10, 0.4967847 for "
    "K=100)",
    "[geometry]") {
  for (const auto& [k, expected] : {std::pair{10, 0.4645591}, std::pair{100, 0.4967847}}) {
    CAPTURE(k);
    const Eigen::MatrixXd vertices = RegularSimplex(k, k + 5, 2.5, 17);
    REQUIRE(AngularSimilarity(vertices.col(0), vertices.col(k - 1)) == Approx(expected).margin(kSevenDigitTolerance));
    REQUIRE(AngularSimilarity(vertices.col(1), vertices.col(2)) ==
            Approx(SimplexAngularSimilarity(k)).epsilon(kTightTolerance));
  }
}

TEST_CASE("AngularSimilarity: a zero, non-finite or differently sized vector throws", "[geometry]") {
  Eigen::VectorXd u(2), v(2);
  u << 1.0, 2.0;
  v << 0.0, 0.0;
  REQUIRE_THROWS_MATCHES(AngularSimilarity(u, v),
                         std::invalid_argument,
                         Catch::Message("AngularSimilarity(): expected non-zero vectors, got a zero vector"));
  REQUIRE_THROWS_MATCHES(AngularSimilarity(v, u), std::invalid_argument, MessageContains("got a zero vector"));
  REQUIRE_THROWS_MATCHES(AngularSimilarity(u, Eigen::VectorXd::Ones(3)),
                         std::invalid_argument,
                         Catch::Message("AngularSimilarity(): expected vectors of equal length, got 2 and 3"));
  v << 1.0, kNaN;
  REQUIRE_THROWS_MATCHES(AngularSimilarity(u, v),
                         std::invalid_argument,
                         Catch::Message("AngularSimilarity(): expected finite v, got nan at row 1, column 0"));
  REQUIRE_THROWS_MATCHES(AngularSimilarity(v, u), std::invalid_argument, MessageContains("expected finite u"));
  REQUIRE_THROWS_MATCHES(SimplexAngularSimilarity(1), std::invalid_argument, MessageContains("(K) >= 2, got 1"));
}

TEST_CASE("AngularSimilarity: very large and very small finite vectors give the same value as unit ones",
          "[geometry]") {
  // Regression test: norms and dot products formed directly overflow near 1e200 (inf/inf = NaN) and underflow
  // near 1e-170 (reported as "a zero vector"). The header promises a value in [0, 1] for every finite non-zero pair.
  Eigen::VectorXd u(2), v(2);
  u << 1.0, 0.0;
  v << 1.0, 1.0;  // 45 degrees: s = 0.75
  CHECK(AngularSimilarity(u, v) == Approx(0.75).epsilon(kTightTolerance));
  double large = kNaN;
  CHECK_NOTHROW(large = AngularSimilarity(1e200 * u, 1e200 * v));
  CHECK(large == Approx(0.75).epsilon(kTightTolerance));
  double small = kNaN;
  CHECK_NOTHROW(small = AngularSimilarity(1e-170 * u, 1e-170 * v));
  CHECK(small == Approx(0.75).epsilon(kTightTolerance));
}

TEST_CASE("MaxGramErrorAgainstSimplex: is zero at a rotated simplex", "[geometry]") {
  for (const int k : {2, 3, 10}) {
    for (const double radius : {1.0, 3.0}) {
      CAPTURE(k, radius);
      const Eigen::MatrixXd vertices = RegularSimplex(k, k + 2, radius, 99);
      REQUIRE(MaxGramErrorAgainstSimplex(vertices, radius) == Approx(0.0).margin(kTightTolerance * radius * radius));
      // The Gram matrix ignores the rotation.
      const Eigen::MatrixXd rotated = test::RandomRotation(k + 2, 5) * vertices;
      REQUIRE(MaxGramErrorAgainstSimplex(rotated, radius) == Approx(0.0).margin(kTightTolerance * radius * radius));
    }
  }
}

TEST_CASE("MaxGramErrorAgainstSimplex: equals the hand-computed error of a perturbed simplex", "[geometry]") {
  // Stretch vertex 0 of the unit K=3 simplex by 1 + eps: Gram(0,0) = (1+eps)^2 (error 2 eps + eps^2) and
  // Gram(0,l) = -(1+eps)/2 (error eps/2). With eps = 0.1 the largest error is 0.21.
  Eigen::MatrixXd vertices = RegularSimplex(3, 2, 1.0);
  vertices.col(0) *= 1.1;
  REQUIRE(MaxGramErrorAgainstSimplex(vertices, 1.0) == Approx(0.21).epsilon(kTightTolerance));
  // Against the wrong radius: the unperturbed unit simplex compared with rho = 2 is off by 4 - 1 = 3 on the
  // diagonal (and by 2 - 0.5 = 1.5 off it).
  REQUIRE(MaxGramErrorAgainstSimplex(RegularSimplex(3, 4, 1.0, 8), 2.0) == Approx(3.0).epsilon(kTightTolerance));
  // Two orthogonal unit vectors against the K=2 simplex (+-1): the off-diagonal entry is off by 1.
  REQUIRE(MaxGramErrorAgainstSimplex(Eigen::MatrixXd::Identity(2, 2), 1.0) == Approx(1.0).epsilon(kTightTolerance));
}

TEST_CASE("MaxGramErrorAgainstSimplex: fewer than 2 columns, non-finite means and a radius <= 0 throw", "[geometry]") {
  REQUIRE_THROWS_MATCHES(
      MaxGramErrorAgainstSimplex(Eigen::MatrixXd::Ones(3, 1), 1.0),
      std::invalid_argument,
      Catch::Message("MaxGramErrorAgainstSimplex(): expected number of class means (K) >= 2, got 1"));
  Eigen::MatrixXd means = RegularSimplex(3, 2, 1.0);
  means(1, 2) = kNaN;  // what ComputeClassMeans returns for an empty class
  REQUIRE_THROWS_MATCHES(
      MaxGramErrorAgainstSimplex(means, 1.0),
      std::invalid_argument,
      Catch::Message("MaxGramErrorAgainstSimplex(): expected finite class means, got nan at row 1, column 2"));
  // The radius is checked by SimplexGram, whose name the message carries.
  REQUIRE_THROWS_MATCHES(MaxGramErrorAgainstSimplex(RegularSimplex(3, 2, 1.0), 0.0),
                         std::invalid_argument,
                         MessageContains("expected radius > 0, got 0"));
  REQUIRE_THROWS_MATCHES(MaxGramErrorAgainstSimplex(RegularSimplex(3, 2, 1.0), -1.0),
                         std::invalid_argument,
                         MessageContains("expected radius > 0, got -1"));
}

TEST_CASE("WithinClassSpread: is zero for collapsed classes", "[geometry]") {
  const Eigen::MatrixXd vertices = RegularSimplex(3, 4, 1.0, 2);
  const Eigen::VectorXi labels = test::BalancedLabels(3, 4);
  const Eigen::VectorXd spread = WithinClassSpread(test::PointsAtVertices(vertices, labels), labels, 3);
  REQUIRE(spread.size() == 3);
  REQUIRE(spread.cwiseAbs().maxCoeff() == Approx(0.0).margin(kTightTolerance));
}

TEST_CASE("WithinClassSpread: equals the RMS distance to the class mean, NaN for an empty class", "[geometry]") {
  // Class 0: both points at distance sqrt(2) from (2, 1). Class 1: one point, 0. Class 2: squared distances 2, 2, 4
  // from (0, 2), RMS sqrt(8/3). Class 3: empty.
  const KnownConfiguration c = MakeKnownConfiguration();
  const Eigen::VectorXd spread = WithinClassSpread(c.points, c.labels, 4);
  REQUIRE(spread.size() == 4);
  REQUIRE(spread[0] == Approx(std::sqrt(2.0)).epsilon(kRoundingTolerance));
  REQUIRE(spread[1] == Approx(0.0).margin(kRoundingTolerance));
  REQUIRE(spread[2] == Approx(std::sqrt(8.0 / 3.0)).epsilon(kRoundingTolerance));
  REQUIRE(std::isnan(spread[3]));
}

TEST_CASE("WithinClassSpread: bad inputs throw like ComputeClassMeans", "[geometry]") {
  const KnownConfiguration c = MakeKnownConfiguration();
  REQUIRE_THROWS_MATCHES(
      WithinClassSpread(c.points, c.labels, 2), std::invalid_argument, MessageContains("expected labels in [0, 2)"));
  REQUIRE_THROWS_MATCHES(WithinClassSpread(c.points, c.labels, 0),
                         std::invalid_argument,
                         MessageContains("expected num_classes (K) >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(WithinClassSpread(c.points, c.labels.head(2), 3),
                         std::invalid_argument,
                         MessageContains("expected 6 labels (one per point), got 2"));
  Eigen::MatrixXd bad = c.points;
  bad(0, 0) = std::numeric_limits<double>::infinity();
  REQUIRE_THROWS_MATCHES(
      WithinClassSpread(bad, c.labels, 3), std::invalid_argument, MessageContains("expected finite points, got inf"));
}

}  // namespace
}  // namespace dissect::theory

namespace dissect::theory {
namespace {

TEST_CASE("PairAngularSimilarities: every usable pair k < l in order, zero and NaN columns skipped") {
  Eigen::MatrixXd columns(2, 4);
  columns << 1, 0, 0, -1, 0, 1, 0, 0;  // e1, e2, a zero column, -e1
  const std::vector<double> s = PairAngularSimilarities(columns);
  REQUIRE(s.size() == 3);                    // (0,1), (0,3), (1,3): the zero column has no direction
  CHECK(s[0] == Approx(0.5));                // 90 degrees
  CHECK(s[1] == Approx(0.0).margin(1e-15));  // 180 degrees
  CHECK(s[2] == Approx(0.5));
  columns(0, 2) = std::numeric_limits<double>::quiet_NaN();  // an empty class's mean
  CHECK(PairAngularSimilarities(columns).size() == 3);
  // At a simplex every pair is at the simplex similarity.
  for (const double v : PairAngularSimilarities(RegularSimplex(5, 4, 1.0))) {
    CHECK(v == Approx(SimplexAngularSimilarity(5)).epsilon(1e-12));
  }
}

TEST_CASE("RelativeSpread: population standard deviation over the mean, NaN without a positive mean") {
  Eigen::VectorXd values(4);
  values << 1, 2, 3, 6;  // mean 3, population variance (4 + 1 + 0 + 9) / 4 = 3.5
  CHECK(RelativeSpread(values) == Approx(std::sqrt(3.5) / 3.0).epsilon(1e-15));
  CHECK(std::isnan(RelativeSpread(Eigen::VectorXd())));
  CHECK(std::isnan(RelativeSpread(Eigen::VectorXd::Zero(3))));
}

}  // namespace
}  // namespace dissect::theory
