#pragma once
// The training losses of the paper in LibTorch (docs/theory.md, Cross-entropy and Supervised contrastive): the same
// conventions as theory/ (a test holds the values equal in float64), differentiable by autograd.

#include <torch/torch.h>
#include <array>

#include <cstdint>
#include <string>
#include <string_view>

#include "dissect/theory/enum_names.hpp"
#include "dissect/theory/supcon_loss.hpp"
#include "dissect/theory/temperature.hpp"
#include "dissect/train/tiled_supcon_loss.hpp"

namespace dissect::train {

enum class LossKind {
  kCrossEntropy,        // "ce": bias-free linear classifier W (K x h), trained; free features
  kCrossEntropyFixed,   // "ce-fix": W fixed to a regular simplex of unit rows (theory::RegularSimplex); free features
  kCrossEntropySphere,  // "ce-sphere": trained W on features projected onto the unit sphere
  kSupCon,              // "supcon": SC on features projected onto the unit sphere, temperature tau
};
// The names of LossKind, for ToString, ParseLossKind and the command line's choices.
inline constexpr std::array<theory::EnumName<LossKind>, 4> kLossKindNames = {
    {{LossKind::kCrossEntropy, "ce"},
     {LossKind::kCrossEntropyFixed, "ce-fix"},
     {LossKind::kCrossEntropySphere, "ce-sphere"},
     {LossKind::kSupCon, "supcon"}}};

std::string ToString(LossKind kind);  // "ce", "ce-fix", "ce-sphere", "supcon"
// Throws std::invalid_argument listing the accepted names.
LossKind ParseLossKind(std::string_view name);
// True for the three CE variants (the network has its own classifier).
bool HasClassifier(LossKind kind);
// True where the loss sees z / ||z|| (ce-sphere, supcon).
bool ProjectsToSphere(LossKind kind);

// Paper: SC loss (docs/theory.md). representations: B x h (any floating dtype, not normalized here), labels: B int64
// (non-negative). Logits <z_i, z_j> / tau; anchors without a positive contribute 0; `reduction` as in theory/
// (kSum, kBatchMean = sum / B, kReference with base_temperature = tau, kPositiveMean = sum / anchors with a
// positive). Log-sum-exp; differentiable.
// Throws std::invalid_argument for mismatched shapes or a non-positive temperature.
torch::Tensor SupConLoss(const torch::Tensor& representations,
                         const torch::Tensor& labels,
                         theory::Temperature temperature,
                         theory::SupConReduction reduction = theory::SupConReduction::kBatchMean);

// Paper: SC loss (docs/theory.md) of some anchors of a batch: the anchors (A x h, labels A) are the rows
// [anchor_offset, anchor_offset + A) of batch (B x h, labels B). Each anchor's term runs over the whole batch; the
// result is the sum of the anchors' terms (kSum), that sum divided by B (kBatchMean, kReference) or by the batch's
// anchors with a positive (kPositiveMean), so that the sums
// over a partition of the batch into anchor blocks add up to SupConLoss of the batch (data-parallel training).
// Throws std::invalid_argument for mismatched shapes or an anchor block outside the batch.
torch::Tensor SupConLossOfAnchors(const torch::Tensor& anchors,
                                  const torch::Tensor& anchor_labels,
                                  const torch::Tensor& batch,
                                  const torch::Tensor& batch_labels,
                                  std::int64_t anchor_offset,
                                  theory::Temperature temperature,
                                  theory::SupConReduction reduction);

// Paper: CE loss (docs/theory.md). Mean over the B rows of -log softmax(representations W^T)_{y}. weights: K x h.
torch::Tensor CrossEntropyLoss(const torch::Tensor& representations,
                               const torch::Tensor& labels,
                               const torch::Tensor& weights);

struct LossOptions {
  // Which loss.
  LossKind kind = LossKind::kCrossEntropy;
  // Number of classes K (>= 2).
  std::int64_t num_classes = 10;
  // Representation dimension h (ce-fix needs h >= K-1).
  std::int64_t dim = 128;
  // tau of the SC loss (features on the unit sphere); ignored by the CE variants.
  double temperature = 0.1;
  // Normalization of the SC sum; training code divides by the batch size (docs/theory.md).
  theory::SupConReduction reduction = theory::SupConReduction::kBatchMean;
  // How the SC loss is computed: auto = tiled where DenseSupConBytes(B) exceeds supcon_memory_budget_bytes or, on
  // the CPU, from B = 2,048 on (faster there); dense otherwise.
  SupConAlgorithm supcon_algorithm = SupConAlgorithm::kAuto;
  // Memory for the SC loss's B x B work (dense) or its tile (tiled), in bytes.
  double supcon_memory_budget_bytes = 256.0 * 1024 * 1024;
  // Seed of the random rotation of the ce-fix simplex (theory::RegularSimplex), so that its vertices are in general
  // position with respect to the coordinate axes.
  std::uint64_t simplex_seed = 0;

  // Throws std::invalid_argument naming the first bad field.
  void Validate() const;
};

// The loss on top of an encoder: the classifier of the CE variants (a parameter, or a buffer for ce-fix) and the
// projection onto the sphere where the loss has one.
class LossHeadImpl : public torch::nn::Module {
 public:
  explicit LossHeadImpl(const LossOptions& options);
  // features: B x h encoder outputs. The representation the loss sees: z / ||z|| (ce-sphere, supcon) or z.
  torch::Tensor Represent(const torch::Tensor& features) const;
  // The loss of a batch of representations (from Represent).
  torch::Tensor forward(const torch::Tensor& representations, const torch::Tensor& labels);
  // True where forward computes this batch's SC loss with TiledSupConLoss (supcon_algorithm, the budget, the device).
  bool UsesTiledSupCon(const torch::Tensor& representations) const;
  // K x h classifier rows (undefined tensor for supcon).
  torch::Tensor classifier() const { return weights_; }
  const LossOptions& options() const { return options_; }

 private:
  LossOptions options_;
  torch::Tensor weights_;
};
TORCH_MODULE(LossHead);

}  // namespace dissect::train
