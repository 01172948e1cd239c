#include "dissect/train/tensor_bridge.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace dissect::train {

Eigen::MatrixXd ToPoints(const torch::Tensor& rows) {
  if (!rows.defined() || rows.dim() != 2 || !rows.is_floating_point()) {
    throw std::invalid_argument("ToPoints(): expected a floating N x h tensor");
  }
  // A contiguous row-major N x h double tensor is, in memory, the column-major h x N matrix.
  const torch::Tensor host = rows.detach().to(torch::kCPU, torch::kDouble).contiguous();
  const Eigen::Index num_points = host.size(0), dim = host.size(1);
  Eigen::MatrixXd points = Eigen::Map<const Eigen::MatrixXd>(host.data_ptr<double>(), dim, num_points);
  for (Eigen::Index i = 0; i < num_points; ++i) {
    for (Eigen::Index d = 0; d < dim; ++d) {
      if (!std::isfinite(points(d, i))) {
        throw std::invalid_argument(fmt::format("ToPoints(): entry ({}, {}) is {}", i, d, points(d, i)));
      }
    }
  }
  return points;
}

template <typename Scalar>
Eigen::Map<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>> PointsView(const torch::Tensor& rows) {
  const torch::ScalarType dtype = std::is_same_v<Scalar, float> ? torch::kFloat : torch::kDouble;
  if (!rows.defined() || rows.dim() != 2 || rows.scalar_type() != dtype || !rows.device().is_cpu() ||
      !rows.is_contiguous()) {
    throw std::invalid_argument(
        fmt::format("PointsView(): expected a contiguous CPU {} N x h tensor", c10::toString(dtype)));
  }
  return {rows.data_ptr<Scalar>(), rows.size(1), rows.size(0)};
}

template Eigen::Map<const Eigen::MatrixXf> PointsView<float>(const torch::Tensor&);
template Eigen::Map<const Eigen::MatrixXd> PointsView<double>(const torch::Tensor&);

Eigen::VectorXi ToLabels(const torch::Tensor& labels) {
  if (!labels.defined() || labels.dim() != 1 || labels.is_floating_point() || labels.is_complex()) {
    throw std::invalid_argument("ToLabels(): expected a one-dimensional integer tensor");
  }
  const torch::Tensor host = labels.detach().to(torch::kCPU, torch::kLong).contiguous();
  const std::int64_t* data = host.data_ptr<std::int64_t>();
  Eigen::VectorXi result(host.size(0));
  for (Eigen::Index i = 0; i < result.size(); ++i) {
    if (data[i] < std::numeric_limits<int>::min() || data[i] > std::numeric_limits<int>::max()) {
      throw std::invalid_argument(fmt::format("ToLabels(): label {} at index {} does not fit an int", data[i], i));
    }
    result(i) = static_cast<int>(data[i]);
  }
  return result;
}

}  // namespace dissect::train
