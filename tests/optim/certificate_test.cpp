// Tests of dissect/optim/certificate.hpp: the dimension of the rotation orbit, the numerical span rank, and the
// spectrum of the Riemannian Hessian on a product of spheres, at known minima, maxima and saddles.

#include "dissect/optim/certificate.hpp"

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "catch.hpp"
#include "certificate_fixtures.hpp"
#include "dissect/optim/block_parametrization.hpp"
#include "dissect/optim/point_objectives.hpp"
#include "dissect/theory/regular_simplex.hpp"
#include "test_support.hpp"

namespace dissect::optim {
namespace {

using test::BalancedLabels;
using test::Flatten;
using test::FullBatch;
using test::kTightTolerance;
using test::MessageContains;
using test::PointsAtVertices;
using test::QuadraticObjective;
using test::RandomGaussianPoints;
using test::SphereBlocks;

// The certificate's Hessian comes from central differences of an exact gradient with step 1e-5 rho: accurate to
// about 1e-9 relative to the largest eigenvalue.
constexpr double kHessianTolerance = 1e-6;

Eigen::VectorXd UnitVector(int dim, int axis, double radius = 1.0) { return radius * Eigen::VectorXd::Unit(dim, axis); }

TEST_CASE("RotationOrbitDimension: dim so(h) - dim so(h - d) for known cases", "[certificate]") {
  REQUIRE(RotationOrbitDimension(2, 2) == 1);
  REQUIRE(RotationOrbitDimension(3, 2) == 3);
  REQUIRE(RotationOrbitDimension(5, 2) == 7);
  REQUIRE(RotationOrbitDimension(2, 1) == 1);
  REQUIRE(RotationOrbitDimension(3, 3) == 3);
  REQUIRE(RotationOrbitDimension(4, 3) == 6);
  REQUIRE(RotationOrbitDimension(5, 3) == 9);
  REQUIRE(RotationOrbitDimension(1, 1) == 0);
  for (const int dim : {1, 2, 7, 100}) {
    CAPTURE(dim);
    REQUIRE(RotationOrbitDimension(dim, 0) == 0);
    // A full-rank configuration has the orbit of all of SO(h), and rank h-1 the same (the last direction follows).
    REQUIRE(RotationOrbitDimension(dim, dim) == static_cast<Eigen::Index>(dim) * (dim - 1) / 2);
    REQUIRE(RotationOrbitDimension(dim, dim - 1) == RotationOrbitDimension(dim, dim));
  }
}

TEST_CASE("RotationOrbitDimension: dim < 1, a negative span rank and a span rank above dim throw", "[certificate]") {
  REQUIRE_THROWS_MATCHES(
      RotationOrbitDimension(0, 0),
      std::invalid_argument,
      Catch::Message("RotationOrbitDimension(): expected 0 <= span_rank <= dim, got span_rank 0 and dim 0"));
  REQUIRE_THROWS_MATCHES(
      RotationOrbitDimension(3, -1),
      std::invalid_argument,
      Catch::Message("RotationOrbitDimension(): expected 0 <= span_rank <= dim, got span_rank -1 and dim 3"));
  REQUIRE_THROWS_MATCHES(RotationOrbitDimension(3, 4),
                         std::invalid_argument,
                         MessageContains("expected 0 <= span_rank <= dim, got span_rank 4 and dim 3"));
}

TEST_CASE("SpanRank: the numerical rank of simple matrices", "[certificate]") {
  REQUIRE(SpanRank(Eigen::MatrixXd::Zero(3, 4)) == 0);
  REQUIRE(SpanRank(Eigen::MatrixXd(0, 0)) == 0);
  REQUIRE(SpanRank(Eigen::MatrixXd::Identity(3, 3)) == 3);
  REQUIRE(SpanRank(Eigen::MatrixXd::Identity(5, 2)) == 2);
  const Eigen::MatrixXd outer = RandomGaussianPoints(4, 1, 1) * RandomGaussianPoints(1, 6, 2);
  REQUIRE(SpanRank(outer) == 1);
  // The K vertices of a simplex span K-1 dimensions, in any h >= K-1.
  REQUIRE(SpanRank(theory::RegularSimplex(4, 6, 2.0, 5)) == 3);
  REQUIRE(SpanRank(PointsAtVertices(theory::RegularSimplex(3, 2, 1.0), BalancedLabels(3, 4))) == 2);
  // A perturbation below the relative tolerance does not count; above it, it does.
  Eigen::MatrixXd nearly(3, 2);
  nearly << 1.0, 1.0,  //
      2.0, 2.0,        //
      3.0, 3.0 + 1e-12;
  REQUIRE(SpanRank(nearly) == 1);
  REQUIRE(SpanRank(nearly, 1e-15) == 2);
}

TEST_CASE("CertifyLocalMinimum: f = 0.5 z^T diag(1,2,3) z on the unit sphere has the known Riemannian Hessians",
          "[certificate]") {
  // At the eigenvector e_k the Riemannian Hessian is diag(a_j - a_k), j != k.
  const Eigen::Vector3d diagonal(1.0, 2.0, 3.0);
  const QuadraticObjective objective(Eigen::VectorXd::Zero(3), diagonal.asDiagonal().toDenseMatrix());
  const std::vector<Block> blocks = {Block{0, 3, 1.0, BlockKind::kSphere}};
  struct Expected {
    int axis;
    double low, high;
    Eigen::Index negative;
    bool strict;
  };
  for (const Expected& expected :
       {Expected{0, 1.0, 2.0, 0, true}, Expected{1, -1.0, 1.0, 1, false}, Expected{2, -2.0, -1.0, 2, false}}) {
    CAPTURE(expected.axis);
    const HessianCertificate certificate = CertifyLocalMinimum(objective, UnitVector(3, expected.axis), blocks, 0);
    CAPTURE(certificate.message);
    REQUIRE(certificate.computed);
    REQUIRE(certificate.tangent_dim == 2);
    REQUIRE(certificate.expected_flat == 0);
    REQUIRE(certificate.eigenvalues.size() == 2);
    REQUIRE(certificate.eigenvalues[0] == Approx(expected.low).margin(kHessianTolerance));
    REQUIRE(certificate.eigenvalues[1] == Approx(expected.high).margin(kHessianTolerance));
    REQUIRE(certificate.num_negative == expected.negative);
    REQUIRE(certificate.num_near_zero == 0);
    REQUIRE(certificate.min_eigenvalue == Approx(expected.low).margin(kHessianTolerance));
    REQUIRE(certificate.strict_local_minimum_up_to_rotation == expected.strict);
    REQUIRE(std::isnan(certificate.min_multiplier));  // no ball blocks
  }
}

TEST_CASE("CertifyLocalMinimum: a linear function on a ball is minimized on the boundary against its gradient",
          "[certificate]") {
  // f(z) = c^T z, ||z|| <= r: minimum at z = -r c/||c|| with multiplier ||c|| and Riemannian Hessian (||c||/r) I;
  // the maximum z = +r c/||c|| has multiplier -||c|| and Hessian -(||c||/r) I.
  Eigen::VectorXd c(3);
  c << 3.0, 0.0, -4.0;
  const double r = 2.0;
  const QuadraticObjective objective(c, Eigen::MatrixXd::Zero(3, 3));
  const std::vector<Block> blocks = {Block{0, 3, r, BlockKind::kBall}};

  const HessianCertificate at_minimum = CertifyLocalMinimum(objective, -r * c.normalized(), blocks, 0);
  REQUIRE(at_minimum.computed);
  REQUIRE(at_minimum.min_multiplier == Approx(5.0).epsilon(kHessianTolerance));
  REQUIRE(at_minimum.min_eigenvalue == Approx(2.5).epsilon(kHessianTolerance));
  REQUIRE(at_minimum.eigenvalues.maxCoeff() == Approx(2.5).epsilon(kHessianTolerance));
  REQUIRE(at_minimum.strict_local_minimum_up_to_rotation);

  const HessianCertificate at_maximum = CertifyLocalMinimum(objective, r * c.normalized(), blocks, 0);
  REQUIRE(at_maximum.computed);
  REQUIRE(at_maximum.min_multiplier == Approx(-5.0).epsilon(kHessianTolerance));
  REQUIRE(at_maximum.num_negative == 2);
  REQUIRE_FALSE(at_maximum.strict_local_minimum_up_to_rotation);
}

TEST_CASE("CertifyLocalMinimum: SC at the exact simplex is a strict local minimum up to rotation", "[certificate]") {
  struct Case {
    int num_classes, per_class, dim;
    double radius;
  };
  for (const Case& c : {Case{3, 2, 2, 1.0}, Case{4, 2, 3, 1.0}, Case{3, 3, 2, 2.0}, Case{4, 2, 5, 1.0}}) {
    CAPTURE(c.num_classes, c.per_class, c.dim, c.radius);
    const Eigen::VectorXi labels = BalancedLabels(c.num_classes, c.per_class);
    const Eigen::MatrixXd points = PointsAtVertices(theory::RegularSimplex(c.num_classes, c.dim, c.radius, 13), labels);
    const SupConPointObjective objective = FullBatch(c.dim, labels);
    const std::vector<Block> blocks = SphereBlocks(static_cast<int>(labels.size()), c.dim, c.radius);
    // The simplex is a critical point on the spheres.
    Eigen::VectorXd gradient;
    objective.Evaluate(Flatten(points), &gradient);
    REQUIRE(TangentialGradientNorm(blocks, Flatten(points), gradient) == Approx(0.0).margin(kTightTolerance));

    const Eigen::Index flat = RotationOrbitDimension(c.dim, SpanRank(points));
    REQUIRE(flat == RotationOrbitDimension(c.dim, c.num_classes - 1));
    const HessianCertificate certificate = CertifyLocalMinimum(objective, Flatten(points), blocks, flat);
    CAPTURE(certificate.message, certificate.eigenvalues.transpose());
    REQUIRE(certificate.computed);
    REQUIRE(certificate.tangent_dim == labels.size() * (c.dim - 1));
    REQUIRE(certificate.expected_flat == flat);
    REQUIRE(certificate.num_negative == 0);
    REQUIRE(certificate.num_near_zero == flat);
    REQUIRE(certificate.min_eigenvalue > 0.0);
    REQUIRE(certificate.max_abs_flat <= certificate.zero_tolerance);
    REQUIRE(certificate.strict_local_minimum_up_to_rotation);
    REQUIRE_THAT(certificate.message, Catch::Contains("a strict local minimum up to rotation"));
  }
}

TEST_CASE("CertifyLocalMinimum: two classes at one vertex of SC is a critical point with negative eigenvalues",
          "[certificate]") {
  // K = 3, n = 2 on the circle: classes 0 and 1 at e_1, class 2 at -e_1. By the reflection symmetry about the axis
  // the gradient is radial (a critical point), but splitting classes 0 and 1 lowers the loss: a saddle.
  const Eigen::VectorXi labels = BalancedLabels(3, 2);
  Eigen::MatrixXd vertices(2, 3);
  vertices << 1.0, 1.0, -1.0,  //
      0.0, 0.0, 0.0;
  const Eigen::MatrixXd points = PointsAtVertices(vertices, labels);
  const SupConPointObjective objective = FullBatch(2, labels);
  const std::vector<Block> blocks = SphereBlocks(6, 2, 1.0);
  Eigen::VectorXd gradient;
  objective.Evaluate(Flatten(points), &gradient);
  REQUIRE(TangentialGradientNorm(blocks, Flatten(points), gradient) == Approx(0.0).margin(kTightTolerance));

  const HessianCertificate certificate =
      CertifyLocalMinimum(objective, Flatten(points), blocks, RotationOrbitDimension(2, SpanRank(points)));
  CAPTURE(certificate.message, certificate.eigenvalues.transpose());
  REQUIRE(certificate.computed);
  REQUIRE(certificate.num_negative > 0);
  REQUIRE(certificate.eigenvalues[0] < -certificate.zero_tolerance);
  REQUIRE(certificate.min_eigenvalue < 0.0);
  REQUIRE_FALSE(certificate.strict_local_minimum_up_to_rotation);
}

TEST_CASE("CertifyLocalMinimum: all points of two classes at one place is a critical point, not a minimum",
          "[certificate]") {
  const Eigen::VectorXi labels = BalancedLabels(2, 2);
  const Eigen::MatrixXd points = UnitVector(3, 2, 1.5) * Eigen::RowVectorXd::Ones(4);
  const SupConPointObjective objective = FullBatch(3, labels);
  const HessianCertificate certificate = CertifyLocalMinimum(
      objective, Flatten(points), SphereBlocks(4, 3, 1.5), RotationOrbitDimension(3, SpanRank(points)));
  REQUIRE(certificate.computed);
  REQUIRE(certificate.num_negative > 0);
  REQUIRE_FALSE(certificate.strict_local_minimum_up_to_rotation);
}

TEST_CASE("CertifyLocalMinimum: a tangent dimension above max_tangent_dim is not computed", "[certificate]") {
  const Eigen::VectorXi labels = BalancedLabels(3, 2);
  const Eigen::MatrixXd points = PointsAtVertices(theory::RegularSimplex(3, 2, 1.0), labels);
  const SupConPointObjective objective = FullBatch(2, labels);
  const HessianCertificate certificate = CertifyLocalMinimum(objective, Flatten(points), SphereBlocks(6, 2, 1.0), 1, 5);
  REQUIRE_FALSE(certificate.computed);
  REQUIRE_FALSE(certificate.strict_local_minimum_up_to_rotation);
  REQUIRE(certificate.tangent_dim == 6);
  REQUIRE(certificate.message == "not computed: tangent dimension 6 exceeds the limit 5");
  REQUIRE(certificate.eigenvalues.size() == 0);
  // At the limit it is computed.
  REQUIRE(CertifyLocalMinimum(objective, Flatten(points), SphereBlocks(6, 2, 1.0), 1, 6).computed);
}

TEST_CASE("CertifyLocalMinimum: a point off its sphere or inside its ball is not computed", "[certificate]") {
  const Eigen::VectorXi labels = BalancedLabels(3, 2);
  Eigen::MatrixXd points = PointsAtVertices(theory::RegularSimplex(3, 2, 1.0), labels);
  points.col(4) *= 1.01;
  const SupConPointObjective objective = FullBatch(2, labels);
  const HessianCertificate off = CertifyLocalMinimum(objective, Flatten(points), SphereBlocks(6, 2, 1.0), 1);
  REQUIRE_FALSE(off.computed);
  REQUIRE_FALSE(off.strict_local_minimum_up_to_rotation);
  REQUIRE_THAT(off.message, Catch::StartsWith("not computed: a block at offset 8 has norm 1.0"));
  REQUIRE_THAT(off.message, Catch::Contains("not on its sphere of radius 1"));

  const QuadraticObjective linear(Eigen::VectorXd::Ones(2), Eigen::MatrixXd::Zero(2, 2));
  const HessianCertificate inside =
      CertifyLocalMinimum(linear, Eigen::VectorXd::Constant(2, 0.1), {Block{0, 2, 1.0, BlockKind::kBall}}, 0);
  REQUIRE_FALSE(inside.computed);
  REQUIRE_THAT(inside.message, Catch::Contains("not on its sphere of radius 1"));
}

TEST_CASE("CertifyLocalMinimum: blocks that do not tile z throw", "[certificate]") {
  const QuadraticObjective objective(Eigen::VectorXd::Ones(4), Eigen::MatrixXd::Zero(4, 4));
  REQUIRE_THROWS_MATCHES(CertifyLocalMinimum(objective, Eigen::VectorXd::Ones(4), SphereBlocks(1, 3, 1.0), 0),
                         std::invalid_argument,
                         Catch::Message("ValidateBlocks(): expected blocks covering 4 entries, got 3"));
}

}  // namespace
}  // namespace dissect::optim
