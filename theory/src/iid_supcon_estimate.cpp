#include "dissect/theory/iid_supcon_estimate.hpp"

#include <fmt/format.h>

#include <cmath>
#include <random>
#include <stdexcept>

#include "dissect/theory/check.hpp"
#include "dissect/theory/supcon_loss.hpp"

namespace dissect::theory {

std::vector<Eigen::Index> DrawIidBatchIndices(Eigen::Index n, int batch_size, int num_batches, std::uint64_t seed) {
  const char* where = "DrawIidBatchIndices";
  RequireAtLeast(where, "n", n, Eigen::Index{1});
  RequireAtLeast(where, "batch_size (b)", batch_size, 1);
  RequireAtLeast(where, "num_batches (M)", num_batches, 1);
  __extension__ using Uint128 = unsigned __int128;  // GCC and Clang; __extension__ keeps -Wpedantic quiet
  std::mt19937_64 engine(seed);
  std::vector<Eigen::Index> indices(static_cast<std::size_t>(batch_size) * static_cast<std::size_t>(num_batches));
  for (Eigen::Index& index : indices) {
    index = static_cast<Eigen::Index>((static_cast<Uint128>(engine()) * static_cast<std::uint64_t>(n)) >> 64);
  }
  return indices;
}

IidSupConEstimate EstimateIidSupCon(const Eigen::Ref<const Eigen::MatrixXd>& points,
                                    const Eigen::Ref<const Eigen::VectorXi>& labels,
                                    int batch_size,
                                    Temperature temperature) {
  const char* where = "EstimateIidSupCon";
  RequireAtLeast(where, "batch_size (b)", batch_size, 2);
  if (points.cols() == 0 || points.cols() % batch_size != 0 || labels.size() != points.cols()) {
    throw std::invalid_argument(
        fmt::format("{}(): expected M b points and labels with b = {}, got {} points and {} "
                    "labels",
                    where,
                    batch_size,
                    points.cols(),
                    labels.size()));
  }
  SupConOptions supcon;
  supcon.temperature = temperature;
  supcon.reduction = SupConReduction::kBatchMean;
  IidSupConEstimate estimate;
  estimate.num_batches = static_cast<int>(points.cols() / batch_size);
  Eigen::VectorXd values(estimate.num_batches);
  for (int m = 0; m < estimate.num_batches; ++m) {
    values[m] = SupConLoss(points.middleCols(Eigen::Index{m} * batch_size, batch_size),
                           labels.segment(Eigen::Index{m} * batch_size, batch_size),
                           supcon,
                           /*with_gradient=*/false)
                    .value;
  }
  estimate.mean = values.mean();
  if (estimate.num_batches > 1) {
    const double variance = (values.array() - estimate.mean).square().sum() / (estimate.num_batches - 1);
    estimate.standard_error = std::sqrt(variance / estimate.num_batches);
  }
  return estimate;
}

}  // namespace dissect::theory
