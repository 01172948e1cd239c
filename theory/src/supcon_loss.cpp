#include "dissect/theory/supcon_loss.hpp"

#include <cmath>
#include <fmt/format.h>
#include <vector>

#include "dissect/theory/check.hpp"

namespace dissect::theory {

std::string ToString(SupConReduction reduction) {
  switch (reduction) {
    case SupConReduction::kSum:
      return "sum";
    case SupConReduction::kBatchMean:
      return "batch_mean";
    case SupConReduction::kReference:
      return "reference";
  }
  return "unknown";
}

SupConReduction ParseSupConReduction(std::string_view name) {
  if (name == "sum") return SupConReduction::kSum;
  if (name == "batch_mean") return SupConReduction::kBatchMean;
  if (name == "reference") return SupConReduction::kReference;
  ThrowInvalidArgument("ParseSupConReduction",
                       fmt::format("expected reduction sum, batch_mean or reference, got '{}'", name));
}

void SupConOptions::Validate() const {
  if (base_temperature) RequirePositive("SupConOptions::Validate", "base_temperature", *base_temperature);
}

double SupConOptions::ReductionFactor(Eigen::Index batch_size) const {
  const double b = static_cast<double>(batch_size);
  switch (reduction) {
    case SupConReduction::kSum:
      return 1.0;
    case SupConReduction::kBatchMean:
      return 1.0 / b;
    case SupConReduction::kReference: {
      const double tau = temperature.temperature();
      return (base_temperature ? tau / *base_temperature : 1.0) / b;
    }
  }
  return 1.0;
}

SupConResult SupConLoss(const Eigen::Ref<const Eigen::MatrixXd>& points,
                        const Eigen::Ref<const Eigen::VectorXi>& labels,
                        const SupConOptions& options,
                        bool with_gradient) {
  constexpr const char* kFunction = "SupConLoss";
  options.Validate();
  RequireAtLeast(kFunction, "batch size (number of points)", points.cols(), 1);
  RequireAtLeast(kFunction, "dimension (rows of the points)", points.rows(), 1);
  RequireFinite(kFunction, "points", points);
  RequireLabels(kFunction, labels, points.cols(), -1);

  const Eigen::Index b = points.cols();
  const int num_labels = labels.maxCoeff() + 1;
  std::vector<Eigen::Index> class_count(num_labels, 0);
  for (Eigen::Index i = 0; i < b; ++i) ++class_count[labels[i]];

  const double inverse_temperature = options.temperature.inverse_temperature();
  // sim(k, i) = <z_k, z_i>/tau. Column i (anchor i) is then overwritten in place by A(k, i) = d l_i / d sim(k, i)
  // = softmax_k - [k positive of i]/P_i, so one b x b matrix serves the value and the gradient.
  Eigen::MatrixXd sim(b, b);
  sim.noalias() = points.transpose() * points;
  sim *= inverse_temperature;

  double total = 0.0;
  Eigen::Index contributing = 0;
  for (Eigen::Index i = 0; i < b; ++i) {
    auto column = sim.col(i);
    const int label = labels[i];
    const Eigen::Index positives = class_count[label] - 1;
    if (positives == 0 || b == 1) {
      if (with_gradient) column.setZero();
      continue;
    }
    ++contributing;
    double max_sim = -std::numeric_limits<double>::infinity();
    for (Eigen::Index k = 0; k < b; ++k) {
      if (k != i && column[k] > max_sim) max_sim = column[k];
    }
    double anchor_loss = 0.0;  // sum over positives of (max - sim_ij); log-sum-exp added below
    for (Eigen::Index j = 0; j < b; ++j) {
      if (j != i && labels[j] == label) anchor_loss += max_sim - column[j];
    }
    // exp(sim_ik - max) is kept in the column: the softmax of the gradient reuses it.
    double sum_exp = 0.0;
    for (Eigen::Index k = 0; k < b; ++k) {
      const double e = k == i ? 0.0 : std::exp(column[k] - max_sim);
      sum_exp += e;
      column[k] = e;
    }
    const double log_sum_exp_shifted = std::log(sum_exp);
    // -log softmax_ij = (max - sim_ij) + log sum_k exp(sim_ik - max): no cancellation of two large numbers.
    const double inverse_positives = 1.0 / static_cast<double>(positives);
    total += (anchor_loss + static_cast<double>(positives) * log_sum_exp_shifted) * inverse_positives;
    if (with_gradient) {
      const double inverse_sum = 1.0 / sum_exp;
      for (Eigen::Index k = 0; k < b; ++k) {
        column[k] = column[k] * inverse_sum - (k != i && labels[k] == label ? inverse_positives : 0.0);
      }
    }
  }

  SupConResult result;
  const double factor = options.ReductionFactor(b);
  result.value = factor * total;
  result.num_anchors_with_positives = contributing;
  if (with_gradient) {
    // value = c sum_i l_i(sim), sim = Z^T Z / tau  =>  dvalue/dZ = (c/tau) Z (A + A^T).
    for (Eigen::Index i = 0; i < b; ++i) {
      for (Eigen::Index k = i; k < b; ++k) {
        const double symmetric = sim(k, i) + sim(i, k);
        sim(k, i) = symmetric;
        sim(i, k) = symmetric;
      }
    }
    result.gradient.noalias() = points * sim;
    result.gradient *= factor * inverse_temperature;
  }
  return result;
}

}  // namespace dissect::theory
