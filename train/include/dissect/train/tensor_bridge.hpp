#pragma once
// The one checked crossing from LibTorch tensors into theory/'s Eigen layout (docs/development.md: the columns of a dim
// x N matrix are the points).

#include <torch/torch.h>

#include <Eigen/Core>

namespace dissect::train {

// rows: N x h tensor (any floating dtype, any device) -> the h x N double matrix of its rows.
// Throws std::invalid_argument for another shape, a non-floating dtype or a non-finite entry (named by row, column).
Eigen::MatrixXd ToPoints(const torch::Tensor& rows);

// A view without copy of a contiguous CPU N x h tensor of Scalar (float or double) as the h x N matrix of its rows
// (the same memory: a row-major N x h array is the column-major h x N one). The tensor must outlive the view.
// Throws std::invalid_argument for another shape, device, dtype or a non-contiguous tensor. Entries are not checked.
template <typename Scalar>
Eigen::Map<const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>> PointsView(const torch::Tensor& rows);

// labels: N integer entries (any device) -> Eigen::VectorXi. Throws std::invalid_argument for another shape, a
// non-integer dtype or a value outside the int range.
Eigen::VectorXi ToLabels(const torch::Tensor& labels);

}  // namespace dissect::train
