#include "dissect/optim/certificate.hpp"

#include <fmt/format.h>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <dissect/theory/check.hpp>
#include <initializer_list>

#include "dissect/optim/riemannian_hessian_operator.hpp"
#include "dissect/optim/rotation_orbit.hpp"

namespace dissect::optim {

std::string ToString(CertificateMethod method) { return theory::NameOf(kCertificateMethodNames, method); }

double CertificateZeroTolerance(double scale,
                                double finite_difference_error,
                                double tangential_gradient_norm,
                                double min_radius) {
  return std::max({1e-9 * scale, 10.0 * finite_difference_error, 10.0 * tangential_gradient_norm / min_radius, 1e-14});
}

Eigen::Index RotationOrbitDimension(int dim, int span_rank) {
  if (dim < 1 || span_rank < 0 || span_rank > dim) {
    theory::ThrowInvalidArgument(
        "RotationOrbitDimension",
        fmt::format("expected 0 <= span_rank <= dim, got span_rank {} and dim {}", span_rank, dim));
  }
  const Eigen::Index h = dim;
  const Eigen::Index rest = dim - span_rank;
  return h * (h - 1) / 2 - rest * (rest - 1) / 2;
}

int SpanRank(const Eigen::Ref<const Eigen::MatrixXd>& columns, double relative_tolerance) {
  if (columns.size() == 0) return 0;
  // The Gram matrix squares the singular values, so its rounding (eps * sigma_max^2) hides those below about
  // sqrt(eps) * sigma_max: below 1e-6 the SVD decides.
  if (relative_tolerance >= 1e-6) return GramSpanRank(columns, relative_tolerance);
  const Eigen::BDCSVD<Eigen::MatrixXd> svd(columns);
  const auto& singular = svd.singularValues();
  if (singular.size() == 0 || singular[0] == 0.0) return 0;
  int rank = 0;
  for (Eigen::Index i = 0; i < singular.size(); ++i) rank += singular[i] > relative_tolerance * singular[0];
  return rank;
}

Eigen::Index TangentDimension(const std::vector<Block>& blocks) {
  Eigen::Index dim = 0;
  for (const Block& block : blocks) dim += block.size - 1;
  return dim;
}

RiemannianHessian ComputeRiemannianHessian(const Objective& points_objective,
                                           const Eigen::Ref<const Eigen::VectorXd>& z,
                                           const std::vector<Block>& blocks,
                                           Eigen::Index max_tangent_dim) {
  ValidateBlocks(blocks, z.size());
  RiemannianHessian result;
  result.tangent_dim = TangentDimension(blocks);
  if (result.tangent_dim > max_tangent_dim) {
    result.message =
        fmt::format("not computed: tangent dimension {} exceeds the limit {}", result.tangent_dim, max_tangent_dim);
    return result;
  }
  const RiemannianHessianOperator riemannian(points_objective, z, blocks);
  result.gradient = riemannian.gradient();
  if (!riemannian.on_spheres()) {
    result.message = "not computed: " + riemannian.message();
    return result;
  }
  // Per block: an orthonormal basis of the tangent space (the complement of z_b); the Weingarten coefficients and
  // multipliers are the operator's.
  const std::vector<double>& curvature = riemannian.curvature();
  result.min_multiplier = riemannian.min_multiplier();
  for (const Block& block : blocks) {
    const Eigen::HouseholderQR<Eigen::MatrixXd> qr{Eigen::MatrixXd(z.segment(block.offset, block.size))};
    const Eigen::MatrixXd q = qr.householderQ();
    result.bases.push_back(q.rightCols(block.size - 1));
  }

  const Eigen::Index t = result.tangent_dim;
  result.tangent_gradient.resize(t);
  Eigen::Index row = 0;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    result.tangent_gradient.segment(row, blocks[b].size - 1) =
        result.bases[b].transpose() * result.gradient.segment(blocks[b].offset, blocks[b].size);
    row += blocks[b].size - 1;
  }
  Eigen::MatrixXd hessian(t, t);
  Eigen::VectorXd plus_gradient, minus_gradient;
  Eigen::VectorXd shifted = z;
  Eigen::Index column = 0;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const Block& block = blocks[b];
    const double step = 1e-5 * block.radius;
    for (Eigen::Index j = 0; j < block.size - 1; ++j, ++column) {
      const Eigen::VectorXd direction = result.bases[b].col(j);
      shifted.segment(block.offset, block.size) = z.segment(block.offset, block.size) + step * direction;
      points_objective.Evaluate(shifted, &plus_gradient);
      shifted.segment(block.offset, block.size) = z.segment(block.offset, block.size) - step * direction;
      points_objective.Evaluate(shifted, &minus_gradient);
      shifted.segment(block.offset, block.size) = z.segment(block.offset, block.size);
      const Eigen::VectorXd hessian_times_direction = (plus_gradient - minus_gradient) / (2.0 * step);
      Eigen::Index out = 0;
      for (std::size_t c = 0; c < blocks.size(); ++c) {
        const Block& other = blocks[c];
        hessian.block(out, column, other.size - 1, 1) =
            result.bases[c].transpose() * hessian_times_direction.segment(other.offset, other.size);
        out += other.size - 1;
      }
      hessian(column, column) -= curvature[b];
    }
  }
  result.asymmetry = t > 0 ? (hessian - hessian.transpose()).cwiseAbs().maxCoeff() : 0.0;
  result.hessian = 0.5 * (hessian + hessian.transpose());
  result.computed = true;
  result.message = "computed";
  return result;
}

HessianCertificate CertifyLocalMinimum(const Objective& points_objective,
                                       const Eigen::Ref<const Eigen::VectorXd>& z,
                                       const std::vector<Block>& blocks,
                                       Eigen::Index expected_flat,
                                       Eigen::Index max_tangent_dim) {
  HessianCertificate certificate;
  certificate.method = CertificateMethod::kDense;
  certificate.expected_flat = expected_flat;
  const RiemannianHessian riemannian = ComputeRiemannianHessian(points_objective, z, blocks, max_tangent_dim);
  certificate.tangent_dim = riemannian.tangent_dim;
  if (!riemannian.computed) {
    certificate.message = riemannian.message;
    return certificate;
  }
  const Eigen::VectorXd& gradient = riemannian.gradient;
  const bool has_ball = std::isfinite(riemannian.min_multiplier);
  const double min_multiplier = riemannian.min_multiplier;
  const Eigen::Index t = certificate.tangent_dim;
  if (t == 0) {
    // Spheres of dimension 0 (h = 1): isolated points, nothing to certify beyond the multipliers.
    certificate.computed = true;
    certificate.eigenvalues.resize(0);
    if (has_ball) certificate.min_multiplier = min_multiplier;
    certificate.strict_local_minimum_up_to_rotation = false;  // no claim: the optimizer cannot move on S^0
    certificate.message = "0 tangent directions (h = 1: each point is one of two antipodes): nothing to certify";
    return certificate;
  }
  const Eigen::MatrixXd& symmetric = riemannian.hessian;
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(symmetric, Eigen::EigenvaluesOnly);
  certificate.eigenvalues = solver.eigenvalues();
  const double scale = certificate.eigenvalues.cwiseAbs().maxCoeff();
  // The exact Hessian is symmetric, so the asymmetry of the finite-difference one measures its error; eigenvalues
  // within a few times that (or 1e-9 of the largest) are not told apart from zero.
  // A point that is stationary only to within a tangential gradient g moves the rotations' zero eigenvalues by
  // about |g| / rho, so that is part of the resolution too.
  double min_radius = std::numeric_limits<double>::infinity();
  for (const Block& block : blocks) min_radius = std::min(min_radius, block.radius);
  certificate.tangential_gradient_norm = TangentialGradientNorm(blocks, z, gradient);
  certificate.zero_tolerance =
      CertificateZeroTolerance(scale, riemannian.asymmetry, certificate.tangential_gradient_norm, min_radius);
  certificate.max_eigenvalue = certificate.eigenvalues[t - 1];
  certificate.hessian_vector_products = t;
  certificate.converged = true;
  for (Eigen::Index i = 0; i < t; ++i) {
    const double lambda = certificate.eigenvalues[i];
    certificate.num_near_zero += std::abs(lambda) <= certificate.zero_tolerance;
    certificate.num_negative += lambda < -certificate.zero_tolerance;
  }
  // The expected_flat eigenvalues smallest in magnitude are the symmetry's; the rest must be positive.
  std::vector<double> by_magnitude(certificate.eigenvalues.data(), certificate.eigenvalues.data() + t);
  std::sort(by_magnitude.begin(), by_magnitude.end(), [](double a, double b) { return std::abs(a) < std::abs(b); });
  const Eigen::Index flat = std::min<Eigen::Index>(expected_flat, t);
  certificate.max_abs_flat = flat > 0 ? std::abs(by_magnitude[flat - 1]) : 0.0;
  certificate.min_eigenvalue = flat < t ? *std::min_element(by_magnitude.begin() + flat, by_magnitude.end())
                                        : std::numeric_limits<double>::quiet_NaN();
  if (has_ball) certificate.min_multiplier = min_multiplier;
  certificate.strict_local_minimum_up_to_rotation = certificate.num_negative == 0 &&
                                                    certificate.num_near_zero == expected_flat &&
                                                    (!has_ball || min_multiplier > 0.0);
  certificate.computed = true;
  std::string verdict;
  if (certificate.strict_local_minimum_up_to_rotation) {
    verdict = ": a strict local minimum up to rotation";
  } else if (certificate.num_negative == 0 && certificate.num_near_zero > expected_flat) {
    verdict = fmt::format(": no negative curvature, but {} directions are flatter than the resolution",
                          certificate.num_near_zero - expected_flat);
  }
  certificate.message = fmt::format(
      "{} tangent directions: {} negative, {} within {:.2g} of zero ({} expected from "
      "rotations){}",
      t,
      certificate.num_negative,
      certificate.num_near_zero,
      certificate.zero_tolerance,
      expected_flat,
      verdict);
  return certificate;
}

}  // namespace dissect::optim
