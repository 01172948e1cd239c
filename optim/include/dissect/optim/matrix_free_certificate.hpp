#pragma once
// The second-order certificate at sizes where the dense one cannot be held (issue 22): the smallest eigenvalue of
// the Riemannian Hessian on the complement of the rotation orbit, and the largest, by thick-restart Lanczos on
// Hessian-vector products, with the orbit deflated implicitly. At K = 1,000, n = 2, h = 1,024 the tangent space has
// 2,046,000 dimensions, its dense Hessian 33 TB. Paper: Certificate; docs/theory.md.

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "dissect/optim/block_parametrization.hpp"
#include "dissect/optim/certificate.hpp"
#include "dissect/optim/lanczos.hpp"
#include "dissect/optim/objective.hpp"

namespace dissect::optim {

// What the matrix-free certificate reports after each Lanczos iteration.
struct MatrixFreeCertificateProgress {
  int iteration = 0;                         // Lanczos iterations so far
  Eigen::Index hessian_vector_products = 0;  // so far, the orbit probes included
  // The smallest Ritz value on the orbit's complement and the largest, with their residual norms (Lanczos
  // relation).
  RitzExtremes extremes;
  double seconds = 0.0;  // since the certificate began
};

struct MatrixFreeCertificateOptions {
  // h: the rotations act on every dim-sized column of the flat point vector at once (z.size() a multiple of dim).
  int dim = 0;
  // The orbit's extent: directions of R^h where Z's singular values are below this times the largest are not
  // reached by Z (SpanRank's tolerance; Minimize uses 1e-5).
  double rank_tolerance = 1e-5;
  int orbit_probes = 3;      // random orbit directions Omega Z whose |Hess v| / |v| measures the resolution
  int basis_size = 24;       // Lanczos vectors kept: memory about basis_size + 8 vectors of z's length
  int restart_size = 10;     // Ritz vectors kept at a thick restart
  int max_iterations = 600;  // Lanczos iterations (Hessian-vector products) before giving up without a verdict
  // Converged when each extreme's residual is <= max(zero tolerance, relative_tolerance |eigenvalue|).
  double relative_tolerance = 1e-6;
  std::uint64_t seed = 0;  // the Lanczos start and the orbit probes
  // After each Lanczos iteration; true stops the certificate ("not computed: stopped").
  std::function<bool(const MatrixFreeCertificateProgress&)> callback;

  // Throws std::invalid_argument naming the first bad field ("CertifyLocalMinimumMatrixFree(): expected ...").
  void Validate() const;
};

// The certificate of CertifyLocalMinimum without a dense Hessian. Hess f[v] as RiemannianHessianOperator computes
// it; the Lanczos iterates are kept tangent and orthogonal to every rotation direction Omega Z
// (RotationOrbitProjection), so the smallest Ritz value is the smallest eigenvalue beyond the orbit's
// expected_flat = RotationOrbitDimension(dim, rank) zero ones. The resolution: |Hess v|/|v| on orbit_probes random
// orbit directions (zero by symmetry; max_abs_flat) and the tangential gradient, through CertificateZeroTolerance.
// strict_local_minimum_up_to_rotation: converged, smallest eigenvalue > zero_tolerance, every ball multiplier > 0;
// a Ritz value below -zero_tolerance proves a negative direction even unconverged. num_negative and num_near_zero
// count the final Ritz values (lower bounds; num_near_zero includes the orbit's). Returns computed = false with a
// message for a block off its sphere or a stop. Throws std::invalid_argument for blocks that do not tile z, a z
// whose length is not a multiple of options.dim, and what Validate() throws.
HessianCertificate CertifyLocalMinimumMatrixFree(const Objective& points_objective,
                                                 const Eigen::Ref<const Eigen::VectorXd>& z,
                                                 const std::vector<Block>& blocks,
                                                 const MatrixFreeCertificateOptions& options);

// About the peak memory of CertifyLocalMinimumMatrixFree beyond the objective's own, in bytes: the Lanczos basis
// and the working vectors of num_parameters doubles, and the orbit's dim x dim matrices.
double EstimateMatrixFreeCertificateBytes(const MatrixFreeCertificateOptions& options, Eigen::Index num_parameters);

}  // namespace dissect::optim
