#include "dissect/optim/rotation_orbit.hpp"

#include <fmt/format.h>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <dissect/theory/check.hpp>
#include <dissect/theory/matrix_products.hpp>

namespace dissect::optim {
namespace {

constexpr const char* kFunction = "RotationOrbitProjection";

// The eigenvalues of the Gram matrix A A^T (ascending, negative rounding clamped to 0), and its eigenvectors where
// asked for.
Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> GramEigen(const Eigen::Ref<const Eigen::MatrixXd>& a,
                                                         bool with_vectors) {
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(a.rows(), a.rows());
  theory::AccumulateProductTransposedB(a, a, 1.0, gram);
  return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(
      gram, with_vectors ? Eigen::ComputeEigenvectors : Eigen::EigenvaluesOnly);
}

int CountAbove(const Eigen::VectorXd& eigenvalues, double threshold) {
  return static_cast<int>((eigenvalues.array() > threshold).count());
}

}  // namespace

int GramSpanRank(const Eigen::Ref<const Eigen::MatrixXd>& columns, double relative_tolerance) {
  if (columns.size() == 0) return 0;
  const Eigen::VectorXd eigenvalues = columns.cols() < columns.rows()
                                          ? GramEigen(columns.transpose(), false).eigenvalues()
                                          : GramEigen(columns, false).eigenvalues();
  const double largest = eigenvalues.maxCoeff();
  if (!(largest > 0.0)) return 0;
  return CountAbove(eigenvalues, relative_tolerance * relative_tolerance * largest);
}

RotationOrbitProjection::RotationOrbitProjection(const Eigen::Ref<const Eigen::MatrixXd>& columns,
                                                 double relative_tolerance)
    : columns_(columns) {
  if (columns.rows() < 1 || columns.cols() < 1) {
    theory::ThrowInvalidArgument(
        kFunction,
        fmt::format("expected a dim x M matrix with dim >= 1 and M >= 1, got {} x {}", columns.rows(), columns.cols()));
  }
  if (!(relative_tolerance > 0.0 && relative_tolerance < 1.0)) {
    theory::ThrowInvalidArgument(kFunction,
                                 fmt::format("expected 0 < relative_tolerance < 1, got {}", relative_tolerance));
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver = GramEigen(columns_, true);
  eigenvectors_ = solver.eigenvectors();
  const Eigen::VectorXd s = solver.eigenvalues().cwiseMax(0.0);
  const double threshold = relative_tolerance * relative_tolerance * s.maxCoeff();
  span_rank_ = s.maxCoeff() > 0.0 ? CountAbove(s, threshold) : 0;
  const Eigen::Index h = columns_.rows();
  inverse_sums_ = Eigen::MatrixXd::Zero(h, h);
  for (Eigen::Index j = 0; j < h; ++j) {
    for (Eigen::Index i = 0; i < h; ++i) {
      if (i != j && std::max(s[i], s[j]) > threshold && span_rank_ > 0) inverse_sums_(i, j) = 1.0 / (s[i] + s[j]);
    }
  }
}

Eigen::Index RotationOrbitProjection::orbit_dimension() const {
  const Eigen::Index h = dim();
  const Eigen::Index rest = h - span_rank_;
  return h * (h - 1) / 2 - rest * (rest - 1) / 2;
}

void RotationOrbitProjection::ProjectOut(Eigen::Ref<Eigen::VectorXd> flat_directions) const {
  const Eigen::Index h = dim();
  if (flat_directions.size() != columns_.size()) {
    theory::ThrowInvalidArgument(
        "RotationOrbitProjection::ProjectOut",
        fmt::format(
            "expected {} entries ({} x {}), got {}", columns_.size(), h, num_columns(), flat_directions.size()));
  }
  if (span_rank_ == 0) return;
  Eigen::Map<Eigen::MatrixXd> directions(flat_directions.data(), h, num_columns());
  // C = V Z^T - Z V^T, then Omega = U ((U^T C U) ./ (s_i + s_j)) U^T and V -= Omega Z, all through DGEMM.
  Eigen::MatrixXd product = Eigen::MatrixXd::Zero(h, h);
  theory::AccumulateProductTransposedB(directions, columns_, 1.0, product);
  const Eigen::MatrixXd skew = product - product.transpose();
  Eigen::MatrixXd rotated(h, h);
  theory::ProductTransposedA(eigenvectors_, skew, 1.0, rotated);
  product.setZero();
  theory::AccumulateProduct(rotated, eigenvectors_, 1.0, product);
  product = product.cwiseProduct(inverse_sums_);
  rotated.setZero();
  theory::AccumulateProduct(eigenvectors_, product, 1.0, rotated);
  product.setZero();
  theory::AccumulateProductTransposedB(rotated, eigenvectors_, 1.0, product);
  theory::AccumulateProduct(product, columns_, -1.0, directions);
}

Eigen::VectorXd RotationOrbitProjection::OrbitDirection(const Eigen::Ref<const Eigen::MatrixXd>& omega) const {
  const Eigen::Index h = dim();
  if (omega.rows() != h || omega.cols() != h) {
    theory::ThrowInvalidArgument(
        "RotationOrbitProjection::OrbitDirection",
        fmt::format("expected a {} x {} matrix, got {} x {}", h, h, omega.rows(), omega.cols()));
  }
  const Eigen::MatrixXd skew = 0.5 * (omega - omega.transpose());
  Eigen::VectorXd direction = Eigen::VectorXd::Zero(columns_.size());
  Eigen::Map<Eigen::MatrixXd> out(direction.data(), h, num_columns());
  theory::AccumulateProduct(skew, columns_, 1.0, out);
  return direction;
}

}  // namespace dissect::optim
