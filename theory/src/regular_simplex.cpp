#include "dissect/theory/regular_simplex.hpp"

#include <fmt/format.h>
#include <Eigen/QR>
#include <cmath>
#include <random>

#include "dissect/theory/check.hpp"

namespace dissect::theory {

Eigen::MatrixXd RegularSimplex(int num_classes, int dim, double radius, std::optional<std::uint64_t> seed) {
  constexpr const char* kFunction = "RegularSimplex";
  RequireAtLeast(kFunction, "num_classes (K)", num_classes, 2);
  RequirePositive(kFunction, "radius", radius);
  if (dim < num_classes - 1) {
    ThrowInvalidArgument(kFunction,
                         fmt::format("a regular simplex with K = {} vertices needs h >= K-1 = {}, got h = {}",
                                     num_classes,
                                     num_classes - 1,
                                     dim));
  }
  const int k = num_classes;
  // Helmert basis of the subspace orthogonal to (1,...,1): v_j = (1,...,1,-j,0,...)/sqrt(j(j+1)), j = 1..K-1.
  // The coordinates of e_k - 1/K in that basis are the k-th row of V, so zeta = rho sqrt(K/(K-1)) V^T.
  Eigen::MatrixXd vertices = Eigen::MatrixXd::Zero(dim, k);
  const double scale = radius * std::sqrt(static_cast<double>(k) / (k - 1));
  for (int j = 1; j < k; ++j) {
    const double norm = std::sqrt(static_cast<double>(j) * (j + 1));
    for (int i = 0; i < j; ++i) vertices(j - 1, i) = scale / norm;
    vertices(j - 1, j) = -scale * j / norm;
  }
  if (seed) vertices = RandomRotation(dim, *seed) * vertices;
  return vertices;
}

Eigen::MatrixXd RandomRotation(int dim, std::uint64_t seed) {
  RequireAtLeast("RandomRotation", "dim", dim, 1);
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::MatrixXd gaussian(dim, dim);
  for (Eigen::Index i = 0; i < gaussian.size(); ++i) gaussian.data()[i] = normal(engine);
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(gaussian);
  Eigen::MatrixXd q = qr.householderQ();
  // Multiplying column j by sign(R_jj) makes the distribution Haar (Mezzadri 2007).
  const Eigen::MatrixXd& r = qr.matrixQR();
  for (int j = 0; j < dim; ++j) {
    if (r(j, j) < 0) q.col(j) = -q.col(j);
  }
  return q;
}

Eigen::MatrixXd SimplexGram(int num_classes, double radius) {
  RequireAtLeast("SimplexGram", "num_classes (K)", num_classes, 2);
  RequirePositive("SimplexGram", "radius", radius);
  const double rho2 = radius * radius;
  Eigen::MatrixXd gram = Eigen::MatrixXd::Constant(num_classes, num_classes, -rho2 / (num_classes - 1));
  gram.diagonal().setConstant(rho2);
  return gram;
}

double SimplexCosine(int num_classes) {
  RequireAtLeast("SimplexCosine", "num_classes (K)", num_classes, 2);
  return -1.0 / (num_classes - 1);
}

}  // namespace dissect::theory
