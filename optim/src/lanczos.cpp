#include "dissect/optim/lanczos.hpp"

#include <fmt/format.h>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <dissect/theory/check.hpp>
#include <vector>

namespace dissect::optim {
namespace {

constexpr const char* kFunction = "LanczosExtremeEigenpairs";
// Rows per block of the in-place restart V <- V S: a small temporary instead of a second basis.
constexpr Eigen::Index kRestartRows = 16384;

// V.leftCols(j) <- V.leftCols(j) * keep, in place, block of rows by block of rows.
void CombineInPlace(const Eigen::MatrixXd& keep, Eigen::MatrixXd* basis) {
  const Eigen::Index rows = basis->rows();
  const Eigen::Index j = keep.rows();
  const Eigen::Index k = keep.cols();
  for (Eigen::Index r = 0; r < rows; r += kRestartRows) {
    const Eigen::Index count = std::min(kRestartRows, rows - r);
    const Eigen::MatrixXd combined = basis->block(r, 0, count, j) * keep;
    basis->block(r, 0, count, k) = combined;
  }
}

bool WithinTolerance(double residual, double value, const LanczosOptions& options) {
  return residual <= std::max(options.absolute_tolerance, options.relative_tolerance * std::abs(value));
}

// ||A y - theta y|| for the unit Ritz vector y.
double Residual(const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& apply,
                const Eigen::VectorXd& vector,
                double value) {
  Eigen::VectorXd product = apply(vector);
  product -= value * vector;
  return product.norm();
}

}  // namespace

void LanczosOptions::Validate() const {
  theory::RequireAtLeast(kFunction, "basis_size", basis_size, 2);
  theory::RequireAtLeast(kFunction, "restart_size", restart_size, 1);
  if (restart_size >= basis_size) {
    theory::ThrowInvalidArgument(
        kFunction,
        fmt::format(
            "expected restart_size < basis_size, got restart_size {} and basis_size {}", restart_size, basis_size));
  }
  theory::RequireAtLeast(kFunction, "max_iterations", max_iterations, 1);
  if (!(relative_tolerance >= 0.0)) {
    theory::ThrowInvalidArgument(kFunction,
                                 fmt::format("expected relative_tolerance >= 0, got {}", relative_tolerance));
  }
  if (!(absolute_tolerance >= 0.0)) {
    theory::ThrowInvalidArgument(kFunction,
                                 fmt::format("expected absolute_tolerance >= 0, got {}", absolute_tolerance));
  }
}

LanczosResult LanczosExtremeEigenpairs(const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& apply,
                                       const Eigen::Ref<const Eigen::VectorXd>& start,
                                       Eigen::Index subspace_dim,
                                       const LanczosOptions& options) {
  options.Validate();
  theory::RequireAtLeast(kFunction, "subspace_dim", subspace_dim, Eigen::Index{1});
  const double start_norm = start.norm();
  if (!(start_norm > 0.0) || !std::isfinite(start_norm)) {
    theory::ThrowInvalidArgument(kFunction,
                                 fmt::format("expected a nonzero finite start vector, got norm {}", start_norm));
  }
  const Eigen::Index m = std::min<Eigen::Index>(options.basis_size, subspace_dim);
  const Eigen::Index keep = std::min<Eigen::Index>(options.restart_size, m - 1);
  const Eigen::Index keep_low = std::max<Eigen::Index>(1, (2 * keep + 2) / 3);
  const Eigen::Index keep_high = keep - keep_low;

  LanczosResult result;
  Eigen::MatrixXd basis(start.size(), m);
  Eigen::MatrixXd projected = Eigen::MatrixXd::Zero(m, m);  // V^T A V
  basis.col(0) = start / start_norm;
  Eigen::Index j = 1;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> ritz;
  LanczosProgress progress;
  while (true) {
    Eigen::VectorXd w = apply(basis.col(j - 1));
    ++result.iterations;
    // Full reorthogonalization, twice (DGKS): the finite-difference operator is symmetric only to its rounding, and
    // a basis that loses orthogonality produces spurious copies of the extremes.
    Eigen::VectorXd coefficients = basis.leftCols(j).transpose() * w;
    w.noalias() -= basis.leftCols(j) * coefficients;
    const Eigen::VectorXd correction = basis.leftCols(j).transpose() * w;
    w.noalias() -= basis.leftCols(j) * correction;
    coefficients += correction;
    projected.block(0, j - 1, j, 1) = coefficients;
    projected.block(j - 1, 0, 1, j) = coefficients.transpose();
    const double beta = w.norm();
    ritz.compute(projected.topLeftCorner(j, j));
    const Eigen::VectorXd& values = ritz.eigenvalues();
    progress.iteration = result.iterations;
    progress.basis_size = static_cast<int>(j);
    progress.restarts = result.restarts;
    RitzExtremes& extremes = progress.extremes;
    extremes.lowest = values[0];
    extremes.highest = values[j - 1];
    extremes.lowest_residual = beta * std::abs(ritz.eigenvectors()(j - 1, 0));
    extremes.highest_residual = beta * std::abs(ritz.eigenvectors()(j - 1, j - 1));
    if (options.callback && options.callback(progress)) {
      result.stopped = true;
      break;
    }
    const double scale = std::max(std::abs(extremes.lowest), std::abs(extremes.highest));
    const bool exhausted = j == subspace_dim || !(beta > 1e-14 * scale);
    result.converged = exhausted || (WithinTolerance(extremes.lowest_residual, extremes.lowest, options) &&
                                     WithinTolerance(extremes.highest_residual, extremes.highest, options));
    if (result.converged || result.iterations >= options.max_iterations) break;
    if (j == m) {
      // Thick restart: the Ritz vectors at both ends span the new basis, A V = V diag(theta) + w s^T, and the
      // next vector w/beta brings the arrow column s^T back into the projected matrix at the next product.
      std::vector<Eigen::Index> chosen;
      for (Eigen::Index i = 0; i < keep_low; ++i) chosen.push_back(i);
      for (Eigen::Index i = j - keep_high; i < j; ++i) chosen.push_back(i);
      Eigen::MatrixXd vectors(j, static_cast<Eigen::Index>(chosen.size()));
      projected.setZero();
      for (std::size_t c = 0; c < chosen.size(); ++c) {
        vectors.col(static_cast<Eigen::Index>(c)) = ritz.eigenvectors().col(chosen[c]);
        projected(static_cast<Eigen::Index>(c), static_cast<Eigen::Index>(c)) = values[chosen[c]];
      }
      CombineInPlace(vectors, &basis);
      j = static_cast<Eigen::Index>(chosen.size());
      ++result.restarts;
    }
    basis.col(j) = w / beta;
    ++j;
  }
  result.ritz_values = ritz.eigenvalues();
  result.extremes = progress.extremes;
  if (result.stopped) {
    result.message = fmt::format("stopped after {} iterations", result.iterations);
    return result;
  }
  const Eigen::Index last = j - 1;
  Eigen::VectorXd highest_vector = basis.leftCols(j) * ritz.eigenvectors().col(last);
  result.extremes.highest_residual = Residual(apply, highest_vector, result.extremes.highest);
  highest_vector.resize(0);
  result.lowest_vector = basis.leftCols(j) * ritz.eigenvectors().col(0);
  basis.resize(0, 0);
  result.extremes.lowest_residual = Residual(apply, result.lowest_vector, result.extremes.lowest);
  result.message =
      result.converged
          ? fmt::format("converged after {} iterations ({} restarts)", result.iterations, result.restarts)
          : fmt::format("not converged after {} iterations ({} restarts)", result.iterations, result.restarts);
  return result;
}

}  // namespace dissect::optim
