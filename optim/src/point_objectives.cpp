#include "dissect/optim/point_objectives.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <dissect/theory/check.hpp>
#include <dissect/theory/cross_entropy_loss.hpp>
#include <dissect/theory/supcon_loss.hpp>

namespace dissect::optim {
namespace {

using theory::ThrowInvalidArgument;

void RequireLength(std::string_view function, Eigen::Index expected, Eigen::Index got) {
  if (expected != got) {
    ThrowInvalidArgument(function, fmt::format("expected a parameter vector of length {}, got {}", expected, got));
  }
}

// The scale lives in the points' radius: logits are plain inner products (tau = 1).
theory::SupConOptions PlainSum() {
  theory::SupConOptions options;
  options.temperature = theory::Temperature::FromTemperature(1.0);
  options.reduction = theory::SupConReduction::kSum;
  return options;
}

}  // namespace

SupConPointObjective::SupConPointObjective(int dim,
                                           Eigen::VectorXi labels,
                                           std::vector<WeightedBatch> batches,
                                           SupConValue value)
    : dim_(dim), labels_(std::move(labels)), batches_(std::move(batches)), value_(value) {
  constexpr const char* kFunction = "SupConPointObjective";
  theory::RequireAtLeast(kFunction, "dim (h)", dim_, 1);
  theory::RequireAtLeast(kFunction, "number of points (N)", labels_.size(), 1);
  theory::RequireLabels(kFunction, labels_, labels_.size(), -1);
  theory::RequireAtLeast(kFunction, "number of batches", static_cast<long long>(batches_.size()), 1);
  const int n = static_cast<int>(labels_.size());
  for (std::size_t b = 0; b < batches_.size(); ++b) {
    if (batches_[b].indices.empty()) ThrowInvalidArgument(kFunction, fmt::format("batch {} is empty", b));
    for (int index : batches_[b].indices) {
      if (index < 0 || index >= n) {
        ThrowInvalidArgument(kFunction, fmt::format("batch {} has index {} outside [0, {})", b, index, n));
      }
    }
  }
  full_batch_ = batches_.size() == 1 && static_cast<int>(batches_[0].indices.size()) == n;
  for (int i = 0; full_batch_ && i < n; ++i) full_batch_ = batches_[0].indices[i] == i;
  // sum_i log P_i of each batch, from its label counts.
  std::vector<int> batch_labels;
  for (const WeightedBatch& batch : batches_) {
    batch_labels.clear();
    for (int index : batch.indices) batch_labels.push_back(labels_[index]);
    std::sort(batch_labels.begin(), batch_labels.end());
    double sum = 0.0;
    for (std::size_t first = 0; first < batch_labels.size();) {
      std::size_t last = first;
      while (last < batch_labels.size() && batch_labels[last] == batch_labels[first]) ++last;
      const double size = static_cast<double>(last - first);
      if (size >= 2.0) sum += size * std::log(size - 1.0);
      first = last;
    }
    collapse_value_ += batch.weight * sum;
  }
}

Eigen::Index SupConPointObjective::NumParameters() const { return static_cast<Eigen::Index>(dim_) * labels_.size(); }

double SupConPointObjective::Evaluate(const Eigen::Ref<const Eigen::VectorXd>& z, Eigen::VectorXd* gradient) const {
  RequireLength("SupConPointObjective::Evaluate", NumParameters(), z.size());
  const Eigen::Map<const Eigen::MatrixXd> points(z.data(), dim_, labels_.size());
  const theory::SupConOptions options = PlainSum();
  const bool with_gradient = gradient != nullptr;
  if (full_batch_) {
    theory::SupConResult result = theory::SupConLoss(points, labels_, options, with_gradient);
    if (with_gradient) {
      *gradient =
          Eigen::Map<const Eigen::VectorXd>(result.gradient.data(), result.gradient.size()) * batches_[0].weight;
    }
    return batches_[0].weight * (value_ == SupConValue::kExcess ? result.excess : result.value);
  }
  if (with_gradient) gradient->setZero(NumParameters());
  double total = 0.0;
  Eigen::MatrixXd batch_points(dim_, 0);
  Eigen::VectorXi batch_labels;
  for (const WeightedBatch& batch : batches_) {
    const Eigen::Index b = static_cast<Eigen::Index>(batch.indices.size());
    batch_points.resize(dim_, b);
    batch_labels.resize(b);
    for (Eigen::Index j = 0; j < b; ++j) {
      batch_points.col(j) = points.col(batch.indices[j]);
      batch_labels[j] = labels_[batch.indices[j]];
    }
    const theory::SupConResult result = theory::SupConLoss(batch_points, batch_labels, options, with_gradient);
    total += batch.weight * (value_ == SupConValue::kExcess ? result.excess : result.value);
    if (with_gradient) {
      Eigen::Map<Eigen::MatrixXd> gradient_points(gradient->data(), dim_, labels_.size());
      for (Eigen::Index j = 0; j < b; ++j)
        gradient_points.col(batch.indices[j]) += batch.weight * result.gradient.col(j);
    }
  }
  return total;
}

CrossEntropyPointObjective::CrossEntropyPointObjective(int dim, int num_classes, Eigen::VectorXi labels)
    : dim_(dim), num_classes_(num_classes), labels_(std::move(labels)) {
  constexpr const char* kFunction = "CrossEntropyPointObjective";
  theory::RequireAtLeast(kFunction, "dim (h)", dim_, 1);
  theory::RequireAtLeast(kFunction, "num_classes (K)", num_classes_, 2);
  theory::RequireAtLeast(kFunction, "number of points (N)", labels_.size(), 1);
  theory::RequireLabels(kFunction, labels_, labels_.size(), num_classes_);
}

Eigen::Index CrossEntropyPointObjective::NumParameters() const {
  return static_cast<Eigen::Index>(dim_) * (labels_.size() + num_classes_);
}

double CrossEntropyPointObjective::Evaluate(const Eigen::Ref<const Eigen::VectorXd>& z,
                                            Eigen::VectorXd* gradient) const {
  RequireLength("CrossEntropyPointObjective::Evaluate", NumParameters(), z.size());
  const Eigen::Index n = labels_.size();
  const Eigen::Map<const Eigen::MatrixXd> points(z.data(), dim_, n);
  const Eigen::Map<const Eigen::MatrixXd> weights_transposed(z.data() + dim_ * n, dim_, num_classes_);
  const Eigen::MatrixXd weights = weights_transposed.transpose();
  const theory::CrossEntropyResult result = theory::CrossEntropyLoss(points, labels_, weights, gradient != nullptr);
  if (gradient != nullptr) {
    gradient->resize(NumParameters());
    Eigen::Map<Eigen::MatrixXd>(gradient->data(), dim_, n) = result.points_gradient;
    Eigen::Map<Eigen::MatrixXd>(gradient->data() + dim_ * n, dim_, num_classes_) = result.weights_gradient.transpose();
  }
  return result.value;
}

ParametrizedObjective::ParametrizedObjective(const Objective& points_objective, std::vector<Block> blocks)
    : points_objective_(points_objective), blocks_(std::move(blocks)) {
  ValidateBlocks(blocks_, points_objective_.NumParameters());
}

Eigen::Index ParametrizedObjective::NumParameters() const { return points_objective_.NumParameters(); }

double ParametrizedObjective::Evaluate(const Eigen::Ref<const Eigen::VectorXd>& u, Eigen::VectorXd* gradient) const {
  RequireLength("ParametrizedObjective::Evaluate", NumParameters(), u.size());
  const Eigen::VectorXd z = PointsFromParameters(blocks_, u);
  if (gradient == nullptr) return points_objective_.Evaluate(z, nullptr);
  Eigen::VectorXd gradient_z;
  const double value = points_objective_.Evaluate(z, &gradient_z);
  *gradient = PullBackGradient(blocks_, u, gradient_z);
  return value;
}

}  // namespace dissect::optim
