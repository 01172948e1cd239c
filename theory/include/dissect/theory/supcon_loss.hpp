#pragma once
// Paper: SC loss (the paper's variant of Khosla et al.'s L_out: one view, no projection head); THEORY.md.
// For one batch B (a multiset: each column of the point matrix is one element, repeated samples are repeated
// columns and are positives of each other):
//   l_SC = sum over anchors i with |B_{y_i}| >= 2 of
//          (1/(|B_{y_i}|-1)) sum_{j in B_{y_i}, j != i} -log( exp(<z_i,z_j>/tau) / sum_{k != i} exp(<z_i,z_k>/tau) ).
// Anchors without a positive contribute 0.

#include <Eigen/Core>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "dissect/theory/temperature.hpp"

namespace dissect::theory {

// How the per-anchor terms are combined. They differ by constant factors only.
enum class SupConReduction {
  kSum,        // "sum": the plain sum over anchors, the theory's l_SC
  kBatchMean,  // "batch_mean": sum / b, the authors' training code
  kReference,  // "reference": mean over all b anchors (those without positives count 0) times tau / base_tau, the
               // widely used reference implementation (one view)
};

// "sum", "batch_mean", "reference".
std::string ToString(SupConReduction reduction);
// Parses the names above; throws std::invalid_argument naming the accepted values.
SupConReduction ParseSupConReduction(std::string_view name);

struct SupConOptions {
  // tau (or rho = 1/sqrt(tau)): the logits are <z_i, z_j> * (1/tau).
  Temperature temperature = Temperature::FromTemperature(1.0);
  // Which normalization of the sum is returned.
  SupConReduction reduction = SupConReduction::kSum;
  // base_tau of the reference reduction; unset means base_tau = tau (factor 1). Ignored by other reductions.
  std::optional<double> base_temperature;

  // Memory for the similarity tile, in bytes: anchors are processed b x tile at a time, tile = budget / (8 b)
  // columns (at least 64), so any batch size runs in O(b * tile + b * h) memory with the exact dense result. The
  // default holds b up to about 5,800 in one tile (the fastest for repeated calls); b = 16,384 then takes 128 MB,
  // not the 2 GB of the dense matrix.
  double memory_budget_bytes = 256.0 * 1024 * 1024;

  // Throws std::invalid_argument for a base temperature or memory budget that is not finite and > 0.
  void Validate() const;
  // Columns per tile for a batch of batch_size anchors.
  Eigen::Index TileColumns(Eigen::Index batch_size) const;
  // The factor c with value = c * sum: 1, 1/b or (tau/base_tau)/b.
  double ReductionFactor(Eigen::Index batch_size) const;
};

struct SupConResult {
  double value = std::numeric_limits<double>::quiet_NaN();  // the reduced loss; NaN means "not run"
  // value = collapse_value + excess. collapse_value = c sum_i log P_i over anchors with P_i >= 1 positives is the
  // loss of a batch whose classes each sit at one point with negatives infinitely far; excess = value minus that,
  // computed from small quantities (log1p, expm1 of the positives' spread), so it keeps its relative precision
  // near collapse, where value only has ulp(value). Optimizers minimize excess.
  double collapse_value = std::numeric_limits<double>::quiet_NaN();
  double excess = std::numeric_limits<double>::quiet_NaN();
  Eigen::MatrixXd gradient;                                 // d value / dZ, dim x b (empty without gradient)
  Eigen::Index num_anchors_with_positives = 0;              // anchors that contribute
};

// Evaluates the SC loss of one batch, the columns of `points` (dim x b, finite, b >= 1), with non-negative
// labels (b entries), and when with_gradient its analytic gradient (three GEMMs: the similarities Z^T Z and the
// two halves of Z (A + A^T)). Stable for large |<z,z'>|/tau (per-anchor log-sum-exp). Memory: a b x tile block of
// the similarity matrix (options.memory_budget_bytes), a per-thread buffer kept for the next call (repeated
// evaluations, as in optimizers, then cost no page faults). Large batches run their anchors in parallel (OpenMP);
// the value does not depend on the number of threads or the tile size.
// Throws std::invalid_argument naming the first problem.
SupConResult SupConLoss(const Eigen::Ref<const Eigen::MatrixXd>& points,
                        const Eigen::Ref<const Eigen::VectorXi>& labels,
                        const SupConOptions& options,
                        bool with_gradient = true);

}  // namespace dissect::theory
