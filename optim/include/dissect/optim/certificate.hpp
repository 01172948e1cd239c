#pragma once
// A second-order certificate at a returned configuration: the spectrum of the Riemannian Hessian on the product of
// the blocks' spheres, with the flat directions of the rotation symmetry accounted for (issue "Free-point
// minimization", Certificate).

#include <Eigen/Core>
#include <limits>
#include <string>
#include <vector>

#include "dissect/optim/block_parametrization.hpp"
#include "dissect/optim/objective.hpp"

namespace dissect::optim {

struct HessianCertificate {
  bool computed = false;
  std::string message = "not run";
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
  // No negative eigenvalue, exactly expected_flat near-zero ones, all multipliers > 0.
  bool strict_local_minimum_up_to_rotation = false;
  Eigen::VectorXd eigenvalues;  // ascending
};

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

// The numerical rank of the columns of a matrix (singular values above tolerance * largest).
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
