#pragma once
// The paper's Figure 5 as numbers: the SC loss of every batch of the multiset objective (all multisets of size b
// drawn from the N points, Paper: SC bound), grouped by the batch's label configuration. At the simplex the batches
// of one configuration share one value; elsewhere they spread, and unbalanced configurations can sit below their
// simplex value while the sum over all batches cannot.

#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <vector>

namespace dissect::optim {

struct CompositionLosses {
  std::vector<int> composition;  // the class counts of the batch, sorted in decreasing order (K entries)
  std::uint64_t batches = 0;     // multisets with this configuration
  double minimum = std::numeric_limits<double>::quiet_NaN();
  double mean = std::numeric_limits<double>::quiet_NaN();
  double maximum = std::numeric_limits<double>::quiet_NaN();
  double total = std::numeric_limits<double>::quiet_NaN();  // sum over its batches
};

// Per-batch SC (reduction sum, logits <z_i, z_j>: the scale lives in the points' norms) of every multiset of size
// `batch_size` from the N columns of `points` (dim x N, finite), grouped by sorted composition; the groups in
// decreasing lexicographic order of composition ([b, 0, ..] first). labels: N entries in [0, num_classes).
// Throws std::invalid_argument for mismatched sizes, labels out of range, batch_size < 1, or more than max_batches
// multisets.
std::vector<CompositionLosses> MultisetLossesByComposition(const Eigen::Ref<const Eigen::MatrixXd>& points,
                                                           const Eigen::Ref<const Eigen::VectorXi>& labels,
                                                           int num_classes,
                                                           int batch_size,
                                                           std::uint64_t max_batches = 10000000);

}  // namespace dissect::optim
