// Tests of dissect/optim/rotation_orbit.hpp: the implicit projection onto the complement of the rotation orbit and
// the span rank from the Gram matrix's eigenvalues.

#include "dissect/optim/rotation_orbit.hpp"

#include <Eigen/Core>
#include <Eigen/SVD>
#include <stdexcept>

#include "catch.hpp"
#include "dissect/optim/certificate.hpp"
#include "dissect/theory/regular_simplex.hpp"
#include "test_support.hpp"

namespace dissect::optim {
namespace {

using test::BalancedLabels;
using test::Flatten;
using test::kTightTolerance;
using test::PointsAtVertices;
using test::RandomGaussianPoints;

// A random skew-symmetric matrix.
Eigen::MatrixXd RandomSkew(int dim, std::uint64_t seed) {
  const Eigen::MatrixXd a = RandomGaussianPoints(dim, dim, seed);
  return a - a.transpose();
}

struct Configuration {
  const char* name;
  Eigen::MatrixXd columns;
};

// Full rank, rank-deficient (a simplex of K-1 < h dimensions, its points repeated) and wide (M > h).
std::vector<Configuration> Configurations() {
  return {
      {"random 5 x 3", RandomGaussianPoints(5, 3, 1)},
      {"random 4 x 9", RandomGaussianPoints(4, 9, 2)},
      {"simplex K = 4 in h = 6, n = 2", PointsAtVertices(theory::RegularSimplex(4, 6, 2.0, 3), BalancedLabels(4, 2))},
      {"simplex K = 3 in h = 2, n = 3", PointsAtVertices(theory::RegularSimplex(3, 2, 1.0, 4), BalancedLabels(3, 3))}};
}

TEST_CASE("RotationOrbitProjection: annihilates Omega Z for random skew Omega and is idempotent", "[certificate]") {
  for (const Configuration& c : Configurations()) {
    CAPTURE(c.name);
    const RotationOrbitProjection orbit(c.columns);
    const int h = static_cast<int>(c.columns.rows());
    for (std::uint64_t seed = 10; seed < 13; ++seed) {
      Eigen::VectorXd orbit_direction = orbit.OrbitDirection(RandomSkew(h, seed));
      const double length = orbit_direction.norm();
      REQUIRE(length > 0.1);
      orbit.ProjectOut(orbit_direction);
      REQUIRE(orbit_direction.norm() <= kTightTolerance * length);

      Eigen::VectorXd v = Flatten(RandomGaussianPoints(h, static_cast<int>(c.columns.cols()), seed + 100));
      orbit.ProjectOut(v);
      Eigen::VectorXd twice = v;
      orbit.ProjectOut(twice);
      REQUIRE((twice - v).norm() <= kTightTolerance * v.norm());
      // What is left is orthogonal to every orbit direction, and the projection removed only orbit directions.
      for (std::uint64_t other = 20; other < 23; ++other) {
        const Eigen::VectorXd w = orbit.OrbitDirection(RandomSkew(h, other));
        REQUIRE(std::abs(v.dot(w)) <= kTightTolerance * v.norm() * w.norm());
      }
    }
  }
}

TEST_CASE("RotationOrbitProjection: removes the orbit component of a mixed direction and keeps the rest",
          "[certificate]") {
  const Eigen::MatrixXd columns = RandomGaussianPoints(4, 6, 5);
  const RotationOrbitProjection orbit(columns);
  Eigen::VectorXd rest = Flatten(RandomGaussianPoints(4, 6, 6));
  orbit.ProjectOut(rest);
  const Eigen::VectorXd mixed = rest + orbit.OrbitDirection(RandomSkew(4, 7));
  Eigen::VectorXd projected = mixed;
  orbit.ProjectOut(projected);
  REQUIRE((projected - rest).norm() <= kTightTolerance * mixed.norm());
}

TEST_CASE("RotationOrbitProjection: the orbit dimension is dim so(h) - dim so(h - rank)", "[certificate]") {
  for (const Configuration& c : Configurations()) {
    CAPTURE(c.name);
    const RotationOrbitProjection orbit(c.columns);
    const int rank = SpanRank(c.columns, 1e-5);
    REQUIRE(orbit.span_rank() == rank);
    REQUIRE(orbit.orbit_dimension() == RotationOrbitDimension(static_cast<int>(c.columns.rows()), rank));
  }
  // The simplex of K = 4 in h = 6 spans 3 dimensions: 15 - 3 = 12 orbit directions.
  const RotationOrbitProjection simplex(PointsAtVertices(theory::RegularSimplex(4, 6, 1.0, 8), BalancedLabels(4, 2)));
  REQUIRE(simplex.span_rank() == 3);
  REQUIRE(simplex.orbit_dimension() == 12);
  // Z = 0 reaches nothing: no orbit, and the projection changes nothing.
  const RotationOrbitProjection zero(Eigen::MatrixXd::Zero(3, 2));
  REQUIRE(zero.orbit_dimension() == 0);
  Eigen::VectorXd v = Eigen::VectorXd::Ones(6);
  zero.ProjectOut(v);
  REQUIRE(v == Eigen::VectorXd::Ones(6));
}

TEST_CASE("GramSpanRank: agrees with the SVD's rank on low-rank, wide and tall matrices", "[certificate]") {
  for (int rank : {0, 1, 3, 6}) {
    for (int cols : {4, 9, 40}) {
      CAPTURE(rank, cols);
      const Eigen::MatrixXd columns =
          rank == 0 ? Eigen::MatrixXd::Zero(7, cols)
                    : Eigen::MatrixXd(RandomGaussianPoints(7, rank, rank) * RandomGaussianPoints(rank, cols, cols));
      const int expected = std::min(rank, cols);
      REQUIRE(GramSpanRank(columns, 1e-5) == expected);
      REQUIRE(SpanRank(columns, 1e-5) == expected);
      REQUIRE(SpanRank(columns, 1e-8) == expected);
    }
  }
}

TEST_CASE("GramSpanRank: a simplex perturbed at 1e-8 of its scale, as a minimizer, has the SVD's rank",
          "[certificate]") {
  const Eigen::MatrixXd points = PointsAtVertices(theory::RegularSimplex(40, 64, 3.0, 5), BalancedLabels(40, 3)) +
                                 1e-8 * RandomGaussianPoints(64, 120, 6);
  const Eigen::VectorXd singular = Eigen::BDCSVD<Eigen::MatrixXd>(points).singularValues();
  const int svd_rank = static_cast<int>((singular.array() > 1e-5 * singular[0]).count());
  REQUIRE(svd_rank == 39);
  REQUIRE(GramSpanRank(points, 1e-5) == svd_rank);
  REQUIRE(RotationOrbitProjection(points).span_rank() == svd_rank);
}

TEST_CASE("RotationOrbitProjection: bad shapes and tolerances throw", "[certificate]") {
  REQUIRE_THROWS_MATCHES(
      RotationOrbitProjection(Eigen::MatrixXd(0, 3)),
      std::invalid_argument,
      Catch::Message("RotationOrbitProjection(): expected a dim x M matrix with dim >= 1 and M >= 1, got 0 x 3"));
  REQUIRE_THROWS_MATCHES(RotationOrbitProjection(Eigen::MatrixXd::Ones(2, 2), 0.0),
                         std::invalid_argument,
                         Catch::Message("RotationOrbitProjection(): expected 0 < relative_tolerance < 1, got 0"));
  const RotationOrbitProjection orbit(Eigen::MatrixXd::Identity(2, 3));
  Eigen::VectorXd wrong = Eigen::VectorXd::Zero(5);
  REQUIRE_THROWS_MATCHES(orbit.ProjectOut(wrong),
                         std::invalid_argument,
                         Catch::Message("RotationOrbitProjection::ProjectOut(): expected 6 entries (2 x 3), got 5"));
  REQUIRE_THROWS_MATCHES(
      orbit.OrbitDirection(Eigen::MatrixXd::Zero(3, 3)),
      std::invalid_argument,
      Catch::Message("RotationOrbitProjection::OrbitDirection(): expected a 2 x 2 matrix, got 3 x 3"));
}

}  // namespace
}  // namespace dissect::optim
