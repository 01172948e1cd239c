// Tests of dissect/optim/riemannian_hessian_operator.hpp: Hessian-vector products against the dense
// finite-difference Riemannian Hessian, tangent projection, and blocks off their spheres.

#include "dissect/optim/riemannian_hessian_operator.hpp"

#include <Eigen/Core>
#include <stdexcept>

#include "catch.hpp"
#include "certificate_fixtures.hpp"
#include "dissect/optim/certificate.hpp"
#include "dissect/optim/point_objectives.hpp"
#include "test_support.hpp"

namespace dissect::optim {
namespace {

using test::BalancedLabels;
using test::Flatten;
using test::FullBatch;
using test::QuadraticObjective;
using test::RandomGaussianPoints;
using test::RandomSpherePoints;
using test::SphereBlocks;

// A tangent vector from its coordinates in the dense certificate's per-block tangent bases.
Eigen::VectorXd FromCoordinates(const RiemannianHessian& dense,
                                const std::vector<Block>& blocks,
                                const Eigen::VectorXd& coordinates) {
  Eigen::VectorXd v = Eigen::VectorXd::Zero(blocks.back().offset + blocks.back().size);
  Eigen::Index row = 0;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    v.segment(blocks[b].offset, blocks[b].size) = dense.bases[b] * coordinates.segment(row, blocks[b].size - 1);
    row += blocks[b].size - 1;
  }
  return v;
}

TEST_CASE("RiemannianHessianOperator: products equal the dense Riemannian Hessian at random points of SC",
          "[certificate]") {
  const Eigen::VectorXi labels = BalancedLabels(3, 2);
  const double radius = 1.5;
  const Eigen::VectorXd z = Flatten(RandomSpherePoints(3, 6, radius, 4));
  const SupConPointObjective objective = FullBatch(3, labels);
  const std::vector<Block> blocks = SphereBlocks(6, 3, radius);
  const RiemannianHessian dense = ComputeRiemannianHessian(objective, z, blocks, 100);
  REQUIRE(dense.computed);
  const RiemannianHessianOperator hessian(objective, z, blocks);
  REQUIRE(hessian.on_spheres());
  REQUIRE(hessian.tangent_dim() == 12);
  REQUIRE(hessian.tangential_gradient_norm() == Approx(dense.tangent_gradient.norm()).epsilon(1e-12));
  for (std::uint64_t seed = 1; seed < 4; ++seed) {
    const Eigen::VectorXd coordinates = RandomGaussianPoints(12, 1, seed);
    const Eigen::VectorXd v = FromCoordinates(dense, blocks, coordinates);
    const Eigen::VectorXd expected = FromCoordinates(dense, blocks, dense.hessian * coordinates);
    const Eigen::VectorXd product = hessian.Apply(v);
    REQUIRE((product - expected).norm() <= 1e-6 * expected.norm());
  }
  REQUIRE(hessian.num_products() == 3);
  REQUIRE(hessian.Apply(Eigen::VectorXd::Zero(18)).norm() == 0.0);
}

TEST_CASE("RiemannianHessianOperator: on a sphere f = 0.5 z^T diag(1,2,3) z at e_1 maps e_2, e_3 to 1 e_2, 2 e_3",
          "[certificate]") {
  const QuadraticObjective objective(Eigen::VectorXd::Zero(3), Eigen::Vector3d(1.0, 2.0, 3.0).asDiagonal());
  const RiemannianHessianOperator hessian(objective, Eigen::Vector3d(1.0, 0.0, 0.0), SphereBlocks(1, 3, 1.0));
  REQUIRE((hessian.Apply(Eigen::Vector3d(0.0, 1.0, 0.0)) - Eigen::Vector3d(0.0, 1.0, 0.0)).norm() <= 1e-8);
  REQUIRE((hessian.Apply(Eigen::Vector3d(0.0, 0.0, 2.0)) - Eigen::Vector3d(0.0, 0.0, 4.0)).norm() <= 1e-8);
  Eigen::VectorXd v = Eigen::Vector3d(3.0, 1.0, 0.0);
  hessian.ProjectToTangent(v);
  REQUIRE((v - Eigen::Vector3d(0.0, 1.0, 0.0)).norm() <= 1e-15);
}

TEST_CASE("RiemannianHessianOperator: a block off its sphere is reported, and its products refused", "[certificate]") {
  const QuadraticObjective objective(Eigen::VectorXd::Ones(2), Eigen::MatrixXd::Zero(2, 2));
  const RiemannianHessianOperator hessian(
      objective, Eigen::VectorXd::Constant(2, 0.1), {Block{0, 2, 1.0, BlockKind::kBall}});
  REQUIRE_FALSE(hessian.on_spheres());
  REQUIRE_THAT(hessian.message(), Catch::Contains("not on its sphere of radius 1"));
  REQUIRE_THROWS_AS(hessian.Apply(Eigen::VectorXd::Ones(2)), std::logic_error);
  REQUIRE_THROWS_MATCHES(hessian.Apply(Eigen::VectorXd::Ones(3)),
                         std::invalid_argument,
                         Catch::Message("RiemannianHessianOperator::Apply(): expected a vector of 2 entries, got 3"));
}

}  // namespace
}  // namespace dissect::optim
