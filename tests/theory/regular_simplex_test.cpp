// Tests of dissect/theory/regular_simplex.hpp. Paper: regular simplex; docs/theory.md: sum_k zeta_k = 0,
// ||zeta_k|| = rho, <zeta_k, zeta_l> = -rho^2/(K-1) for k != l.

#include "dissect/theory/regular_simplex.hpp"

#include <Eigen/Core>
#include <Eigen/LU>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <vector>

#include "catch.hpp"
#include "test_support.hpp"

namespace dissect::theory {
namespace {

using test::kRoundingTolerance;
using test::kTightTolerance;
using test::MessageContains;
using test::SameBits;

struct SimplexCase {
  int num_classes;
  int dim;
  double radius;
  std::optional<std::uint64_t> seed;
};

// K from 2 to 50, h = K-1 (the smallest) and h > K-1, radii around 1, with and without a seed.
std::vector<SimplexCase> SimplexCases() {
  std::vector<SimplexCase> cases;
  for (const int k : {2, 3, 4, 10, 50}) {
    for (const int extra_dims : {0, 3}) {
      for (const double radius : {1.0, 0.3, 7.5}) {
        cases.push_back({k, k - 1 + extra_dims, radius, std::nullopt});
        cases.push_back({k, k - 1 + extra_dims, radius, std::uint64_t{20210217} + static_cast<std::uint64_t>(k)});
      }
    }
  }
  return cases;
}

TEST_CASE("RegularSimplex: the matrix is dim x K", "[regular_simplex]") {
  for (const SimplexCase& c : SimplexCases()) {
    const Eigen::MatrixXd vertices = RegularSimplex(c.num_classes, c.dim, c.radius, c.seed);
    REQUIRE(vertices.rows() == c.dim);
    REQUIRE(vertices.cols() == c.num_classes);
  }
}

TEST_CASE("RegularSimplex: the columns sum to zero", "[regular_simplex]") {
  for (const SimplexCase& c : SimplexCases()) {
    CAPTURE(c.num_classes, c.dim, c.radius, c.seed.has_value());
    const Eigen::MatrixXd vertices = RegularSimplex(c.num_classes, c.dim, c.radius, c.seed);
    const double largest = vertices.rowwise().sum().cwiseAbs().maxCoeff();
    REQUIRE(largest == Approx(0.0).margin(kTightTolerance * c.radius * c.num_classes));
  }
}

TEST_CASE("RegularSimplex: every column has norm rho", "[regular_simplex]") {
  for (const SimplexCase& c : SimplexCases()) {
    CAPTURE(c.num_classes, c.dim, c.radius, c.seed.has_value());
    const Eigen::MatrixXd vertices = RegularSimplex(c.num_classes, c.dim, c.radius, c.seed);
    for (Eigen::Index k = 0; k < vertices.cols(); ++k) {
      REQUIRE(vertices.col(k).norm() == Approx(c.radius).epsilon(kTightTolerance));
    }
  }
}

TEST_CASE("RegularSimplex: off-diagonal Gram entries equal -rho^2/(K-1)", "[regular_simplex]") {
  for (const SimplexCase& c : SimplexCases()) {
    CAPTURE(c.num_classes, c.dim, c.radius, c.seed.has_value());
    const Eigen::MatrixXd vertices = RegularSimplex(c.num_classes, c.dim, c.radius, c.seed);
    const Eigen::MatrixXd gram = vertices.transpose() * vertices;
    const double rho2 = c.radius * c.radius;
    const double off_diagonal = -rho2 / (c.num_classes - 1);
    for (int k = 0; k < c.num_classes; ++k) {
      for (int l = 0; l < c.num_classes; ++l) {
        REQUIRE(gram(k, l) == Approx(k == l ? rho2 : off_diagonal).margin(kTightTolerance * rho2));
      }
    }
  }
}

TEST_CASE("RegularSimplex: pairwise distances equal rho*sqrt(2K/(K-1))", "[regular_simplex]") {
  for (const int k : {2, 3, 10}) {
    const double radius = 1.7;
    const Eigen::MatrixXd vertices = RegularSimplex(k, k + 1, radius, 5);
    const double expected = radius * std::sqrt(2.0 * k / (k - 1.0));
    for (int a = 0; a < k; ++a) {
      for (int b = a + 1; b < k; ++b) {
        REQUIRE((vertices.col(a) - vertices.col(b)).norm() == Approx(expected).epsilon(kTightTolerance));
      }
    }
  }
}

TEST_CASE("RegularSimplex: without a seed the vertices span the first K-1 coordinates", "[regular_simplex]") {
  const Eigen::MatrixXd vertices = RegularSimplex(4, 7, 2.0);
  REQUIRE(vertices.bottomRows(4).cwiseAbs().maxCoeff() == Approx(0.0).margin(0.0));
  // K = 2 in one dimension: the two points +-rho.
  const Eigen::MatrixXd segment = RegularSimplex(2, 1, 3.0);
  REQUIRE(std::abs(segment(0, 0)) == Approx(3.0).epsilon(kRoundingTolerance));
  REQUIRE(segment(0, 0) + segment(0, 1) == Approx(0.0).margin(kRoundingTolerance));
}

TEST_CASE("RegularSimplex: without a seed zeta_k = rho*sqrt(K/(K-1))*(e_k - 1/K) in an orthonormal basis",
          "[regular_simplex]") {
  // The construction of docs/theory.md, written in R^K: its Gram matrix must equal that of RegularSimplex.
  for (const int k : {2, 3, 6}) {
    const double radius = 1.3;
    Eigen::MatrixXd direct = Eigen::MatrixXd::Identity(k, k) - Eigen::MatrixXd::Constant(k, k, 1.0 / k);
    direct *= radius * std::sqrt(static_cast<double>(k) / (k - 1));
    const Eigen::MatrixXd vertices = RegularSimplex(k, k - 1, radius);
    const Eigen::MatrixXd difference = vertices.transpose() * vertices - direct.transpose() * direct;
    REQUIRE(difference.cwiseAbs().maxCoeff() == Approx(0.0).margin(kTightTolerance));
  }
}

TEST_CASE("RegularSimplex: equal seeds give equal simplices and different seeds different ones", "[regular_simplex]") {
  const Eigen::MatrixXd a = RegularSimplex(5, 8, 1.0, 42);
  const Eigen::MatrixXd b = RegularSimplex(5, 8, 1.0, 42);
  const Eigen::MatrixXd c = RegularSimplex(5, 8, 1.0, 43);
  REQUIRE(SameBits(a, b));
  REQUIRE((a - c).cwiseAbs().maxCoeff() > 0.1);
  // The seeded simplex is the unseeded one rotated by RandomRotation(h, seed).
  const Eigen::MatrixXd rotated = RandomRotation(8, 42) * RegularSimplex(5, 8, 1.0);
  REQUIRE((a - rotated).cwiseAbs().maxCoeff() == Approx(0.0).margin(kTightTolerance));
}

TEST_CASE("RegularSimplex: h < K-1 throws std::invalid_argument whose message contains 'needs h >= K-1'",
          "[regular_simplex]") {
  REQUIRE_THROWS_MATCHES(RegularSimplex(5, 3, 1.0), std::invalid_argument, MessageContains("needs h >= K-1"));
  REQUIRE_THROWS_MATCHES(RegularSimplex(5, 3, 1.0, 7),
                         std::invalid_argument,
                         Catch::Message("RegularSimplex(): a regular simplex with K = 5 vertices needs h >= K-1 = 4, "
                                        "got h = 3"));
  REQUIRE_THROWS_MATCHES(RegularSimplex(2, 0, 1.0), std::invalid_argument, MessageContains("needs h >= K-1 = 1"));
}

TEST_CASE("RegularSimplex: K < 2, a radius <= 0 and a non-finite radius throw", "[regular_simplex]") {
  REQUIRE_THROWS_MATCHES(RegularSimplex(1, 3, 1.0),
                         std::invalid_argument,
                         MessageContains("RegularSimplex(): expected num_classes (K) >= 2, got 1"));
  REQUIRE_THROWS_MATCHES(RegularSimplex(0, 3, 1.0), std::invalid_argument, MessageContains("got 0"));
  REQUIRE_THROWS_MATCHES(RegularSimplex(3, 3, 0.0),
                         std::invalid_argument,
                         MessageContains("RegularSimplex(): expected radius > 0, got 0"));
  REQUIRE_THROWS_MATCHES(
      RegularSimplex(3, 3, -1.0), std::invalid_argument, MessageContains("expected radius > 0, got -1"));
  REQUIRE_THROWS_MATCHES(RegularSimplex(3, 3, std::numeric_limits<double>::quiet_NaN()),
                         std::invalid_argument,
                         MessageContains("expected radius > 0, got nan"));
  REQUIRE_THROWS_MATCHES(RegularSimplex(3, 3, std::numeric_limits<double>::infinity()),
                         std::invalid_argument,
                         MessageContains("expected radius > 0, got inf"));
}

TEST_CASE("RandomRotation: returns an orthogonal matrix with determinant +-1", "[regular_simplex]") {
  for (const int dim : {1, 2, 3, 10, 64}) {
    CAPTURE(dim);
    const Eigen::MatrixXd q = RandomRotation(dim, 11);
    REQUIRE(q.rows() == dim);
    REQUIRE(q.cols() == dim);
    const Eigen::MatrixXd identity = Eigen::MatrixXd::Identity(dim, dim);
    REQUIRE((q.transpose() * q - identity).cwiseAbs().maxCoeff() == Approx(0.0).margin(kTightTolerance));
    REQUIRE((q * q.transpose() - identity).cwiseAbs().maxCoeff() == Approx(0.0).margin(kTightTolerance));
    REQUIRE(std::abs(q.determinant()) == Approx(1.0).epsilon(kTightTolerance));
  }
}

TEST_CASE("RandomRotation: equal seeds give equal matrices and different seeds different ones", "[regular_simplex]") {
  REQUIRE(SameBits(RandomRotation(6, 3), RandomRotation(6, 3)));
  REQUIRE((RandomRotation(6, 3) - RandomRotation(6, 4)).cwiseAbs().maxCoeff() > 0.1);
}

TEST_CASE("RandomRotation: dim < 1 throws", "[regular_simplex]") {
  REQUIRE_THROWS_MATCHES(
      RandomRotation(0, 1), std::invalid_argument, Catch::Message("RandomRotation(): expected dim >= 1, got 0"));
}

TEST_CASE("SimplexGram: rho^2 on the diagonal, -rho^2/(K-1) elsewhere, the Gram matrix of RegularSimplex",
          "[regular_simplex]") {
  for (const int k : {2, 3, 10}) {
    for (const double radius : {1.0, 2.5}) {
      CAPTURE(k, radius);
      const Eigen::MatrixXd gram = SimplexGram(k, radius);
      REQUIRE(gram.rows() == k);
      REQUIRE(gram.cols() == k);
      for (int a = 0; a < k; ++a) {
        for (int b = 0; b < k; ++b) {
          const double expected = a == b ? radius * radius : -radius * radius / (k - 1);
          REQUIRE(gram(a, b) == Approx(expected).epsilon(kRoundingTolerance));
        }
      }
      const Eigen::MatrixXd vertices = RegularSimplex(k, k + 2, radius, 9);
      REQUIRE((vertices.transpose() * vertices - gram).cwiseAbs().maxCoeff() ==
              Approx(0.0).margin(kTightTolerance * radius * radius));
    }
  }
}

TEST_CASE("SimplexGram: K < 2 and a radius that is not finite and > 0 throw", "[regular_simplex]") {
  REQUIRE_THROWS_MATCHES(SimplexGram(1, 1.0),
                         std::invalid_argument,
                         Catch::Message("SimplexGram(): expected num_classes (K) >= 2, got 1"));
  REQUIRE_THROWS_MATCHES(
      SimplexGram(3, 0.0), std::invalid_argument, Catch::Message("SimplexGram(): expected radius > 0, got 0"));
  REQUIRE_THROWS_MATCHES(SimplexGram(3, std::numeric_limits<double>::quiet_NaN()),
                         std::invalid_argument,
                         MessageContains("expected radius > 0, got nan"));
}

TEST_CASE("SimplexCosine: equals -1/(K-1), the cosine between two RegularSimplex vertices", "[regular_simplex]") {
  REQUIRE(SimplexCosine(2) == Approx(-1.0).epsilon(kRoundingTolerance));
  REQUIRE(SimplexCosine(3) == Approx(-0.5).epsilon(kRoundingTolerance));
  REQUIRE(SimplexCosine(10) == Approx(-1.0 / 9.0).epsilon(kRoundingTolerance));
  for (const int k : {2, 5, 100}) {
    const Eigen::MatrixXd vertices = RegularSimplex(k, k, 3.0, 1);
    const double cosine =
        vertices.col(0).dot(vertices.col(k - 1)) / (vertices.col(0).norm() * vertices.col(k - 1).norm());
    REQUIRE(cosine == Approx(SimplexCosine(k)).margin(kTightTolerance));
  }
  REQUIRE_THROWS_MATCHES(
      SimplexCosine(1), std::invalid_argument, Catch::Message("SimplexCosine(): expected num_classes (K) >= 2, got 1"));
}

}  // namespace
}  // namespace dissect::theory
