#include "dissect/optim/matrix_free_certificate.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <dissect/theory/check.hpp>
#include <random>

#include "dissect/optim/lanczos.hpp"
#include "dissect/optim/riemannian_hessian_operator.hpp"
#include "dissect/optim/rotation_orbit.hpp"

namespace dissect::optim {
namespace {

constexpr const char* kFunction = "CertifyLocalMinimumMatrixFree";

Eigen::VectorXd GaussianVector(Eigen::Index size, std::mt19937_64* engine) {
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::VectorXd v(size);
  for (Eigen::Index i = 0; i < size; ++i) v[i] = normal(*engine);
  return v;
}

// The largest |Hess v| / |v| over random orbit directions v = Omega Z: zero by the rotation symmetry, so what it
// measures is the finite-difference error and the distance from stationarity.
double OrbitResolution(const RiemannianHessianOperator& hessian,
                       const RotationOrbitProjection& orbit,
                       int probes,
                       std::mt19937_64* engine) {
  double worst = 0.0;
  const int h = orbit.dim();
  for (int p = 0; p < probes && orbit.orbit_dimension() > 0; ++p) {
    const Eigen::VectorXd omega = GaussianVector(static_cast<Eigen::Index>(h) * h, engine);
    Eigen::VectorXd direction = orbit.OrbitDirection(Eigen::Map<const Eigen::MatrixXd>(omega.data(), h, h));
    const double length = direction.norm();
    if (!(length > 0.0)) continue;
    direction /= length;
    worst = std::max(worst, hessian.Apply(direction).norm());
  }
  return worst;
}

std::string Verdict(const HessianCertificate& certificate, bool has_ball, int max_iterations) {
  const double tolerance = certificate.zero_tolerance;
  if (certificate.min_eigenvalue < -tolerance) return "not a local minimum (a direction of negative curvature)";
  if (!certificate.converged) return fmt::format("no verdict: not converged in {} iterations", max_iterations);
  if (has_ball && !(certificate.min_multiplier > 0.0)) return "not a local minimum (a ball multiplier <= 0)";
  if (certificate.strict_local_minimum_up_to_rotation) return "a strict local minimum up to rotation";
  return "no negative curvature, but a direction beyond the orbit is flatter than the resolution";
}

}  // namespace

void MatrixFreeCertificateOptions::Validate() const {
  theory::RequireAtLeast(kFunction, "dim (h)", dim, 1);
  if (!(rank_tolerance > 0.0 && rank_tolerance < 1.0)) {
    theory::ThrowInvalidArgument(kFunction, fmt::format("expected 0 < rank_tolerance < 1, got {}", rank_tolerance));
  }
  theory::RequireAtLeast(kFunction, "orbit_probes", orbit_probes, 0);
  LanczosOptions lanczos;
  lanczos.basis_size = basis_size;
  lanczos.restart_size = restart_size;
  lanczos.max_iterations = max_iterations;
  lanczos.relative_tolerance = relative_tolerance;
  lanczos.Validate();
}

double EstimateMatrixFreeCertificateBytes(const MatrixFreeCertificateOptions& options, Eigen::Index num_parameters) {
  // The basis, and besides it: z, its gradient, the Lanczos residual and column, and Apply's shifted point and two
  // gradients; the orbit's Z; the final Ritz vectors. S's eigenvectors, 1/(s_i + s_j) and the projection's four
  // h x h temporaries.
  const double vectors = options.basis_size + 9.0;
  const double h = options.dim;
  return (vectors * static_cast<double>(num_parameters) + 6.0 * h * h) * sizeof(double);
}

HessianCertificate CertifyLocalMinimumMatrixFree(const Objective& points_objective,
                                                 const Eigen::Ref<const Eigen::VectorXd>& z,
                                                 const std::vector<Block>& blocks,
                                                 const MatrixFreeCertificateOptions& options) {
  options.Validate();
  ValidateBlocks(blocks, z.size());
  if (z.size() % options.dim != 0) {
    theory::ThrowInvalidArgument(
        kFunction,
        fmt::format("expected a point vector of a multiple of dim = {} entries, got {}", options.dim, z.size()));
  }
  const auto started = std::chrono::steady_clock::now();
  const Eigen::Index t = TangentDimension(blocks);
  if (t == 0) {
    // h = 1: nothing to certify beyond the multipliers, as the dense certificate says.
    HessianCertificate certificate = CertifyLocalMinimum(points_objective, z, blocks, 0, 0);
    certificate.method = CertificateMethod::kMatrixFree;
    return certificate;
  }
  HessianCertificate certificate;
  certificate.method = CertificateMethod::kMatrixFree;
  certificate.tangent_dim = t;
  const RiemannianHessianOperator hessian(points_objective, z, blocks);
  if (!hessian.on_spheres()) {
    certificate.message = "not computed: " + hessian.message();
    return certificate;
  }
  certificate.min_multiplier = hessian.min_multiplier();
  certificate.tangential_gradient_norm = hessian.tangential_gradient_norm();
  const int h = options.dim;
  const RotationOrbitProjection orbit(Eigen::Map<const Eigen::MatrixXd>(z.data(), h, z.size() / h),
                                      options.rank_tolerance);
  certificate.expected_flat = orbit.orbit_dimension();
  const Eigen::Index complement = t - certificate.expected_flat;

  std::mt19937_64 engine(options.seed);
  certificate.max_abs_flat = OrbitResolution(hessian, orbit, options.orbit_probes, &engine);
  // Without the scale term, which needs the largest eigenvalue: the floor of the Lanczos residuals.
  const double floor = CertificateZeroTolerance(
      0.0, certificate.max_abs_flat, certificate.tangential_gradient_norm, hessian.min_radius());
  const bool has_ball = std::isfinite(certificate.min_multiplier);
  if (complement <= 0) {
    certificate.computed = true;
    certificate.converged = true;
    certificate.zero_tolerance = floor;
    certificate.num_near_zero = certificate.expected_flat;
    certificate.hessian_vector_products = hessian.num_products();
    certificate.strict_local_minimum_up_to_rotation = !has_ball || certificate.min_multiplier > 0.0;
    certificate.message = fmt::format("{} tangent directions, all of them the rotation orbit's", t);
    return certificate;
  }

  const auto apply = [&](const Eigen::VectorXd& v) {
    Eigen::VectorXd product = hessian.Apply(v);
    orbit.ProjectOut(product);
    return product;
  };
  Eigen::VectorXd start = GaussianVector(z.size(), &engine);
  hessian.ProjectToTangent(start);
  orbit.ProjectOut(start);
  LanczosOptions lanczos;
  lanczos.basis_size = options.basis_size;
  lanczos.restart_size = options.restart_size;
  lanczos.max_iterations = options.max_iterations;
  lanczos.relative_tolerance = options.relative_tolerance;
  lanczos.absolute_tolerance = floor;
  if (options.callback) {
    lanczos.callback = [&](const LanczosProgress& step) {
      MatrixFreeCertificateProgress progress;
      progress.iteration = step.iteration;
      progress.hessian_vector_products = hessian.num_products();
      progress.extremes = step.extremes;
      progress.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      return options.callback(progress);
    };
  }
  const LanczosResult extremes = LanczosExtremeEigenpairs(apply, start, complement, lanczos);
  start.resize(0);
  certificate.iterations = extremes.iterations;
  certificate.hessian_vector_products = hessian.num_products();
  const RitzExtremes& found = extremes.extremes;
  certificate.min_eigenvalue = found.lowest;
  certificate.max_eigenvalue = found.highest;
  certificate.min_eigenvalue_residual = found.lowest_residual;
  certificate.max_eigenvalue_residual = found.highest_residual;
  if (extremes.stopped) {
    certificate.message = "not computed: stopped";
    return certificate;
  }
  certificate.computed = true;
  certificate.converged = extremes.converged;
  certificate.eigenvalues = extremes.ritz_values;
  const double scale = std::max(std::abs(found.lowest), std::abs(found.highest));
  certificate.zero_tolerance = CertificateZeroTolerance(
      scale, certificate.max_abs_flat, certificate.tangential_gradient_norm, hessian.min_radius());
  const double tolerance = certificate.zero_tolerance;
  certificate.num_negative = (extremes.ritz_values.array() < -tolerance).count();
  certificate.num_near_zero = certificate.expected_flat + (extremes.ritz_values.array().abs() <= tolerance).count();
  certificate.strict_local_minimum_up_to_rotation = certificate.converged && certificate.min_eigenvalue > tolerance &&
                                                    (!has_ball || certificate.min_multiplier > 0.0);
  certificate.message = fmt::format(
      "{} tangent directions (rotation orbit of {} deflated): smallest eigenvalue {:.6g} (residual {:.2g}), "
      "largest {:.6g} (residual {:.2g}), zero tolerance {:.2g}, {} Hessian-vector products: {}",
      t,
      certificate.expected_flat,
      certificate.min_eigenvalue,
      certificate.min_eigenvalue_residual,
      certificate.max_eigenvalue,
      certificate.max_eigenvalue_residual,
      tolerance,
      certificate.hessian_vector_products,
      Verdict(certificate, has_ball, options.max_iterations));
  return certificate;
}

}  // namespace dissect::optim
