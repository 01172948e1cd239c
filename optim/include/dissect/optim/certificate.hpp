#pragma once
// A second-order certificate at a returned configuration: the spectrum of the Riemannian Hessian on the product of
// the blocks' spheres, with the flat directions of the rotation symmetry accounted for (issue "Free-point
// minimization", Certificate).

#include <Eigen/Core>
#include <array>
#include <limits>
#include <string>
#include <vector>

#include "dissect/optim/block_parametrization.hpp"
#include "dissect/optim/objective.hpp"
#include "dissect/theory/enum_names.hpp"

namespace dissect::optim {

// How a certificate was computed.
enum class CertificateMethod {
  kNone,        // "none": not run
  kDense,       // "dense": the whole spectrum of a dense finite-difference Hessian (CertifyLocalMinimum)
  kMatrixFree,  // "matrix-free": the extremes by Lanczos on Hessian-vector products (matrix_free_certificate.hpp)
};
// The names of CertificateMethod, for ToString.
inline constexpr std::array<theory::EnumName<CertificateMethod>, 3> kCertificateMethodNames = {
    {{CertificateMethod::kNone, "none"},
     {CertificateMethod::kDense, "dense"},
     {CertificateMethod::kMatrixFree, "matrix-free"}}};
std::string ToString(CertificateMethod method);

struct HessianCertificate {
  bool computed = false;
  std::string message = "not run";
  CertificateMethod method = CertificateMethod::kNone;
  Eigen::Index tangent_dim = 0;    // sum over blocks of (size - 1)
  Eigen::Index expected_flat = 0;  // dimension of the rotation orbit: directions with eigenvalue 0 by symmetry
  Eigen::Index num_near_zero = 0;  // eigenvalues with |lambda| <= zero_tolerance
  Eigen::Index num_negative = 0;   // eigenvalues below -zero_tolerance
  double zero_tolerance = std::numeric_limits<double>::quiet_NaN();
  double min_eigenvalue = std::numeric_limits<double>::quiet_NaN();  // smallest beyond the expected_flat ones
  double max_abs_flat = std::numeric_limits<double>::quiet_NaN();    // largest |lambda| among the expected_flat
  // Ball blocks: the smallest Lagrange multiplier -<z, g>/rho of the norm constraint (> 0: the constraint is active
  // and holds the point on the boundary, as first-order optimality needs). NaN without ball blocks.
  double min_multiplier = std::numeric_limits<double>::quiet_NaN();
  // Dense: no negative eigenvalue, exactly expected_flat near-zero ones, all multipliers > 0. Matrix-free: the
  // smallest eigenvalue on the complement of the rotation orbit converged above zero_tolerance, all multipliers > 0.
  bool strict_local_minimum_up_to_rotation = false;
  // Dense: the whole spectrum. Matrix-free: the Ritz values of the final Krylov basis (its extremes converged).
  Eigen::VectorXd eigenvalues;                                       // ascending
  double max_eigenvalue = std::numeric_limits<double>::quiet_NaN();  // the largest eigenvalue
  // Matrix-free: ||H y - theta y|| of the smallest (on the complement of the orbit) and largest Ritz pairs. NaN
  // for dense (an exact eigensolver of the finite-difference matrix).
  double min_eigenvalue_residual = std::numeric_limits<double>::quiet_NaN();
  double max_eigenvalue_residual = std::numeric_limits<double>::quiet_NaN();
  // Hessian-vector products (central differences of the gradient, two gradients each): dense, one per tangent
  // direction; matrix-free, the probes, the Lanczos iterations and the final residuals.
  Eigen::Index hessian_vector_products = 0;
  int iterations = 0;      // matrix-free: Lanczos iterations
  bool converged = false;  // matrix-free: the Lanczos residuals met their tolerance; dense: always when computed
  double tangential_gradient_norm = std::numeric_limits<double>::quiet_NaN();  // the Riemannian gradient at z
};

// The resolution of a finite-difference Riemannian Hessian: eigenvalues within it are not told apart from zero.
// max(1e-9 scale, 10 finite_difference_error, 10 tangential_gradient_norm / min_radius, 1e-14), with scale the
// largest |eigenvalue| and finite_difference_error what the symmetry says must be zero (the dense Hessian's
// asymmetry; |Hess v|/|v| along orbit directions). A point stationary only to within a tangential gradient g moves
// the rotations' zero eigenvalues by about |g| / rho.
double CertificateZeroTolerance(double scale,
                                double finite_difference_error,
                                double tangential_gradient_norm,
                                double min_radius);

// The Riemannian Hessian on the product of the blocks' spheres (ball blocks on their boundary), in the coordinates
// of an orthonormal tangent basis per block (the blocks' bases stacked in order).
struct RiemannianHessian {
  bool computed = false;
  std::string message = "not run";
  Eigen::Index tangent_dim = 0;
  Eigen::MatrixXd hessian;             // tangent_dim x tangent_dim, symmetrized
  double asymmetry = 0.0;              // max |H - H^T| before symmetrizing: the finite-difference error
  std::vector<Eigen::MatrixXd> bases;  // per block: size x (size - 1), orthonormal, orthogonal to z_b
  Eigen::VectorXd gradient;            // the ambient gradient at z
  Eigen::VectorXd tangent_gradient;    // its coordinates in the tangent bases (the Riemannian gradient)
  double min_multiplier = std::numeric_limits<double>::quiet_NaN();  // ball blocks: min -<z, g>/rho
};

// Builds it from central finite differences of the analytic gradient: Hess f[v] = P(grad^2 f v) - (<z_b, g_b>/
// rho_b^2) v per block. computed = false (with a message) beyond max_tangent_dim or for a block off its sphere.
RiemannianHessian ComputeRiemannianHessian(const Objective& points_objective,
                                           const Eigen::Ref<const Eigen::VectorXd>& z,
                                           const std::vector<Block>& blocks,
                                           Eigen::Index max_tangent_dim);

// dim so(h) - dim so(h - d): the dimension of the orbit of a configuration spanning a d-dimensional subspace of R^h
// under rotations. Throws std::invalid_argument unless 0 <= span_rank <= dim.
Eigen::Index RotationOrbitDimension(int dim, int span_rank);

// The dimension of the tangent space the certificate works in: each block loses the direction normal to its sphere.
Eigen::Index TangentDimension(const std::vector<Block>& blocks);

// The numerical rank of the columns of a matrix (singular values above tolerance * largest): from the eigenvalues of
// its smaller Gram matrix (GramSpanRank, rotation_orbit.hpp) for relative_tolerance >= 1e-6, where they resolve it,
// and from an SVD below that.
int SpanRank(const Eigen::Ref<const Eigen::MatrixXd>& columns, double relative_tolerance = 1e-8);

// Riemannian Hessian of `points_objective` (over the flat point vector z) at z, on the product of the spheres of
// radius block.radius (ball blocks must lie on their boundary). Built from central finite differences of the analytic
// gradient along an orthonormal tangent basis: Hess f[v] = P(grad^2 f v) - (<z_b, g_b>/rho_b^2) v per block.
// Returns computed = false with a message when the tangent dimension exceeds max_tangent_dim or a ball block lies
// inside its ball. Throws std::invalid_argument for blocks that do not tile z.
HessianCertificate CertifyLocalMinimum(const Objective& points_objective,
                                       const Eigen::Ref<const Eigen::VectorXd>& z,
                                       const std::vector<Block>& blocks,
                                       Eigen::Index expected_flat,
                                       Eigen::Index max_tangent_dim = 3000);

}  // namespace dissect::optim
