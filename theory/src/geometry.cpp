#include "dissect/theory/geometry.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <limits>

#include "dissect/theory/check.hpp"
#include "dissect/theory/regular_simplex.hpp"

namespace dissect::theory {
namespace {

void RequireLabelledPoints(std::string_view function,
                           const Eigen::Ref<const Eigen::MatrixXd>& points,
                           const Eigen::Ref<const Eigen::VectorXi>& labels,
                           int num_classes) {
  RequireAtLeast(function, "num_classes (K)", num_classes, 1);
  RequireAtLeast(function, "number of points (N)", points.cols(), 1);
  RequireFinite(function, "points", points);
  RequireLabels(function, labels, points.cols(), num_classes);
}

}  // namespace

ClassMeans ComputeClassMeans(const Eigen::Ref<const Eigen::MatrixXd>& points,
                             const Eigen::Ref<const Eigen::VectorXi>& labels,
                             int num_classes) {
  RequireLabelledPoints("ComputeClassMeans", points, labels, num_classes);
  ClassMeans result;
  result.means = Eigen::MatrixXd::Zero(points.rows(), num_classes);
  result.counts = Eigen::VectorXi::Zero(num_classes);
  for (Eigen::Index i = 0; i < points.cols(); ++i) {
    result.means.col(labels[i]) += points.col(i);
    ++result.counts[labels[i]];
  }
  for (int k = 0; k < num_classes; ++k) {
    if (result.counts[k] == 0) {
      result.means.col(k).setConstant(std::numeric_limits<double>::quiet_NaN());
    } else {
      result.means.col(k) /= result.counts[k];
    }
  }
  return result;
}

double AngularSimilarity(const Eigen::Ref<const Eigen::VectorXd>& u, const Eigen::Ref<const Eigen::VectorXd>& v) {
  constexpr const char* kFunction = "AngularSimilarity";
  if (u.size() != v.size()) {
    ThrowInvalidArgument(kFunction, fmt::format("expected vectors of equal length, got {} and {}", u.size(), v.size()));
  }
  RequireFinite(kFunction, "u", u);
  RequireFinite(kFunction, "v", v);
  // stableNorm scales before squaring, so that 1e200 or 1e-170 entries neither overflow nor underflow.
  const double u_norm = u.stableNorm();
  const double v_norm = v.stableNorm();
  if (!(u_norm > 0.0) || !(v_norm > 0.0))
    ThrowInvalidArgument(kFunction, "expected non-zero vectors, got a zero vector");
  return AngularSimilarityFromCosine((u / u_norm).dot(v / v_norm));
}

double AngularSimilarityFromCosine(double cosine) { return 1.0 - std::acos(std::clamp(cosine, -1.0, 1.0)) / M_PI; }

double SimplexAngularSimilarity(int num_classes) { return AngularSimilarityFromCosine(SimplexCosine(num_classes)); }

double MaxGramErrorAgainstSimplex(const Eigen::Ref<const Eigen::MatrixXd>& means, double radius) {
  constexpr const char* kFunction = "MaxGramErrorAgainstSimplex";
  RequireAtLeast(kFunction, "number of class means (K)", means.cols(), 2);
  RequireFinite(kFunction, "class means", means);
  const Eigen::MatrixXd gram = means.transpose() * means;
  return (gram - SimplexGram(static_cast<int>(means.cols()), radius)).cwiseAbs().maxCoeff();
}

Eigen::VectorXd WithinClassSpread(const Eigen::Ref<const Eigen::MatrixXd>& points,
                                  const Eigen::Ref<const Eigen::VectorXi>& labels,
                                  int num_classes) {
  const ClassMeans class_means = ComputeClassMeans(points, labels, num_classes);
  Eigen::VectorXd sum_squares = Eigen::VectorXd::Zero(num_classes);
  for (Eigen::Index i = 0; i < points.cols(); ++i) {
    sum_squares[labels[i]] += (points.col(i) - class_means.means.col(labels[i])).squaredNorm();
  }
  Eigen::VectorXd spread(num_classes);
  for (int k = 0; k < num_classes; ++k) {
    spread[k] = class_means.counts[k] == 0 ? std::numeric_limits<double>::quiet_NaN()
                                           : std::sqrt(sum_squares[k] / class_means.counts[k]);
  }
  return spread;
}

std::vector<double> PairAngularSimilarities(const Eigen::Ref<const Eigen::MatrixXd>& columns) {
  std::vector<bool> usable(static_cast<std::size_t>(columns.cols()));
  for (Eigen::Index k = 0; k < columns.cols(); ++k) {
    usable[static_cast<std::size_t>(k)] = columns.col(k).allFinite() && columns.col(k).stableNorm() > 0.0;
  }
  std::vector<double> similarities;
  for (Eigen::Index k = 0; k < columns.cols(); ++k) {
    for (Eigen::Index l = k + 1; l < columns.cols(); ++l) {
      if (usable[static_cast<std::size_t>(k)] && usable[static_cast<std::size_t>(l)]) {
        similarities.push_back(AngularSimilarity(columns.col(k), columns.col(l)));
      }
    }
  }
  return similarities;
}

double RelativeSpread(const Eigen::Ref<const Eigen::VectorXd>& values) {
  if (values.size() == 0) return std::numeric_limits<double>::quiet_NaN();
  const double mean = values.mean();
  if (!(mean > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  return std::sqrt((values.array() - mean).square().mean()) / mean;
}

}  // namespace dissect::theory
