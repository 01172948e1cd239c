#include "dissect/theory/supcon_loss.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
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
  RequirePositive("SupConOptions::Validate", "memory_budget_bytes", memory_budget_bytes);
}

Eigen::Index SupConOptions::TileColumns(Eigen::Index batch_size) const {
  // b x tile doubles within the budget, at least 64 columns (GEMMs stay efficient) and at most b.
  const double columns = memory_budget_bytes / (8.0 * static_cast<double>(std::max<Eigen::Index>(batch_size, 1)));
  const Eigen::Index floor = std::min<Eigen::Index>(64, batch_size);
  return std::clamp<Eigen::Index>(static_cast<Eigen::Index>(std::min(columns, 1e15)), floor, std::max<Eigen::Index>(batch_size, 1));
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
  // Batch positions grouped by class: labels can be any int >= 0 (a data set's own codes), so classes are found
  // through a stable sort rather than a table indexed by label. members[first..last) is one class.
  std::vector<int> members(b);
  std::iota(members.begin(), members.end(), 0);
  const int* labels_data = labels.data();
  std::stable_sort(members.begin(), members.end(), [labels_data](int x, int y) { return labels_data[x] < labels_data[y]; });
  std::vector<Eigen::Index> class_first(b), class_last(b);  // per position, its class's range in `members`
  for (Eigen::Index first = 0; first < b;) {
    Eigen::Index last = first;
    while (last < b && labels_data[members[last]] == labels_data[members[first]]) ++last;
    for (Eigen::Index m = first; m < last; ++m) {
      class_first[members[m]] = first;
      class_last[members[m]] = last;
    }
    first = last;
  }

  const double inverse_temperature = options.temperature.inverse_temperature();
  const double factor = options.ReductionFactor(b);
  // Anchors are processed in tiles of `tile` columns of the similarity matrix: sim(:, tile) = Z^T Z_tile / tau is
  // b x tile, so memory is O(b * tile + b * h) whatever b is. Each column is complete within its tile, so the
  // anchor's value and its column of A = d l / d sim are final there, and the gradient (c/tau) Z (A + A^T) is
  // accumulated tile by tile: Z A_tile into the tile's columns, Z_tile A_tile^T into all of them. With one tile
  // (b^2 doubles within the budget) this is the dense computation.
  const Eigen::Index tile = options.TileColumns(b);
  Eigen::Map<Eigen::MatrixXd> workspace(detail::ThreadWorkspace(b * tile), b, tile);
  SupConResult result;
  if (with_gradient) result.gradient.setZero(points.rows(), b);

  // Per-anchor terms, summed in a fixed order afterwards: the value does not depend on the number of threads.
  std::vector<double> excess_terms(b, 0.0);  // l_i - log P_i
  constexpr double kMinusInf = -std::numeric_limits<double>::infinity();
  for (Eigen::Index tile_first = 0; tile_first < b; tile_first += tile) {
    const Eigen::Index width = std::min(tile, b - tile_first);
    auto sim = workspace.leftCols(width);
    detail::ScaledProductTransposedA(points, points.middleCols(tile_first, width), inverse_temperature, sim);
    // Anchors are independent: each owns its column.
#pragma omp parallel for schedule(static) if (b >= 2048)
    for (Eigen::Index j = 0; j < width; ++j) {
      const Eigen::Index i = tile_first + j;
      auto column = sim.col(j);
      double* values = column.data();
      const int label = labels_data[i];
      const Eigen::Index positives = class_last[i] - class_first[i] - 1;
      if (positives == 0) {
        if (with_gradient) column.setZero();
        continue;
      }
      const double inverse_positives = 1.0 / static_cast<double>(positives);
      // The mean positive similarity m and the residuals delta_j = sim_ij - m of the positives.
      double positive_sum = 0.0;
      for (Eigen::Index m = class_first[i]; m < class_last[i]; ++m) {
        if (members[m] != i) positive_sum += values[members[m]];
      }
      const double mean_positive = positive_sum * inverse_positives;
      double residual = 0.0;          // (1/P) sum delta_j: zero up to the rounding of m
      double positive_excess = 0.0;   // (1/P) sum expm1(delta_j) >= 0, about mean(delta^2)/2
      for (Eigen::Index m = class_first[i]; m < class_last[i]; ++m) {
        if (members[m] == i) continue;
        const double delta = values[members[m]] - mean_positive;
        residual += delta;
        // expm1 costs several exps; near collapse (the case that needs the precision) five Taylor terms leave a
        // relative remainder below delta^5/720 < 2e-18 for |delta| < 1e-3.
        positive_excess +=
            std::abs(delta) < 1e-3
                ? delta * (1.0 + delta * (0.5 + delta * (1.0 / 6.0 + delta * (1.0 / 24.0 + delta * (1.0 / 120.0)))))
                : std::expm1(delta);
      }
      residual *= inverse_positives;
      positive_excess *= inverse_positives;

      // The anchor itself is excluded from every sum: exp(-inf) = 0 in the pass below.
      values[i] = kMinusInf;
      const double max_sim = column.maxCoeff();
      // One pass: exp(sim_ik - max), kept in the column for the softmax; the negatives' part summed on its own.
      double sum_exp = 0.0;
      double negative_sum_exp = 0.0;
      for (Eigen::Index k = 0; k < b; ++k) {
        const double e = std::exp(values[k] - max_sim);
        values[k] = e;
        sum_exp += e;
        negative_sum_exp += labels_data[k] != label ? e : 0.0;
      }
      // l_i = (1/P) sum_j -log softmax_ij = log sum_k exp(sim_ik) - m - r, written against its collapsed value
      // log P:  l_i - log P = log1p(E_pos + E_neg) - r,  E_pos = (1/P) sum expm1(delta_j),
      //   E_neg = (1/P) sum_neg exp(sim_ik - m) = exp(max - m) (1/P) sum_neg exp(sim_ik - max).
      // Every piece is small near collapse, so the excess keeps its relative precision where l_i itself only has
      // ulp(log P): that is what lets an optimizer see the simplex geometry at small tau.
      const double gap_to_max = max_sim - mean_positive;
      if (gap_to_max < 700.0) {
        const double negative_excess = std::exp(gap_to_max) * negative_sum_exp * inverse_positives;
        excess_terms[i] = std::log1p(positive_excess + negative_excess) - residual;
      } else {
        // Far from collapse (a negative far above the positives): the max-shifted form, which cannot overflow.
        excess_terms[i] = gap_to_max - residual + std::log(sum_exp) - std::log(static_cast<double>(positives));
      }
      if (with_gradient) {
        column *= 1.0 / sum_exp;
        for (Eigen::Index m = class_first[i]; m < class_last[i]; ++m) {
          if (members[m] != i) values[members[m]] -= inverse_positives;
        }
      }
    }
    if (with_gradient) {
      // value = c sum_i l_i(sim), sim = Z^T Z / tau  =>  dvalue/dZ = (c/tau) Z (A + A^T), A_tile = sim(:, tile).
      const double scale = factor * inverse_temperature;
      detail::AccumulateProduct(points, sim, scale, result.gradient.middleCols(tile_first, width));
      detail::AccumulateProductTransposedB(points.middleCols(tile_first, width), sim, scale, result.gradient);
    }
  }

  double excess = 0.0;
  double offset = 0.0;
  Eigen::Index contributing = 0;
  for (Eigen::Index i = 0; i < b; ++i) {
    const Eigen::Index positives = class_last[i] - class_first[i] - 1;
    if (positives == 0) continue;
    excess += excess_terms[i];
    offset += std::log(static_cast<double>(positives));
    ++contributing;
  }
  result.excess = factor * excess;
  result.collapse_value = factor * offset;
  result.value = result.collapse_value + result.excess;
  result.num_anchors_with_positives = contributing;
  return result;
}

}  // namespace dissect::theory
