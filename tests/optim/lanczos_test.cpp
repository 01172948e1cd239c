// Tests of dissect/optim/lanczos.hpp: the extreme eigenvalues of symmetric matrices given as products, against
// Eigen's dense solver, with and without thick restarts, on a subspace, and the stop callback.

#include "dissect/optim/lanczos.hpp"

#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <stdexcept>

#include "catch.hpp"
#include "test_support.hpp"

namespace dissect::optim {
namespace {

using test::RandomGaussianPoints;

constexpr double kEigenTolerance = 1e-8;

Eigen::MatrixXd RandomSymmetric(int n, std::uint64_t seed) {
  const Eigen::MatrixXd a = RandomGaussianPoints(n, n, seed);
  return 0.5 * (a + a.transpose());
}

std::function<Eigen::VectorXd(const Eigen::VectorXd&)> Product(const Eigen::MatrixXd& matrix) {
  return [&matrix](const Eigen::VectorXd& x) { return Eigen::VectorXd(matrix * x); };
}

TEST_CASE("LanczosExtremeEigenpairs: the extremes of random symmetric matrices, with thick restarts", "[certificate]") {
  for (int n : {5, 40, 300}) {
    CAPTURE(n);
    const Eigen::MatrixXd matrix = RandomSymmetric(n, static_cast<std::uint64_t>(n));
    const Eigen::VectorXd exact = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(matrix).eigenvalues();
    LanczosOptions options;
    options.relative_tolerance = 1e-10;
    options.max_iterations = 5000;
    const LanczosResult result =
        LanczosExtremeEigenpairs(Product(matrix), Eigen::VectorXd(RandomGaussianPoints(n, 1, 7)), n, options);
    CAPTURE(result.message, result.iterations, result.restarts);
    REQUIRE(result.converged);
    REQUIRE_FALSE(result.stopped);
    REQUIRE(result.restarts == (n > options.basis_size ? result.restarts : 0));
    if (n > options.basis_size) REQUIRE(result.restarts > 0);
    REQUIRE(result.extremes.lowest == Approx(exact[0]).margin(kEigenTolerance));
    REQUIRE(result.extremes.highest == Approx(exact[n - 1]).margin(kEigenTolerance));
    REQUIRE(result.extremes.lowest_residual <= 1e-8);
    REQUIRE(result.extremes.highest_residual <= 1e-8);
    REQUIRE(result.lowest_vector.size() == n);
    REQUIRE(result.lowest_vector.norm() == Approx(1.0).margin(kEigenTolerance));
    REQUIRE((matrix * result.lowest_vector - exact[0] * result.lowest_vector).norm() <= 1e-6);
  }
}

TEST_CASE("LanczosExtremeEigenpairs: a clustered spectrum converges in as many iterations as distinct eigenvalues",
          "[certificate]") {
  // 1000 x 1000 with eigenvalues 0.001 (x 10), 1 (x 600), 2 (x 389), 50 (x 1) in a random basis: Krylov spaces of a
  // random start find the 4 distinct ones.
  const int n = 1000;
  Eigen::VectorXd values(n);
  values.head(10).setConstant(0.001);
  values.segment(10, 600).setConstant(1.0);
  values.segment(610, 389).setConstant(2.0);
  values[n - 1] = 50.0;
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(RandomGaussianPoints(n, n, 3));
  const Eigen::MatrixXd q = qr.householderQ();
  const Eigen::MatrixXd matrix = q * values.asDiagonal() * q.transpose();
  LanczosOptions options;
  options.relative_tolerance = 1e-6;
  const LanczosResult result =
      LanczosExtremeEigenpairs(Product(matrix), Eigen::VectorXd(RandomGaussianPoints(n, 1, 4)), n, options);
  CAPTURE(result.message);
  REQUIRE(result.converged);
  REQUIRE(result.iterations <= 6);
  REQUIRE(result.extremes.lowest == Approx(0.001).epsilon(1e-6));
  REQUIRE(result.extremes.highest == Approx(50.0).epsilon(1e-6));
}

TEST_CASE("LanczosExtremeEigenpairs: on a subspace kept by the operator, the extremes of the restriction",
          "[certificate]") {
  // diag(-5, 1, 2, ..., 9, 30) restricted to the complement of e_0 and e_10: extremes 1 and 9.
  const int n = 11;
  Eigen::VectorXd diagonal = Eigen::VectorXd::LinSpaced(n, 0.0, 10.0);
  diagonal[0] = -5.0;
  diagonal[n - 1] = 30.0;
  const auto restricted = [&](const Eigen::VectorXd& x) {
    Eigen::VectorXd y = diagonal.cwiseProduct(x);
    y[0] = 0.0;
    y[n - 1] = 0.0;
    return y;
  };
  Eigen::VectorXd start = Eigen::VectorXd::Ones(n);
  start[0] = 0.0;
  start[n - 1] = 0.0;
  const LanczosResult result = LanczosExtremeEigenpairs(restricted, start, n - 2);
  REQUIRE(result.converged);
  REQUIRE(result.iterations <= n - 2);
  REQUIRE(result.extremes.lowest == Approx(1.0).margin(kEigenTolerance));
  REQUIRE(result.extremes.highest == Approx(9.0).margin(kEigenTolerance));
  REQUIRE(result.ritz_values.size() == n - 2);
}

TEST_CASE("LanczosExtremeEigenpairs: the callback sees every iteration and stops the iteration", "[certificate]") {
  const Eigen::MatrixXd matrix = RandomSymmetric(200, 9);
  LanczosOptions options;
  options.relative_tolerance = 1e-12;
  std::vector<LanczosProgress> seen;
  options.callback = [&](const LanczosProgress& progress) {
    seen.push_back(progress);
    return progress.iteration == 3;
  };
  const LanczosResult result =
      LanczosExtremeEigenpairs(Product(matrix), Eigen::VectorXd(RandomGaussianPoints(200, 1, 2)), 200, options);
  REQUIRE(result.stopped);
  REQUIRE_FALSE(result.converged);
  REQUIRE(result.iterations == 3);
  REQUIRE(seen.size() == 3);
  REQUIRE(seen[0].iteration == 1);
  REQUIRE(seen[2].basis_size == 3);
  REQUIRE(seen[2].extremes.lowest <= seen[2].extremes.highest);
  REQUIRE(result.extremes.lowest == seen[2].extremes.lowest);
  REQUIRE(result.lowest_vector.size() == 0);
  REQUIRE(result.message == "stopped after 3 iterations");
}

TEST_CASE("LanczosExtremeEigenpairs: the iteration cap ends without convergence", "[certificate]") {
  const Eigen::MatrixXd matrix = RandomSymmetric(300, 10);
  LanczosOptions options;
  options.max_iterations = 5;
  options.relative_tolerance = 1e-14;
  const LanczosResult result =
      LanczosExtremeEigenpairs(Product(matrix), Eigen::VectorXd(RandomGaussianPoints(300, 1, 3)), 300, options);
  REQUIRE_FALSE(result.converged);
  REQUIRE(result.iterations == 5);
  REQUIRE(result.message == "not converged after 5 iterations (0 restarts)");
}

TEST_CASE("LanczosExtremeEigenpairs: bad options and a zero start throw", "[certificate]") {
  const Eigen::MatrixXd matrix = Eigen::MatrixXd::Identity(3, 3);
  const Eigen::VectorXd start = Eigen::VectorXd::Ones(3);
  LanczosOptions options;
  options.basis_size = 1;
  REQUIRE_THROWS_MATCHES(LanczosExtremeEigenpairs(Product(matrix), start, 3, options),
                         std::invalid_argument,
                         Catch::Message("LanczosExtremeEigenpairs(): expected basis_size >= 2, got 1"));
  options = {};
  options.restart_size = 24;
  REQUIRE_THROWS_MATCHES(
      LanczosExtremeEigenpairs(Product(matrix), start, 3, options),
      std::invalid_argument,
      Catch::Message("LanczosExtremeEigenpairs(): expected restart_size < basis_size, got restart_size 24 and "
                     "basis_size 24"));
  options = {};
  options.relative_tolerance = -1.0;
  REQUIRE_THROWS_MATCHES(LanczosExtremeEigenpairs(Product(matrix), start, 3, options),
                         std::invalid_argument,
                         Catch::Message("LanczosExtremeEigenpairs(): expected relative_tolerance >= 0, got -1"));
  REQUIRE_THROWS_MATCHES(
      LanczosExtremeEigenpairs(Product(matrix), Eigen::VectorXd::Zero(3), 3),
      std::invalid_argument,
      Catch::Message("LanczosExtremeEigenpairs(): expected a nonzero finite start vector, got norm 0"));
  REQUIRE_THROWS_MATCHES(LanczosExtremeEigenpairs(Product(matrix), start, 0),
                         std::invalid_argument,
                         Catch::Message("LanczosExtremeEigenpairs(): expected subspace_dim >= 1, got 0"));
}

}  // namespace
}  // namespace dissect::optim
