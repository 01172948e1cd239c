#include "dissect/theory/supcon_loss.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <fmt/format.h>
#include <vector>

#include "blas.hpp"
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
  // Positives per anchor: the size of its class in the batch, minus one. Labels can be any int >= 0 (a data set's
  // own codes), so they are counted through a sorted copy rather than a table indexed by label.
  std::vector<int> sorted_labels(labels.data(), labels.data() + b);
  std::sort(sorted_labels.begin(), sorted_labels.end());
  const auto class_size = [&sorted_labels](int label) {
    const auto range = std::equal_range(sorted_labels.begin(), sorted_labels.end(), label);
    return static_cast<Eigen::Index>(range.second - range.first);
  };

  const double inverse_temperature = options.temperature.inverse_temperature();
  // sim(k, i) = <z_k, z_i>/tau. Column i (anchor i) is then overwritten in place by A(k, i) = d l_i / d sim(k, i)
  // = softmax_k - [k positive of i]/P_i, so one b x b matrix serves the value and the gradient.
  Eigen::Map<Eigen::MatrixXd> sim(detail::ThreadWorkspace(b * b), b, b);
  detail::ScaledGram(points, inverse_temperature, sim);

  // Per-anchor terms, summed in a fixed order afterwards: the value does not depend on the number of threads.
  std::vector<double> anchor_terms(b, 0.0);
  const int* labels_data = labels.data();
  constexpr double kMinusInf = -std::numeric_limits<double>::infinity();
  // Anchors are independent: each owns its column.
#pragma omp parallel for schedule(static) if (b >= 256)
  for (Eigen::Index i = 0; i < b; ++i) {
    auto column = sim.col(i);
    const int label = labels[i];
    const Eigen::Index positives = class_size(label) - 1;
    if (positives == 0) {
      if (with_gradient) column.setZero();
      continue;
    }
    // The anchor itself is excluded from every sum: exp(-inf) = 0 in the pass below.
    column[i] = kMinusInf;
    const double max_sim = column.maxCoeff();
    // One pass: the positives' (max - sim_ij), and exp(sim_ik - max) kept in the column for the softmax.
    double* values = column.data();
    double anchor_loss = 0.0;
    double sum_exp = 0.0;
    for (Eigen::Index k = 0; k < b; ++k) {
      const double shifted = values[k] - max_sim;
      if (labels_data[k] == label && k != i) anchor_loss -= shifted;
      const double e = std::exp(shifted);
      values[k] = e;
      sum_exp += e;
    }
    const double log_sum_exp_shifted = std::log(sum_exp);
    // -log softmax_ij = (max - sim_ij) + log sum_k exp(sim_ik - max): no cancellation of two large numbers.
    const double inverse_positives = 1.0 / static_cast<double>(positives);
    anchor_terms[i] = (anchor_loss + static_cast<double>(positives) * log_sum_exp_shifted) * inverse_positives;
    if (with_gradient) {
      const double inverse_sum = 1.0 / sum_exp;
      for (Eigen::Index k = 0; k < b; ++k) {
        values[k] = values[k] * inverse_sum - (labels_data[k] == label && k != i ? inverse_positives : 0.0);
      }
    }
  }

  double total = 0.0;
  Eigen::Index contributing = 0;
  for (Eigen::Index i = 0; i < b; ++i) {
    total += anchor_terms[i];
    contributing += class_size(labels[i]) > 1;
  }
  SupConResult result;
  const double factor = options.ReductionFactor(b);
  result.value = factor * total;
  result.num_anchors_with_positives = contributing;
  if (with_gradient) {
    // value = c sum_i l_i(sim), sim = Z^T Z / tau  =>  dvalue/dZ = (c/tau) Z (A + A^T): two GEMMs, cheaper than
    // symmetrizing the b x b matrix in memory.
    detail::ScaledProductPlusTransposed(points, sim, factor * inverse_temperature, &result.gradient);
  }
  return result;
}

}  // namespace dissect::theory
