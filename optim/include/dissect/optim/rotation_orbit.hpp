#pragma once
// The rotation orbit of a configuration, deflated without a basis: every objective of optim/ is invariant under
// z_i -> Q z_i applied to all dim-sized columns of the flat point vector at once (SC: the points; CE: the points and
// the rows of the classifier), so the directions Omega Z (Omega skew, Z the dim x M matrix of those columns) are flat
// by symmetry. At K = 1,000, h = 1,024 that orbit has 523,476 dimensions: it is projected out through the h x h
// matrix S = Z Z^T, never spanned. Paper: Certificate; docs/theory.md.

#include <Eigen/Core>

namespace dissect::optim {

// The orthogonal projection onto the complement of the orbit's tangent space {Omega Z : Omega^T = -Omega}.
// V - Omega Z with Omega minimizing ||V - Omega Z||_F over skew matrices solves Omega S + S Omega = V Z^T - Z V^T;
// in the eigenbasis of S (computed once) Omega~_ij = C~_ij / (s_i + s_j). Pairs where both s_i, s_j are below
// relative_tolerance^2 * max(s) (directions Z does not reach: singular values below relative_tolerance times the
// largest, as SpanRank) are left out, so the orbit has RotationOrbitDimension(dim, span_rank()) dimensions.
class RotationOrbitProjection {
 public:
  // columns: the dim x M matrix Z (M >= 1); relative_tolerance in (0, 1). Throws std::invalid_argument otherwise.
  explicit RotationOrbitProjection(const Eigen::Ref<const Eigen::MatrixXd>& columns, double relative_tolerance = 1e-5);

  int dim() const { return static_cast<int>(columns_.rows()); }
  Eigen::Index num_columns() const { return columns_.cols(); }
  // The numerical rank of Z: eigenvalues of S above relative_tolerance^2 * max(s).
  int span_rank() const { return span_rank_; }
  // The dimension of the orbit's tangent space: the pairs (i < j) kept.
  Eigen::Index orbit_dimension() const;

  // Replaces `flat_directions` (the column-major flattening of a dim x M matrix V) by its component orthogonal to
  // every Omega Z. Costs 4 dim^2 M + 8 dim^3 flops (DGEMM). Throws std::invalid_argument for a length other than
  // dim * M.
  void ProjectOut(Eigen::Ref<Eigen::VectorXd> flat_directions) const;

  // Omega Z for a dim x dim matrix omega (its skew part is used), flattened column-major: a direction of the orbit.
  // Throws std::invalid_argument for a matrix that is not dim x dim.
  Eigen::VectorXd OrbitDirection(const Eigen::Ref<const Eigen::MatrixXd>& omega) const;

 private:
  Eigen::MatrixXd columns_;       // Z
  Eigen::MatrixXd eigenvectors_;  // of S, columns
  Eigen::MatrixXd inverse_sums_;  // 1 / (s_i + s_j) for the kept pairs, 0 elsewhere
  int span_rank_ = 0;
};

// The numerical rank of Z from the eigenvalues of the dim x dim Gram matrix S = Z Z^T (or Z^T Z where M < dim):
// singular values sigma_i = sqrt(s_i) above relative_tolerance * sigma_max. A symmetric eigenproblem of the smaller
// side, not an SVD of Z (the SVD of 1,024 x 2,000 took 64 s). Sound where relative_tolerance^2 is well above the
// rounding of S (relative_tolerance >= 1e-6); SpanRank falls back to an SVD below that.
int GramSpanRank(const Eigen::Ref<const Eigen::MatrixXd>& columns, double relative_tolerance);

}  // namespace dissect::optim
