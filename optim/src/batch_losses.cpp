#include "dissect/optim/batch_losses.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <dissect/theory/check.hpp>
#include <dissect/theory/supcon_loss.hpp>
#include <functional>
#include <map>

#include "dissect/optim/multisets.hpp"

namespace dissect::optim {

std::vector<CompositionLosses> MultisetLossesByComposition(const Eigen::Ref<const Eigen::MatrixXd>& points,
                                                           const Eigen::Ref<const Eigen::VectorXi>& labels,
                                                           int num_classes,
                                                           int batch_size,
                                                           std::uint64_t max_batches) {
  constexpr const char* kFunction = "MultisetLossesByComposition";
  theory::RequireAtLeast(kFunction, "num_classes (K)", num_classes, 1);
  theory::RequireAtLeast(kFunction, "batch_size (b)", batch_size, 1);
  if (labels.size() != points.cols()) {
    theory::ThrowInvalidArgument(
        kFunction, fmt::format("expected {} labels (one per point), got {}", points.cols(), labels.size()));
  }
  if (labels.size() > 0 && (labels.minCoeff() < 0 || labels.maxCoeff() >= num_classes)) {
    theory::ThrowInvalidArgument(
        kFunction,
        fmt::format("expected labels in [0, {}), got [{}, {}]", num_classes, labels.minCoeff(), labels.maxCoeff()));
  }
  const int n = static_cast<int>(points.cols());
  theory::SupConOptions options;  // temperature 1, reduction sum
  struct Group {
    CompositionLosses losses;
    double minimum = std::numeric_limits<double>::infinity(), maximum = -std::numeric_limits<double>::infinity();
    double total = 0.0;
  };
  std::map<std::vector<int>, Group, std::greater<>> groups;
  Eigen::MatrixXd batch(points.rows(), batch_size);
  Eigen::VectorXi batch_labels(batch_size);
  for (const std::vector<int>& indices : EnumerateMultisets(n, batch_size, max_batches)) {
    std::vector<int> composition(num_classes, 0);
    for (int j = 0; j < batch_size; ++j) {
      batch.col(j) = points.col(indices[j]);
      batch_labels[j] = labels[indices[j]];
      ++composition[labels[indices[j]]];
    }
    std::sort(composition.begin(), composition.end(), std::greater<>());
    const double loss = theory::SupConLoss(batch, batch_labels, options, false).value;
    Group& g = groups[composition];
    ++g.losses.batches;
    g.minimum = std::min(g.minimum, loss);
    g.maximum = std::max(g.maximum, loss);
    g.total += loss;
  }
  std::vector<CompositionLosses> result;
  for (auto& [composition, g] : groups) {
    g.losses.composition = composition;
    g.losses.minimum = g.minimum;
    g.losses.maximum = g.maximum;
    g.losses.total = g.total;
    g.losses.mean = g.total / static_cast<double>(g.losses.batches);
    result.push_back(g.losses);
  }
  return result;
}

}  // namespace dissect::optim
