#include "dissect/theory/supcon_loss.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "blas.hpp"
#include "dissect/theory/check.hpp"
#include "vector_exp.hpp"

namespace dissect::theory {

std::string ToString(SupConReduction value) { return theory::NameOf(kSupConReductionNames, value); }

SupConReduction ParseSupConReduction(std::string_view name) {
  return theory::ParseName(kSupConReductionNames, name, "ParseSupConReduction", "reduction");
}

void SupConOptions::Validate() const {
  if (base_temperature) RequirePositive("SupConOptions::Validate", "base_temperature", *base_temperature);
  RequirePositive("SupConOptions::Validate", "memory_budget_bytes", memory_budget_bytes);
  RequirePositive("SupConOptions::Validate", "cache_tile_bytes", cache_tile_bytes);
}

Eigen::Index SupConOptions::TileColumns(Eigen::Index batch_size, int scalar_bytes, Eigen::Index dim) const {
  // b x tile scalars within the budget, aiming at the cache tile (at least max(256, h) columns there), at least 64
  // columns (GEMMs stay efficient) and at most b.
  const double column_bytes =
      static_cast<double>(std::max(scalar_bytes, 1)) * static_cast<double>(std::max<Eigen::Index>(batch_size, 1));
  const double columns = std::min(memory_budget_bytes / column_bytes,
                                  std::max({cache_tile_bytes / column_bytes, 256.0, static_cast<double>(dim)}));
  const Eigen::Index floor = std::min<Eigen::Index>(64, batch_size);
  return std::clamp<Eigen::Index>(
      static_cast<Eigen::Index>(std::min(columns, 1e15)), floor, std::max<Eigen::Index>(batch_size, 1));
}

double SupConOptions::ReductionFactor(Eigen::Index batch_size, Eigen::Index anchors_with_positives) const {
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
    case SupConReduction::kPositiveMean:
      return 1.0 / static_cast<double>(std::max<Eigen::Index>(anchors_with_positives, 1));
  }
  return 1.0;
}

const char* SupConKernelInstructionSet() { return detail::ToString(detail::DetectedInstructionSet()); }

Eigen::Index NumAnchorsWithPositives(const Eigen::Ref<const Eigen::VectorXi>& labels) {
  std::vector<int> sorted(labels.data(), labels.data() + labels.size());
  std::sort(sorted.begin(), sorted.end());
  Eigen::Index count = 0;
  for (std::size_t first = 0; first < sorted.size();) {
    std::size_t last = first;
    while (last < sorted.size() && sorted[last] == sorted[first]) ++last;
    if (last - first >= 2) count += static_cast<Eigen::Index>(last - first);
    first = last;
  }
  return count;
}

namespace {

// Batch positions grouped by class: labels can be any int >= 0 (a data set's own codes), so classes are found
// through a stable sort rather than a table indexed by label. members[first..last) is one class.
struct ClassRanges {
  std::vector<int> members;               // positions, sorted by label (stable)
  std::vector<Eigen::Index> first, last;  // per position, its class's range in `members`
};

ClassRanges GroupByClass(const Eigen::Ref<const Eigen::VectorXi>& labels) {
  const Eigen::Index b = labels.size();
  ClassRanges classes;
  classes.members.resize(b);
  std::iota(classes.members.begin(), classes.members.end(), 0);
  const int* labels_data = labels.data();
  std::stable_sort(classes.members.begin(), classes.members.end(), [labels_data](int x, int y) {
    return labels_data[x] < labels_data[y];
  });
  classes.first.resize(b);
  classes.last.resize(b);
  for (Eigen::Index first = 0; first < b;) {
    Eigen::Index last = first;
    while (last < b && labels_data[classes.members[last]] == labels_data[classes.members[first]]) ++last;
    for (Eigen::Index m = first; m < last; ++m) {
      classes.first[classes.members[m]] = first;
      classes.last[classes.members[m]] = last;
    }
    first = last;
  }
  return classes;
}

template <typename Scalar>
BasicSupConResult<Scalar> SupConLossImpl(const Eigen::Ref<const detail::Matrix<Scalar>>& points,
                                         const Eigen::Ref<const Eigen::VectorXi>& labels,
                                         const SupConOptions& options,
                                         bool with_gradient) {
  constexpr const char* kFunction = "SupConLoss";
  options.Validate();
  RequireAtLeast(kFunction, "batch size (number of points)", points.cols(), 1);
  RequireAtLeast(kFunction, "dimension (rows of the points)", points.rows(), 1);
  // (float32 points are widened only to name a bad entry.)
  if (!points.allFinite()) RequireFinite(kFunction, "points", points.template cast<double>());
  RequireLabels(kFunction, labels, points.cols(), -1);

  const Eigen::Index b = points.cols();
  const ClassRanges classes = GroupByClass(labels);
  const std::vector<int>& members = classes.members;
  const std::vector<Eigen::Index>& class_first = classes.first;
  const std::vector<Eigen::Index>& class_last = classes.last;

  const double inverse_temperature = options.temperature.inverse_temperature();
  // Anchors with a positive, from the class ranges above (only positive_mean's factor uses them).
  Eigen::Index with_positives = 0;
  for (Eigen::Index i = 0; i < b; ++i) with_positives += class_last[i] - class_first[i] >= 2 ? 1 : 0;
  const double factor = options.ReductionFactor(b, with_positives);
  // Anchors are processed in tiles of `tile` columns of the similarity matrix: sim(:, tile) = Z^T Z_tile / tau is
  // b x tile, so memory is O(b * tile + b * h) whatever b is. Each column is complete within its tile, so the
  // anchor's value and its column of A = d l / d sim are final there, and the gradient (c/tau) Z (A + A^T) is
  // accumulated tile by tile: Z A_tile into the tile's columns, Z_tile A_tile^T into all of them. With one tile
  // (b^2 scalars within the cache tile and the budget) this is the dense computation, in half the flops: the Gram
  // matrix by SYRK (symmetric), and A + A^T formed in place for one GEMM.
  const Eigen::Index tile = options.TileColumns(b, static_cast<int>(sizeof(Scalar)), points.rows());
  const bool one_tile = tile >= b;
  Eigen::Map<detail::Matrix<Scalar>> workspace(detail::ThreadWorkspace<Scalar>(b * tile), b, tile);
  BasicSupConResult<Scalar> result;
  if (with_gradient) result.gradient.setZero(points.rows(), b);

  // Per-anchor terms, summed in a fixed order afterwards: the value does not depend on the number of threads.
  std::vector<double> excess_terms(b, 0.0);  // l_i - log P_i
  constexpr Scalar kMinusInf = -std::numeric_limits<Scalar>::infinity();
  const detail::InstructionSet isa = detail::DetectedInstructionSet();
  for (Eigen::Index tile_first = 0; tile_first < b; tile_first += tile) {
    const Eigen::Index width = std::min(tile, b - tile_first);
    auto sim = workspace.leftCols(width);
    if (one_tile) {
      detail::ScaledGram<Scalar>(points, static_cast<Scalar>(inverse_temperature), sim);
    } else {
      detail::ScaledProductTransposedA<Scalar>(
          points, points.middleCols(tile_first, width), static_cast<Scalar>(inverse_temperature), sim);
    }
    // Anchors are independent: each owns its column. Threads from a quarter of a million entries on (about 0.2 ms
    // of exponentials).
#pragma omp parallel if (static_cast<double>(b) * static_cast<double>(width) >= 262144.0)
    {
      std::vector<double> positive_sims;  // this thread's copy of the current anchor's positive similarities
      std::vector<double> positive_work;  // their residuals, then their exponentials
#pragma omp for schedule(static)
      for (Eigen::Index j = 0; j < width; ++j) {
        const Eigen::Index i = tile_first + j;
        auto column = sim.col(j);
        Scalar* values = column.data();
        const Eigen::Index positives = class_last[i] - class_first[i] - 1;
        if (positives == 0) {
          if (with_gradient) column.setZero();
          continue;
        }
        const double inverse_positives = 1.0 / static_cast<double>(positives);
        // The mean positive similarity m and the residuals delta_j = sim_ij - m of the positives.
        positive_sims.clear();
        double positive_sum = 0.0;
        for (Eigen::Index m = class_first[i]; m < class_last[i]; ++m) {
          if (members[m] == i) continue;
          positive_sims.push_back(static_cast<double>(values[members[m]]));
          positive_sum += positive_sims.back();
        }
        const double mean_positive = positive_sum * inverse_positives;
        positive_work.resize(positive_sims.size());
        double residual = 0.0;  // (1/P) sum delta_j: zero up to the rounding of m
        for (std::size_t k = 0; k < positive_sims.size(); ++k) {
          positive_work[k] = positive_sims[k] - mean_positive;
          residual += positive_work[k];
        }
        residual *= inverse_positives;
        // (1/P) sum expm1(delta_j) >= 0, about mean(delta^2)/2: expm1 keeps its relative precision near collapse.
        const double positive_excess = detail::SumExpMinusOne(isa, positive_work.data(), positives) * inverse_positives;

        // The anchor itself is excluded from every sum.
        values[i] = kMinusInf;
        const Scalar max_sim = detail::MaxValue(isa, values, b);
        // exp(sim_ik - max) for the whole column in one vectorized pass, kept for the softmax, with the positives set
        // to -infinity first (exponential 0), so the pass sums the negatives' part alone (summed on its own: near
        // collapse it is tiny next to the positives' part and would be lost in a difference); the positives'
        // exponentials are then put back from their similarities, in double.
        for (Eigen::Index m = class_first[i]; m < class_last[i]; ++m) values[members[m]] = kMinusInf;
        const double negative_sum_exp = detail::ExpShiftedSum(isa, values, b, max_sim);
        positive_work = positive_sims;
        const double positive_sum_exp =
            detail::ExpShiftedSum(isa, positive_work.data(), positives, static_cast<double>(max_sim));
        std::size_t slot = 0;
        for (Eigen::Index m = class_first[i]; m < class_last[i]; ++m) {
          if (members[m] != i) values[members[m]] = static_cast<Scalar>(positive_work[slot++]);
        }
        const double sum_exp = negative_sum_exp + positive_sum_exp;
        // l_i = (1/P) sum_j -log softmax_ij = log sum_k exp(sim_ik) - m - r, written against its collapsed value
        // log P:  l_i - log P = log1p(E_pos + E_neg) - r,  E_pos = (1/P) sum expm1(delta_j),
        //   E_neg = (1/P) sum_neg exp(sim_ik - m) = exp(max - m) (1/P) sum_neg exp(sim_ik - max).
        // Every piece is small near collapse, so the excess keeps its relative precision where l_i itself only has
        // ulp(log P): that is what lets an optimizer see the simplex geometry at small tau.
        const double gap_to_max = static_cast<double>(max_sim) - mean_positive;
        if (gap_to_max < 700.0) {
          const double negative_excess = std::exp(gap_to_max) * negative_sum_exp * inverse_positives;
          excess_terms[i] = std::log1p(positive_excess + negative_excess) - residual;
        } else {
          // Far from collapse (a negative far above the positives): the max-shifted form, which cannot overflow.
          excess_terms[i] = gap_to_max - residual + std::log(sum_exp) - std::log(static_cast<double>(positives));
        }
        if (with_gradient) {
          detail::Scale(isa, values, b, static_cast<Scalar>(1.0 / sum_exp));
          for (Eigen::Index m = class_first[i]; m < class_last[i]; ++m) {
            if (members[m] != i) values[members[m]] -= static_cast<Scalar>(inverse_positives);
          }
        }
      }
    }
    if (with_gradient) {
      // value = c sum_i l_i(sim), sim = Z^T Z / tau  =>  dvalue/dZ = (c/tau) Z (A + A^T), A_tile = sim(:, tile).
      const Scalar scale = static_cast<Scalar>(factor * inverse_temperature);
      if (one_tile) {
        detail::AddTransposeInPlace<Scalar>(sim);
        detail::AccumulateProduct<Scalar>(points, sim, scale, result.gradient);
      } else {
        detail::AccumulateProduct<Scalar>(points, sim, scale, result.gradient.middleCols(tile_first, width));
        detail::AccumulateProductTransposedB<Scalar>(points.middleCols(tile_first, width), sim, scale, result.gradient);
      }
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

}  // namespace

SupConResult SupConLoss(const Eigen::Ref<const Eigen::MatrixXd>& points,
                        const Eigen::Ref<const Eigen::VectorXi>& labels,
                        const SupConOptions& options,
                        bool with_gradient) {
  return SupConLossImpl<double>(points, labels, options, with_gradient);
}

SupConResultFloat SupConLoss(const Eigen::Ref<const Eigen::MatrixXf>& points,
                             const Eigen::Ref<const Eigen::VectorXi>& labels,
                             const SupConOptions& options,
                             bool with_gradient) {
  return SupConLossImpl<float>(points, labels, options, with_gradient);
}

}  // namespace dissect::theory
