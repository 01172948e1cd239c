#pragma once
// Paper: SC loss (the paper's variant of Khosla et al.'s L_out: one view, no projection head); docs/theory.md.
// For one batch B (a multiset: each column of the point matrix is one element, repeated samples are repeated
// columns and are positives of each other):
//   l_SC = sum over anchors i with |B_{y_i}| >= 2 of
//          (1/(|B_{y_i}|-1)) sum_{j in B_{y_i}, j != i} -log( exp(<z_i,z_j>/tau) / sum_{k != i} exp(<z_i,z_k>/tau) ).
// Anchors without a positive contribute 0.

#include <Eigen/Core>
#include <array>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "dissect/theory/enum_names.hpp"
#include "dissect/theory/temperature.hpp"

namespace dissect::theory {

// How the per-anchor terms are combined. They differ by constant factors only.
enum class SupConReduction {
  kSum,           // "sum": the plain sum over anchors, the theory's l_SC
  kBatchMean,     // "batch_mean": sum / b, the authors' training code
  kReference,     // "reference": mean over all b anchors (those without positives count 0) times tau / base_tau, the
                  // widely used reference implementation (one view)
  kPositiveMean,  // "positive_mean": sum / (anchors with at least one positive), pytorch-metric-learning's default
                  // (its average over the non-zero per-anchor losses); 0 where no anchor has a positive
};
// The names of SupConReduction, for ToString, ParseSupConReduction and the command line's choices.
inline constexpr std::array<EnumName<SupConReduction>, 4> kSupConReductionNames = {
    {{SupConReduction::kSum, "sum"},
     {SupConReduction::kBatchMean, "batch_mean"},
     {SupConReduction::kReference, "reference"},
     {SupConReduction::kPositiveMean, "positive_mean"}}};

// "sum", "batch_mean", "reference", "positive_mean".
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

  // Memory for the similarity tile, in bytes: anchors are processed b x tile at a time, tile = budget / (b * size of
  // a scalar) columns (at least 64), so any batch size runs in O(b * tile + b * h) memory with the exact dense
  // result: b = 16,384 takes at most 256 MB, not the 2 GB (float64) of the dense matrix, and b = 65,536 in float32
  // the same 256 MB instead of 16 GB.
  double memory_budget_bytes = 256.0 * 1024 * 1024;
  // The size of tile aimed at below that budget, for speed: a tile that stays in the caches from its GEMM through its
  // exponentials to the two gradient GEMMs, but never narrower than 256 columns nor than the dimension h (the inner
  // size of the gradient's GEMM Z_tile A_tile^T: narrower GEMMs lose their rate).
  // The measurements behind the default: docs/results.md, "SC loss".
  double cache_tile_bytes = 16.0 * 1024 * 1024;

  // Throws std::invalid_argument for a base temperature, memory budget or cache tile that is not finite and > 0.
  void Validate() const;
  // Columns per tile for a batch of batch_size anchors of dimension dim (0: unknown), scalars of scalar_bytes bytes
  // (8: float64, 4: float32).
  Eigen::Index TileColumns(Eigen::Index batch_size, int scalar_bytes = 8, Eigen::Index dim = 0) const;
  // The factor c with value = c * sum: 1, 1/b, (tau/base_tau)/b or 1/P (P = anchors_with_positives, 1 when P = 0).
  double ReductionFactor(Eigen::Index batch_size, Eigen::Index anchors_with_positives) const;
};

// The result in float64 (SupConResult) or float32 (SupConResultFloat): the gradient has the points' scalar type, the
// values are doubles in both (a float32 evaluation sums its per-anchor terms in double).
template <typename Scalar>
struct BasicSupConResult {
  double value = std::numeric_limits<double>::quiet_NaN();  // the reduced loss; NaN means "not run"
  // value = collapse_value + excess. collapse_value = c sum_i log P_i over anchors with P_i >= 1 positives is the
  // loss of a batch whose classes each sit at one point with negatives infinitely far; excess = value minus that,
  // computed from small quantities (log1p, expm1 of the positives' spread), so it keeps its relative precision
  // near collapse, where value only has ulp(value). Optimizers minimize excess.
  double collapse_value = std::numeric_limits<double>::quiet_NaN();
  double excess = std::numeric_limits<double>::quiet_NaN();
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> gradient;  // d value / dZ, dim x b (empty without gradient)
  Eigen::Index num_anchors_with_positives = 0;                     // anchors that contribute
};
using SupConResult = BasicSupConResult<double>;
using SupConResultFloat = BasicSupConResult<float>;

// The instruction set the kernel's exponentials, maxima and scaling run on this CPU, picked once per process at run
// time: "AVX-512F", "AVX2+FMA" or "SSE2" (x86-64; "baseline" elsewhere). The GEMMs run on the system BLAS.
const char* SupConKernelInstructionSet();

// The anchors of a batch that have a positive: those whose label occurs at least twice. Labels >= 0.
Eigen::Index NumAnchorsWithPositives(const Eigen::Ref<const Eigen::VectorXi>& labels);

// Evaluates the SC loss of one batch, the columns of `points` (dim x b, finite, b >= 1), with non-negative
// labels (b entries), and when with_gradient its analytic gradient (three GEMMs: the similarities Z^T Z and the
// two halves of Z (A + A^T)). Stable for large |<z,z'>|/tau (per-anchor log-sum-exp). Memory: a b x tile block of
// the similarity matrix (options.memory_budget_bytes), a per-thread buffer kept for the next call (repeated
// evaluations, as in optimizers, then cost no page faults); the gradient is accumulated tile by tile in the same
// sweep, so no block is stored or recomputed. Large batches run their anchors in parallel (OpenMP); the value does
// not depend on the number of threads or the tile size.
// Throws std::invalid_argument naming the first problem.
SupConResult SupConLoss(const Eigen::Ref<const Eigen::MatrixXd>& points,
                        const Eigen::Ref<const Eigen::VectorXi>& labels,
                        const SupConOptions& options,
                        bool with_gradient = true);

// The same in float32: similarities, exponentials and the gradient in float (SGEMM, half the memory of float64),
// per-anchor sums and the returned values accumulated in double. Equal to the float64 loss of the same points to
// about 1e-6 relative (value) and 1e-5 of the largest gradient entry.
SupConResultFloat SupConLoss(const Eigen::Ref<const Eigen::MatrixXf>& points,
                             const Eigen::Ref<const Eigen::VectorXi>& labels,
                             const SupConOptions& options,
                             bool with_gradient = true);

}  // namespace dissect::theory
