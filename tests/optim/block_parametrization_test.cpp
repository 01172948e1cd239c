// Tests of dissect/optim/block_parametrization.hpp: the smooth maps from free parameters u onto products of
// spheres (z = rho u/||u||) and balls (z = rho sin(||u||) u/||u||), their inverse and the chain rule.

#include "dissect/optim/block_parametrization.hpp"

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "catch.hpp"
#include "test_support.hpp"

namespace dissect::optim {
namespace {

using test::kGradientTolerance;
using test::kRoundingTolerance;
using test::kTightTolerance;
using test::MaxVectorGradientError;
using test::MessageContains;
using test::RandomGaussianPoints;
using test::SameBits;

constexpr double kPi = 3.14159265358979323846;
// Parameters recovered through asin: near the boundary (||z|| = rho) asin amplifies a rounding error eps of the norm
// ratio to sqrt(2 eps), about 2e-8.
constexpr double kInverseSineTolerance = 1e-7;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Four blocks of different sizes, radii and kinds, tiling 12 entries.
std::vector<Block> MixedBlocks() {
  return {Block{0, 3, 1.5, BlockKind::kSphere},
          Block{3, 2, 0.7, BlockKind::kBall},
          Block{5, 4, 2.0, BlockKind::kSphere},
          Block{9, 3, 1.0, BlockKind::kBall}};
}
constexpr Eigen::Index kMixedSize = 12;

Eigen::VectorXd RandomVector(Eigen::Index size, std::uint64_t seed, double stddev = 1.0) {
  return RandomGaussianPoints(static_cast<int>(size), 1, seed, stddev).col(0);
}

// u with every block rescaled to the given norm.
Eigen::VectorXd WithBlockNorms(const std::vector<Block>& blocks, Eigen::VectorXd u, const std::vector<double>& norms) {
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    auto ub = u.segment(blocks[b].offset, blocks[b].size);
    ub *= norms[b] / ub.norm();
  }
  return u;
}

// A smooth test function of the points: f(z) = c^T z + 0.5 z^T A z with A symmetric, and its gradient c + A z.
struct QuadraticFunction {
  Eigen::VectorXd linear;
  Eigen::MatrixXd quadratic;

  QuadraticFunction(Eigen::Index size, std::uint64_t seed) {
    linear = RandomVector(size, seed);
    const Eigen::MatrixXd a = RandomGaussianPoints(static_cast<int>(size), static_cast<int>(size), seed + 1);
    quadratic = 0.5 * (a + a.transpose());
  }
  double Value(const Eigen::VectorXd& z) const { return linear.dot(z) + 0.5 * z.dot(quadratic * z); }
  Eigen::VectorXd Gradient(const Eigen::VectorXd& z) const { return linear + quadratic * z; }
};

// The error of PullBackGradient against central finite differences of f(z(u)) at u.
double PullBackError(const std::vector<Block>& blocks, const QuadraticFunction& f, const Eigen::VectorXd& u) {
  const auto of_u = [&](const Eigen::VectorXd& x) { return f.Value(PointsFromParameters(blocks, x)); };
  const Eigen::VectorXd analytic = PullBackGradient(blocks, u, f.Gradient(PointsFromParameters(blocks, u)));
  return MaxVectorGradientError(of_u, u, analytic);
}

TEST_CASE("PointsFromParameters: sphere blocks lie on their sphere and ball blocks inside their ball",
          "[block_parametrization]") {
  const std::vector<Block> blocks = MixedBlocks();
  for (const double scale : {1e-3, 0.3, 1.0, 2.5, 10.0}) {
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      CAPTURE(scale, seed);
      const Eigen::VectorXd u = RandomVector(kMixedSize, seed, scale);
      const Eigen::VectorXd z = PointsFromParameters(blocks, u);
      REQUIRE(z.size() == kMixedSize);
      for (const Block& block : blocks) {
        const double norm = z.segment(block.offset, block.size).norm();
        const double s = u.segment(block.offset, block.size).norm();
        if (block.kind == BlockKind::kSphere) {
          REQUIRE(norm == Approx(block.radius).epsilon(kRoundingTolerance));
        } else {
          REQUIRE(norm <= block.radius * (1.0 + kRoundingTolerance));
          // ||z|| = rho |sin ||u|| |: the sine map.
          REQUIRE(norm == Approx(block.radius * std::abs(std::sin(s))).epsilon(kTightTolerance));
        }
      }
    }
  }
}

TEST_CASE("PointsFromParameters: a ball block reaches its boundary exactly at ||u|| = pi/2",
          "[block_parametrization]") {
  const std::vector<Block> blocks = {Block{0, 3, 0.8, BlockKind::kBall}};
  const Eigen::VectorXd direction = RandomVector(3, 17).normalized();
  const Eigen::VectorXd on_boundary = PointsFromParameters(blocks, (kPi / 2.0) * direction);
  REQUIRE(on_boundary.norm() == Approx(0.8).epsilon(kRoundingTolerance));
  // The direction of z is the direction of u.
  REQUIRE((on_boundary / 0.8 - direction).cwiseAbs().maxCoeff() == Approx(0.0).margin(kTightTolerance));
  // On either side of pi/2 the point is inside, at rho sin(pi/2 -+ 0.1) = rho cos(0.1).
  REQUIRE(PointsFromParameters(blocks, (kPi / 2.0 - 0.1) * direction).norm() ==
          Approx(0.8 * std::cos(0.1)).epsilon(kTightTolerance));
  REQUIRE(PointsFromParameters(blocks, (kPi / 2.0 + 0.1) * direction).norm() ==
          Approx(0.8 * std::cos(0.1)).epsilon(kTightTolerance));
}

TEST_CASE("PointsFromParameters: a ball block maps u = 0 to the centre and small u to rho u",
          "[block_parametrization]") {
  const std::vector<Block> blocks = {Block{0, 4, 2.5, BlockKind::kBall}};
  REQUIRE(PointsFromParameters(blocks, Eigen::VectorXd::Zero(4)).cwiseAbs().maxCoeff() == 0.0);
  for (const double s : {1e-9, 1e-7, 1e-5}) {
    CAPTURE(s);
    const Eigen::VectorXd u = s * RandomVector(4, 3).normalized();
    // z = rho sin(s)/s u = rho u (1 - s^2/6 + ...), up to roundings of order eps ||z||.
    REQUIRE((PointsFromParameters(blocks, u) - 2.5 * u).norm() <= 2.5 * s * (s * s / 6.0 + kRoundingTolerance));
  }
}

TEST_CASE("PointsFromParameters: a sphere block with parameters of norm 0 throws", "[block_parametrization]") {
  const std::vector<Block> blocks = {Block{0, 2, 1.0, BlockKind::kSphere}, Block{2, 2, 1.0, BlockKind::kSphere}};
  Eigen::VectorXd u(4);
  u << 1.0, 2.0, 0.0, 0.0;
  REQUIRE_THROWS_MATCHES(PointsFromParameters(blocks, u),
                         std::invalid_argument,
                         Catch::Message("PointsFromParameters(): a sphere block has parameters of norm 0"));
}

TEST_CASE("ParametersFromPoints: inverts PointsFromParameters on spheres, inside balls and on their boundary",
          "[block_parametrization]") {
  const std::vector<Block> blocks = MixedBlocks();
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    CAPTURE(seed);
    // Sphere blocks of unit norm and ball blocks with ||u|| in [0, pi/2]: the canonical parameters.
    for (const double ball_norm : {0.0, 1e-8, 0.4, 1.2, kPi / 2.0}) {
      CAPTURE(ball_norm);
      const Eigen::VectorXd u =
          WithBlockNorms(blocks, RandomVector(kMixedSize, seed), {1.0, ball_norm, 1.0, ball_norm});
      const Eigen::VectorXd z = PointsFromParameters(blocks, u);
      const Eigen::VectorXd back = ParametersFromPoints(blocks, z);
      REQUIRE((back - u).cwiseAbs().maxCoeff() == Approx(0.0).margin(kInverseSineTolerance));
      REQUIRE((PointsFromParameters(blocks, back) - z).cwiseAbs().maxCoeff() == Approx(0.0).margin(kTightTolerance));
    }
    // Any u: z(u(z(u))) = z(u), although u itself is not recovered (sphere scale, sine periodicity).
    const Eigen::VectorXd u = RandomVector(kMixedSize, seed + 100, 3.0);
    const Eigen::VectorXd z = PointsFromParameters(blocks, u);
    const Eigen::VectorXd back = ParametersFromPoints(blocks, z);
    REQUIRE((PointsFromParameters(blocks, back) - z).cwiseAbs().maxCoeff() == Approx(0.0).margin(kTightTolerance));
    for (const Block& block : blocks) {
      const double norm = back.segment(block.offset, block.size).norm();
      if (block.kind == BlockKind::kSphere) {
        REQUIRE(norm == Approx(1.0).epsilon(kRoundingTolerance));
      } else {
        REQUIRE(norm <= kPi / 2.0 + kTightTolerance);
      }
    }
  }
}

TEST_CASE("ParametersFromPoints: a zero point on a sphere and a point outside its ball throw",
          "[block_parametrization]") {
  const std::vector<Block> sphere = {Block{0, 3, 1.0, BlockKind::kSphere}};
  REQUIRE_THROWS_MATCHES(ParametersFromPoints(sphere, Eigen::VectorXd::Zero(3)),
                         std::invalid_argument,
                         Catch::Message("ParametersFromPoints(): a point on a sphere has norm 0"));
  const std::vector<Block> ball = {Block{0, 2, 1.0, BlockKind::kBall}};
  Eigen::VectorXd outside(2);
  outside << 0.0, 1.5;
  REQUIRE_THROWS_MATCHES(
      ParametersFromPoints(ball, outside),
      std::invalid_argument,
      Catch::Message("ParametersFromPoints(): expected a point in the ball of radius 1, got norm 1.5"));
  // The centre of a ball is fine: u = 0.
  REQUIRE(ParametersFromPoints(ball, Eigen::VectorXd::Zero(2)).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("PullBackGradient: matches central finite differences of f(z(u)) for sphere and ball blocks",
          "[block_parametrization]") {
  const std::vector<Block> blocks = MixedBlocks();
  const QuadraticFunction f(kMixedSize, 2021);
  for (const double scale : {0.2, 0.7, 1.0, 3.0}) {
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
      CAPTURE(scale, seed);
      REQUIRE(PullBackError(blocks, f, RandomVector(kMixedSize, seed, scale)) < kGradientTolerance);
    }
  }
  // Ball blocks near and on the boundary ||u|| = pi/2, where the radial derivative vanishes.
  for (const double ball_norm : {kPi / 2.0 - 1e-3, kPi / 2.0, 2.0}) {
    CAPTURE(ball_norm);
    const Eigen::VectorXd u = WithBlockNorms(blocks, RandomVector(kMixedSize, 7), {1.0, ball_norm, 2.0, ball_norm});
    REQUIRE(PullBackError(blocks, f, u) < kGradientTolerance);
  }
}

TEST_CASE("PullBackGradient: matches central finite differences for ball blocks at and near u = 0",
          "[block_parametrization]") {
  // Norms below, at and above the switch to the Taylor expansion of sin(s)/s (1e-6 in the implementation).
  const std::vector<Block> blocks = {Block{0, 3, 1.3, BlockKind::kBall}, Block{3, 2, 0.5, BlockKind::kBall}};
  const QuadraticFunction f(5, 77);
  for (const double s : {0.0, 1e-9, 1e-7, 1e-6, 2e-6, 1e-4, 1e-2}) {
    CAPTURE(s);
    const Eigen::VectorXd u = s == 0.0 ? Eigen::VectorXd::Zero(5) : WithBlockNorms(blocks, RandomVector(5, 8), {s, s});
    REQUIRE(PullBackError(blocks, f, u) < kGradientTolerance);
  }
}

TEST_CASE("PullBackGradient: a sphere block's gradient is tangent to u and scales as 1/||u||",
          "[block_parametrization]") {
  const std::vector<Block> blocks = {Block{0, 4, 2.0, BlockKind::kSphere}};
  const Eigen::VectorXd u = RandomVector(4, 5);
  const Eigen::VectorXd g = RandomVector(4, 6);
  const Eigen::VectorXd at_u = PullBackGradient(blocks, u, g);
  const Eigen::VectorXd at_3u = PullBackGradient(blocks, 3.0 * u, g);
  REQUIRE(at_u.dot(u) == Approx(0.0).margin(kTightTolerance * g.norm() * u.norm()));
  REQUIRE((at_3u - at_u / 3.0).cwiseAbs().maxCoeff() == Approx(0.0).margin(kTightTolerance));
}

TEST_CASE("TangentialGradientNorm: equals the norm of the gradient projected onto every block's tangent space",
          "[block_parametrization]") {
  const std::vector<Block> blocks = MixedBlocks();
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    CAPTURE(seed);
    // Points on the blocks' spheres (the ball blocks on their boundary).
    const Eigen::VectorXd z = PointsFromParameters(
        blocks, WithBlockNorms(blocks, RandomVector(kMixedSize, seed), {1.0, kPi / 2, 1.0, kPi / 2}));
    const Eigen::VectorXd g = RandomVector(kMixedSize, seed + 50, 2.0);
    double sum_squares = 0.0;
    for (const Block& block : blocks) {
      const Eigen::VectorXd zb = z.segment(block.offset, block.size);
      const Eigen::MatrixXd projector =
          Eigen::MatrixXd::Identity(block.size, block.size) - zb * zb.transpose() / (block.radius * block.radius);
      sum_squares += (projector * g.segment(block.offset, block.size)).squaredNorm();
    }
    REQUIRE(TangentialGradientNorm(blocks, z, g) == Approx(std::sqrt(sum_squares)).epsilon(kTightTolerance));
  }
  // A radial gradient has no tangential part; a tangential one keeps its norm.
  const std::vector<Block> one = {Block{0, 3, 2.0, BlockKind::kSphere}};
  Eigen::VectorXd z(3), radial(3), tangential(3);
  z << 0.0, 2.0, 0.0;
  radial << 0.0, -5.0, 0.0;
  tangential << 3.0, 0.0, 4.0;
  REQUIRE(TangentialGradientNorm(one, z, radial) == Approx(0.0).margin(kRoundingTolerance));
  REQUIRE(TangentialGradientNorm(one, z, tangential) == Approx(5.0).epsilon(kRoundingTolerance));
  REQUIRE(TangentialGradientNorm(one, z, radial + tangential) == Approx(5.0).epsilon(kRoundingTolerance));
}

TEST_CASE("NormalizeSphereParameters: leaves z unchanged, gives sphere blocks unit norm and leaves ball blocks alone",
          "[block_parametrization]") {
  const std::vector<Block> blocks = MixedBlocks();
  const Eigen::VectorXd u = RandomVector(kMixedSize, 31, 4.0);
  Eigen::VectorXd normalized = u;
  NormalizeSphereParameters(blocks, normalized);
  REQUIRE((PointsFromParameters(blocks, normalized) - PointsFromParameters(blocks, u)).cwiseAbs().maxCoeff() ==
          Approx(0.0).margin(kTightTolerance));
  for (const Block& block : blocks) {
    const Eigen::VectorXd before = u.segment(block.offset, block.size);
    const Eigen::VectorXd after = normalized.segment(block.offset, block.size);
    if (block.kind == BlockKind::kSphere) {
      REQUIRE(after.norm() == Approx(1.0).epsilon(kRoundingTolerance));
    } else {
      REQUIRE(SameBits(after, before));
    }
  }
}

TEST_CASE("ValidateBlocks: accepts blocks that tile the vector in order", "[block_parametrization]") {
  REQUIRE_NOTHROW(ValidateBlocks(MixedBlocks(), kMixedSize));
  REQUIRE_NOTHROW(ValidateBlocks({Block{0, 1, 1e-3, BlockKind::kBall}}, 1));
}

TEST_CASE("ValidateBlocks: gaps, overlaps, size 0, radius <= 0 or not finite and a wrong total throw",
          "[block_parametrization]") {
  const auto sphere = [](Eigen::Index offset, Eigen::Index size, double radius = 1.0) {
    return Block{offset, size, radius, BlockKind::kSphere};
  };
  REQUIRE_THROWS_MATCHES(ValidateBlocks({sphere(0, 2), sphere(3, 2)}, 5),
                         std::invalid_argument,
                         Catch::Message("ValidateBlocks(): expected block 1 at offset 2 with size >= 1 and radius > 0, "
                                        "got offset 3, size 2, radius 1"));
  REQUIRE_THROWS_MATCHES(ValidateBlocks({sphere(0, 3), sphere(2, 2)}, 4),
                         std::invalid_argument,
                         Catch::Message("ValidateBlocks(): expected block 1 at offset 3 with size >= 1 and radius > 0, "
                                        "got offset 2, size 2, radius 1"));
  REQUIRE_THROWS_MATCHES(ValidateBlocks({sphere(1, 2)}, 3),
                         std::invalid_argument,
                         MessageContains("expected block 0 at offset 0 with size >= 1 and radius > 0, got offset 1"));
  REQUIRE_THROWS_MATCHES(ValidateBlocks({sphere(0, 2), sphere(2, 0), sphere(2, 1)}, 3),
                         std::invalid_argument,
                         MessageContains("expected block 1 at offset 2 with size >= 1 and radius > 0, got offset 2, "
                                         "size 0, radius 1"));
  REQUIRE_THROWS_MATCHES(
      ValidateBlocks({sphere(0, 2, 0.0)}, 2), std::invalid_argument, MessageContains("got offset 0, size 2, radius 0"));
  REQUIRE_THROWS_MATCHES(ValidateBlocks({sphere(0, 2), Block{2, 2, -1.0, BlockKind::kBall}}, 4),
                         std::invalid_argument,
                         MessageContains("expected block 1 at offset 2 with size >= 1 and radius > 0, got offset 2, "
                                         "size 2, radius -1"));
  REQUIRE_THROWS_MATCHES(
      ValidateBlocks({sphere(0, 2, kNaN)}, 2), std::invalid_argument, MessageContains("size 2, radius nan"));
  REQUIRE_THROWS_MATCHES(
      ValidateBlocks({sphere(0, 2, kInf)}, 2), std::invalid_argument, MessageContains("size 2, radius inf"));
  REQUIRE_THROWS_MATCHES(ValidateBlocks({sphere(0, 2), sphere(2, 2)}, 5),
                         std::invalid_argument,
                         Catch::Message("ValidateBlocks(): expected blocks covering 5 entries, got 4"));
  REQUIRE_THROWS_MATCHES(ValidateBlocks({sphere(0, 2), sphere(2, 2)}, 3),
                         std::invalid_argument,
                         Catch::Message("ValidateBlocks(): expected blocks covering 3 entries, got 4"));
}

}  // namespace
}  // namespace dissect::optim
