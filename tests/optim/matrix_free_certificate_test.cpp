// Tests of dissect/optim/matrix_free_certificate.hpp: on problems small enough for the dense certificate, the
// matrix-free one finds the same smallest eigenvalue beyond the rotation orbit, the same largest eigenvalue and the
// same verdict, for SC and for CE with its classifier, at minima and at saddles; and its stop callback.

#include "dissect/optim/matrix_free_certificate.hpp"

#include <Eigen/Core>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"
#include "certificate_fixtures.hpp"
#include "dissect/optim/certificate.hpp"
#include "dissect/optim/minimize.hpp"
#include "dissect/optim/point_objectives.hpp"
#include "dissect/optim/restarts.hpp"
#include "dissect/theory/regular_simplex.hpp"
#include "test_support.hpp"

namespace dissect::optim {
namespace {

using test::BalancedLabels;
using test::Flatten;
using test::FullBatch;
using test::PointsAtVertices;
using test::SphereBlocks;

// Both certificates difference the same analytic gradient (steps 1e-5 rho per block and 1e-5 ||z|| along the
// direction): their eigenvalues agree to about 1e-9 of the largest; the Lanczos residuals (relative 1e-6 of each
// eigenvalue, or the resolution) leave errors below that.
constexpr double kAgreement = 1e-6;

Eigen::Index Flat(int dim, const Eigen::MatrixXd& columns) {
  return RotationOrbitDimension(dim, SpanRank(columns, 1e-5));
}

// The dense certificate and the matrix-free one at z; requires that they agree and returns the matrix-free one.
HessianCertificate RequireAgreement(const Objective& objective,
                                    const Eigen::VectorXd& z,
                                    const std::vector<Block>& blocks,
                                    int dim) {
  const Eigen::MatrixXd columns = Eigen::Map<const Eigen::MatrixXd>(z.data(), dim, z.size() / dim);
  const HessianCertificate dense = CertifyLocalMinimum(objective, z, blocks, Flat(dim, columns));
  MatrixFreeCertificateOptions options;
  options.dim = dim;
  const HessianCertificate free = CertifyLocalMinimumMatrixFree(objective, z, blocks, options);
  CAPTURE(dense.message, dense.eigenvalues.transpose(), free.message, free.eigenvalues.transpose());
  REQUIRE(dense.computed);
  REQUIRE(free.computed);
  REQUIRE(free.method == CertificateMethod::kMatrixFree);
  REQUIRE(dense.method == CertificateMethod::kDense);
  REQUIRE(free.converged);
  REQUIRE(free.tangent_dim == dense.tangent_dim);
  REQUIRE(free.expected_flat == dense.expected_flat);
  const double scale = dense.eigenvalues.cwiseAbs().maxCoeff();
  REQUIRE(free.min_eigenvalue == Approx(dense.min_eigenvalue).margin(kAgreement * scale));
  REQUIRE(free.max_eigenvalue == Approx(dense.max_eigenvalue).margin(kAgreement * scale));
  REQUIRE(dense.max_eigenvalue == dense.eigenvalues.maxCoeff());
  REQUIRE(free.min_eigenvalue_residual <= std::max(free.zero_tolerance, 2e-6 * std::abs(free.min_eigenvalue)));
  REQUIRE(free.max_eigenvalue_residual <= std::max(free.zero_tolerance, 2e-6 * std::abs(free.max_eigenvalue)));
  REQUIRE(free.max_abs_flat <= free.zero_tolerance);
  REQUIRE(free.strict_local_minimum_up_to_rotation == dense.strict_local_minimum_up_to_rotation);
  if (std::isfinite(dense.min_multiplier)) REQUIRE(free.min_multiplier == Approx(dense.min_multiplier).epsilon(1e-12));
  REQUIRE(free.hessian_vector_products == options.orbit_probes + free.iterations + 2);
  return free;
}

TEST_CASE("CertifyLocalMinimumMatrixFree: SC at the exact simplex agrees with the dense certificate", "[certificate]") {
  struct Case {
    int num_classes, per_class, dim;
    double radius;
  };
  // The last two need thick restarts (more than 24 directions beyond the orbit); the last is tau = 0.1.
  for (const Case& c : {Case{3, 2, 2, 1.0},
                        Case{4, 2, 3, 1.0},
                        Case{3, 3, 2, 2.0},
                        Case{4, 2, 5, 1.0},
                        Case{5, 3, 4, 1.0},
                        Case{10, 2, 9, std::sqrt(10.0)}}) {
    CAPTURE(c.num_classes, c.per_class, c.dim, c.radius);
    const Eigen::VectorXi labels = BalancedLabels(c.num_classes, c.per_class);
    const Eigen::MatrixXd points = PointsAtVertices(theory::RegularSimplex(c.num_classes, c.dim, c.radius, 13), labels);
    const HessianCertificate free = RequireAgreement(FullBatch(c.dim, labels),
                                                     Flatten(points),
                                                     SphereBlocks(static_cast<int>(labels.size()), c.dim, c.radius),
                                                     c.dim);
    REQUIRE(free.strict_local_minimum_up_to_rotation);
    REQUIRE(free.min_eigenvalue > 0.0);
    REQUIRE(free.num_negative == 0);
    REQUIRE_THAT(free.message, Catch::Contains("a strict local minimum up to rotation"));
    REQUIRE_THAT(free.message, Catch::Contains(fmt::format("(rotation orbit of {} deflated)", free.expected_flat)));
  }
}

TEST_CASE("CertifyLocalMinimumMatrixFree: two SC classes at one vertex is a saddle, found negative", "[certificate]") {
  // K = 3, n = 2 in R^3: classes 0 and 1 at e_1, class 2 at -e_1 (critical by the reflection symmetry); splitting
  // classes 0 and 1 lowers the loss.
  const Eigen::VectorXi labels = BalancedLabels(3, 2);
  Eigen::MatrixXd vertices = Eigen::MatrixXd::Zero(3, 3);
  vertices.row(0) << 1.0, 1.0, -1.0;
  const Eigen::MatrixXd points = PointsAtVertices(vertices, labels);
  const HessianCertificate free = RequireAgreement(FullBatch(3, labels), Flatten(points), SphereBlocks(6, 3, 1.0), 3);
  REQUIRE(free.expected_flat == 2);
  REQUIRE(free.min_eigenvalue < -free.zero_tolerance);
  REQUIRE(free.num_negative > 0);
  REQUIRE_FALSE(free.strict_local_minimum_up_to_rotation);
  REQUIRE_THAT(free.message, Catch::Contains("not a local minimum (a direction of negative curvature)"));
}

// CE over z = [vec(Z); vec(W^T)]: points in balls of radius rho, the classifier's rows in balls of radius r.
struct CrossEntropyCase {
  CrossEntropyPointObjective objective;
  Eigen::VectorXd z;
  std::vector<Block> blocks;
};

CrossEntropyCase CrossEntropyAtSimplex(int num_classes, int per_class, int dim, double weight_sign) {
  const double rho = 1.5;
  const double r = 1.2;
  const Eigen::VectorXi labels = BalancedLabels(num_classes, per_class);
  const Eigen::MatrixXd simplex = theory::RegularSimplex(num_classes, dim, rho, 21);
  const Eigen::MatrixXd points = PointsAtVertices(simplex, labels);
  const int n = static_cast<int>(labels.size());
  Eigen::VectorXd z(dim * (n + num_classes));
  z.head(dim * n) = Flatten(points);
  z.tail(dim * num_classes) = Flatten(weight_sign * (r / rho) * simplex);
  std::vector<Block> blocks = SphereBlocks(n, dim, rho, BlockKind::kBall);
  for (int k = 0; k < num_classes; ++k) blocks.push_back(Block{dim * (n + k), dim, r, BlockKind::kBall});
  return {CrossEntropyPointObjective(dim, num_classes, labels), z, blocks};
}

TEST_CASE("CertifyLocalMinimumMatrixFree: CE with its classifier at the simplex agrees with the dense certificate",
          "[certificate]") {
  for (const auto& [k, n, h] : std::vector<std::array<int, 3>>{{3, 2, 2}, {3, 2, 4}, {4, 3, 3}}) {
    CAPTURE(k, n, h);
    const CrossEntropyCase c = CrossEntropyAtSimplex(k, n, h, 1.0);
    const HessianCertificate free = RequireAgreement(c.objective, c.z, c.blocks, h);
    REQUIRE(free.min_multiplier > 0.0);
    REQUIRE(free.min_eigenvalue > 0.0);
  }
}

TEST_CASE("CertifyLocalMinimumMatrixFree: CE with the classifier reversed is not a minimum, as the dense one says",
          "[certificate]") {
  const CrossEntropyCase c = CrossEntropyAtSimplex(3, 2, 2, -1.0);
  const HessianCertificate free = RequireAgreement(c.objective, c.z, c.blocks, 2);
  REQUIRE_FALSE(free.strict_local_minimum_up_to_rotation);
  REQUIRE_THAT(free.message, Catch::Contains("not a local minimum"));
}

TEST_CASE("CertifyLocalMinimumMatrixFree: the callback reports each iteration and stops the certificate",
          "[certificate]") {
  const Eigen::VectorXi labels = BalancedLabels(5, 3);
  const Eigen::MatrixXd points = PointsAtVertices(theory::RegularSimplex(5, 4, 1.0, 2), labels);
  MatrixFreeCertificateOptions options;
  options.dim = 4;
  std::vector<MatrixFreeCertificateProgress> seen;
  options.callback = [&](const MatrixFreeCertificateProgress& progress) {
    seen.push_back(progress);
    return progress.iteration == 2;
  };
  const HessianCertificate stopped =
      CertifyLocalMinimumMatrixFree(FullBatch(4, labels), Flatten(points), SphereBlocks(15, 4, 1.0), options);
  REQUIRE_FALSE(stopped.computed);
  REQUIRE_FALSE(stopped.strict_local_minimum_up_to_rotation);
  REQUIRE(stopped.message == "not computed: stopped");
  REQUIRE(seen.size() == 2);
  REQUIRE(seen[0].iteration == 1);
  // The orbit probes come first, then one product per iteration.
  REQUIRE(seen[0].hessian_vector_products == options.orbit_probes + 1);
  REQUIRE(seen[1].hessian_vector_products == options.orbit_probes + 2);
  REQUIRE(seen[1].extremes.lowest <= seen[1].extremes.highest);
  REQUIRE(std::isfinite(seen[1].extremes.lowest_residual));
  REQUIRE(seen[1].seconds >= seen[0].seconds);
}

TEST_CASE("CertifyLocalMinimumMatrixFree: a point off its sphere is not computed, bad input throws", "[certificate]") {
  const Eigen::VectorXi labels = BalancedLabels(3, 2);
  Eigen::MatrixXd points = PointsAtVertices(theory::RegularSimplex(3, 2, 1.0), labels);
  points.col(4) *= 1.01;
  MatrixFreeCertificateOptions options;
  options.dim = 2;
  const HessianCertificate off =
      CertifyLocalMinimumMatrixFree(FullBatch(2, labels), Flatten(points), SphereBlocks(6, 2, 1.0), options);
  REQUIRE_FALSE(off.computed);
  REQUIRE_THAT(off.message, Catch::StartsWith("not computed: a block at offset 8 has norm 1.0"));

  options.dim = 5;
  REQUIRE_THROWS_MATCHES(
      CertifyLocalMinimumMatrixFree(FullBatch(2, labels), Flatten(points), SphereBlocks(6, 2, 1.0), options),
      std::invalid_argument,
      Catch::Message(
          "CertifyLocalMinimumMatrixFree(): expected a point vector of a multiple of dim = 5 entries, got 12"));
  options.dim = 0;
  REQUIRE_THROWS_MATCHES(
      CertifyLocalMinimumMatrixFree(FullBatch(2, labels), Flatten(points), SphereBlocks(6, 2, 1.0), options),
      std::invalid_argument,
      Catch::Message("CertifyLocalMinimumMatrixFree(): expected dim (h) >= 1, got 0"));
  options.dim = 2;
  options.rank_tolerance = 1.0;
  REQUIRE_THROWS_MATCHES(
      CertifyLocalMinimumMatrixFree(FullBatch(2, labels), Flatten(points), SphereBlocks(6, 2, 1.0), options),
      std::invalid_argument,
      Catch::Message("CertifyLocalMinimumMatrixFree(): expected 0 < rank_tolerance < 1, got 1"));
}

TEST_CASE("Minimize: beyond max_certificate_dim the matrix-free certificate runs and agrees with the dense one",
          "[certificate]") {
  for (const LossKind loss : {LossKind::kSupCon, LossKind::kCrossEntropy}) {
    CAPTURE(theory::ToString(loss));
    MinimizeOptions options;
    options.loss = loss;
    options.num_classes = 3;
    options.per_class = 2;
    options.dim = 3;
    options.temperature = theory::Temperature::FromTemperature(0.5);
    const MinimizeResult dense = Minimize(options);
    int reports = 0;
    options.max_certificate_dim = 5;
    options.certificate_callback = [&](const MatrixFreeCertificateProgress&) { return ++reports < 0; };
    const MinimizeResult free = Minimize(options);
    CAPTURE(dense.certificate.message, free.certificate.message);
    REQUIRE(dense.certificate.method == CertificateMethod::kDense);
    REQUIRE(free.certificate.method == CertificateMethod::kMatrixFree);
    REQUIRE(free.certificate.computed);
    REQUIRE(reports == free.certificate.iterations);
    REQUIRE(free.certificate.expected_flat == dense.certificate.expected_flat);
    const double scale = dense.certificate.eigenvalues.cwiseAbs().maxCoeff();
    REQUIRE(free.min_hessian_eigenvalue == Approx(dense.min_hessian_eigenvalue).margin(kAgreement * scale));
    REQUIRE(free.certificate.max_eigenvalue == Approx(dense.certificate.max_eigenvalue).margin(kAgreement * scale));
    REQUIRE(free.certificate.strict_local_minimum_up_to_rotation);
    REQUIRE(dense.certificate.strict_local_minimum_up_to_rotation);
    REQUIRE(EstimateMinimizeBytes(options) > 0.0);
  }
}

TEST_CASE("MinimizeWithRestarts: a stop from on_certificate leaves the certificate not computed and ends the run",
          "[certificate]") {
  MinimizeOptions options;
  options.num_classes = 3;
  options.per_class = 2;
  options.dim = 3;
  options.max_certificate_dim = 5;
  RestartCallbacks callbacks;
  std::vector<int> restarts_seen;
  callbacks.on_certificate = [&](int restart, std::uint64_t, const MatrixFreeCertificateProgress&) {
    restarts_seen.push_back(restart);
    return true;
  };
  const RestartsResult run = MinimizeWithRestarts(options, 3, callbacks);
  REQUIRE(run.stopped);
  REQUIRE(run.losses.size() == 1);
  REQUIRE(restarts_seen == std::vector<int>{0});
  REQUIRE_FALSE(run.best.certificate.computed);
  REQUIRE(run.best.certificate.message == "not computed: stopped");
}

}  // namespace
}  // namespace dissect::optim
