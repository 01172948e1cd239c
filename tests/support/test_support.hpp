#pragma once
// Shared helpers of the dissect test suites (docs/development.md, Tests): named tolerances, seeded random data, a
// central finite-difference gradient check, an exception-message matcher and a scratch directory.

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "catch.hpp"
#include "dissect/theory/regular_simplex.hpp"

namespace dissect::test {

// Tolerances, from strict to loose. Each names the kind of comparison it is meant for.
// Two evaluations of one closed form that differ only in the order of a few roundings (values of order 1).
inline constexpr double kRoundingTolerance = 1e-14;
// Two routes to the same number that round differently (log space against direct sums, rotated inputs).
inline constexpr double kTightTolerance = 1e-12;
// Known answers of docs/theory.md that are printed with 7 significant digits.
inline constexpr double kSevenDigitTolerance = 5e-8;
// Step of the central finite differences, relative to max(1, |x_i|): truncation error O(step^2) and rounding
// error O(eps / step) are then both near 1e-10 for values and gradients of order 1.
inline constexpr double kFiniteDifferenceStep = 1e-5;
// Largest accepted error of an analytic gradient against central finite differences (MaxGradientError).
inline constexpr double kGradientTolerance = 1e-6;

// Relative error |got - expected| / |expected| (absolute when expected == 0).
inline double RelativeError(double got, double expected) {
  const double difference = std::abs(got - expected);
  return expected == 0.0 ? difference : difference / std::abs(expected);
}

// The bits of a double, for the few tests whose claim is "bit-identical".
inline std::uint64_t BitPattern(double value) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

// True when both matrices have the same shape and bit-identical entries.
inline bool SameBits(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  return a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}

// A dim x num_points matrix of independent N(0, stddev^2) entries, reproducible from the seed.
inline Eigen::MatrixXd RandomGaussianPoints(int dim, int num_points, std::uint64_t seed, double stddev = 1.0) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal(0.0, stddev);
  Eigen::MatrixXd points(dim, num_points);
  for (Eigen::Index i = 0; i < points.size(); ++i) points.data()[i] = normal(engine);
  return points;
}

// num_points points drawn uniformly on the sphere of radius `radius` in R^dim (normalized Gaussians).
inline Eigen::MatrixXd RandomSpherePoints(int dim, int num_points, double radius, std::uint64_t seed) {
  Eigen::MatrixXd points = RandomGaussianPoints(dim, num_points, seed);
  for (Eigen::Index i = 0; i < points.cols(); ++i) points.col(i) *= radius / points.col(i).norm();
  return points;
}

// num_points labels drawn uniformly from [0, num_classes), reproducible from the seed.
inline Eigen::VectorXi RandomLabels(int num_points, int num_classes, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_int_distribution<int> uniform(0, num_classes - 1);
  Eigen::VectorXi labels(num_points);
  for (Eigen::Index i = 0; i < labels.size(); ++i) labels[i] = uniform(engine);
  return labels;
}

// Balanced labels 0, 1, ..., K-1, 0, 1, ... (K * per_class entries).
inline Eigen::VectorXi BalancedLabels(int num_classes, int per_class) {
  Eigen::VectorXi labels(num_classes * per_class);
  for (Eigen::Index i = 0; i < labels.size(); ++i) labels[i] = static_cast<int>(i % num_classes);
  return labels;
}

// A dim x dim Haar-random orthogonal matrix; theory's RandomRotation, which its own tests check for orthogonality.
inline Eigen::MatrixXd RandomRotation(int dim, std::uint64_t seed) { return theory::RandomRotation(dim, seed); }

// The columns of `vertices` (dim x K) picked by `labels`: the point set that collapses each class onto its vertex.
inline Eigen::MatrixXd PointsAtVertices(const Eigen::MatrixXd& vertices, const Eigen::VectorXi& labels) {
  Eigen::MatrixXd points(vertices.rows(), labels.size());
  for (Eigen::Index i = 0; i < labels.size(); ++i) points.col(i) = vertices.col(labels[i]);
  return points;
}

// Central finite differences of f at x, entry by entry, with step kFiniteDifferenceStep * max(1, |x_i|).
inline Eigen::MatrixXd FiniteDifferenceGradient(const std::function<double(const Eigen::MatrixXd&)>& f,
                                                const Eigen::MatrixXd& x,
                                                double relative_step = kFiniteDifferenceStep) {
  Eigen::MatrixXd gradient(x.rows(), x.cols());
  Eigen::MatrixXd shifted = x;
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double step = relative_step * std::max(1.0, std::abs(x.data()[i]));
    shifted.data()[i] = x.data()[i] + step;
    const double forward = f(shifted);
    shifted.data()[i] = x.data()[i] - step;
    const double backward = f(shifted);
    shifted.data()[i] = x.data()[i];
    gradient.data()[i] = (forward - backward) / (2.0 * step);
  }
  return gradient;
}

// The error of an analytic gradient against central finite differences of f at x:
//   max_i |fd_i - analytic_i| / max(1, max_j |analytic_j|),
// relative to the largest gradient entry (absolute where the gradient is below 1, e.g. a zero gradient).
// Returns +inf when the shapes differ or any entry is not finite.
inline double MaxGradientError(const std::function<double(const Eigen::MatrixXd&)>& f,
                               const Eigen::MatrixXd& x,
                               const Eigen::MatrixXd& analytic,
                               double relative_step = kFiniteDifferenceStep) {
  if (analytic.rows() != x.rows() || analytic.cols() != x.cols()) return std::numeric_limits<double>::infinity();
  const Eigen::MatrixXd numeric = FiniteDifferenceGradient(f, x, relative_step);
  if (!numeric.allFinite() || !analytic.allFinite()) return std::numeric_limits<double>::infinity();
  if (analytic.size() == 0) return 0.0;
  const double scale = std::max(1.0, analytic.cwiseAbs().maxCoeff());
  return (numeric - analytic).cwiseAbs().maxCoeff() / scale;
}

// The column-major flattening of a point matrix: the parameter vector optimizers see (docs/development.md, one layout).
inline Eigen::VectorXd Flatten(const Eigen::MatrixXd& matrix) {
  return Eigen::Map<const Eigen::VectorXd>(matrix.data(), matrix.size());
}

// MaxGradientError for a function of a flat parameter vector (an optimizer's view of a point set, docs/development.md).
inline double MaxVectorGradientError(const std::function<double(const Eigen::VectorXd&)>& f,
                                     const Eigen::VectorXd& x,
                                     const Eigen::VectorXd& analytic,
                                     double relative_step = kFiniteDifferenceStep) {
  const auto of_column = [&](const Eigen::MatrixXd& column) { return f(Eigen::VectorXd(column.col(0))); };
  return MaxGradientError(of_column, Eigen::MatrixXd(x), Eigen::MatrixXd(analytic), relative_step);
}

// Matches an exception whose what() contains `fragment`. With REQUIRE_THROWS_MATCHES(expr, Type, matcher) one
// assertion checks both the exception type and its message.
class MessageContains : public Catch::MatcherBase<std::exception> {
 public:
  explicit MessageContains(std::string fragment) : fragment_(std::move(fragment)) {}
  bool match(const std::exception& error) const override {
    return std::string(error.what()).find(fragment_) != std::string::npos;
  }
  std::string describe() const override { return "has a message that contains \"" + fragment_ + "\""; }

 private:
  std::string fragment_;
};

// A fresh directory under std::filesystem::temp_directory_path(), removed with its content on destruction.
class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    std::random_device random;
    const std::filesystem::path base = std::filesystem::temp_directory_path();
    for (int attempt = 0; attempt < 100; ++attempt) {
      const std::filesystem::path candidate =
          base / ("dissect-test-" + std::to_string(random()) + "-" + std::to_string(random()));
      if (std::filesystem::create_directory(candidate)) {
        path_ = candidate;
        return;
      }
    }
    throw std::runtime_error("TemporaryDirectory(): cannot create a directory under " + base.string());
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace dissect::test
