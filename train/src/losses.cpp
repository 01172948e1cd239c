#include "dissect/train/losses.hpp"

#include <fmt/format.h>

#include <algorithm>

#include <stdexcept>

#include "dissect/theory/check.hpp"
#include "dissect/theory/regular_simplex.hpp"
#include "dissect/theory/supcon_loss.hpp"
#include "dissect/train/tensor_bridge.hpp"

namespace dissect::train {
namespace {

void RequireBatch(const char* where, const torch::Tensor& representations, const torch::Tensor& labels) {
  if (!representations.defined() || representations.dim() != 2 || representations.size(0) < 1) {
    throw std::invalid_argument(fmt::format("{}(): expected representations of shape B x h with B >= 1", where));
  }
  if (!labels.defined() || labels.dim() != 1 || labels.size(0) != representations.size(0)) {
    throw std::invalid_argument(fmt::format(
        "{}(): expected {} labels, got {}", where, representations.size(0), labels.defined() ? labels.numel() : 0));
  }
  if (labels.scalar_type() != torch::kLong) {
    throw std::invalid_argument(fmt::format("{}(): expected int64 labels", where));
  }
}

}  // namespace

std::string ToString(LossKind value) { return theory::NameOf(kLossKindNames, value); }

LossKind ParseLossKind(std::string_view name) { return theory::ParseName(kLossKindNames, name, "ParseLossKind", ""); }

bool HasClassifier(LossKind kind) { return kind != LossKind::kSupCon; }

bool ProjectsToSphere(LossKind kind) { return kind == LossKind::kCrossEntropySphere || kind == LossKind::kSupCon; }

// Paper: SC loss; docs/theory.md. The anchor's own entry is excluded from the log-sum-exp by -inf (zero gradient);
// entries that are not positives are masked to 0 before the sum, so no 0 * inf appears.
torch::Tensor SupConLossOfAnchors(const torch::Tensor& anchors,
                                  const torch::Tensor& anchor_labels,
                                  const torch::Tensor& batch,
                                  const torch::Tensor& batch_labels,
                                  std::int64_t anchor_offset,
                                  theory::Temperature temperature,
                                  theory::SupConReduction reduction) {
  const char* where = "SupConLossOfAnchors";
  RequireBatch(where, anchors, anchor_labels);
  RequireBatch(where, batch, batch_labels);
  const std::int64_t num_anchors = anchors.size(0), size = batch.size(0);
  if (anchors.size(1) != batch.size(1) || anchor_offset < 0 || anchor_offset + num_anchors > size) {
    throw std::invalid_argument(fmt::format("{}(): expected {} x {} anchors at rows [{}, {}) of a batch of {} x {}",
                                            where,
                                            num_anchors,
                                            anchors.size(1),
                                            anchor_offset,
                                            anchor_offset + num_anchors,
                                            size,
                                            batch.size(1)));
  }
  const auto index_options = anchor_labels.options();
  const torch::Tensor logits = torch::matmul(anchors, batch.t()) * temperature.inverse_temperature();
  const torch::Tensor self = torch::arange(size, index_options)
                                 .unsqueeze(0)
                                 .eq(torch::arange(num_anchors, index_options).unsqueeze(1) + anchor_offset);
  const torch::Tensor masked = logits.masked_fill(self, -std::numeric_limits<double>::infinity());
  const torch::Tensor log_normalizer = torch::logsumexp(masked, 1, /*keepdim=*/true);
  const torch::Tensor positives =
      anchor_labels.unsqueeze(1).eq(batch_labels.unsqueeze(0)).logical_and(self.logical_not());
  const torch::Tensor num_positives = positives.sum(1).to(anchors.scalar_type());
  const torch::Tensor log_probability = (logits - log_normalizer).masked_fill(positives.logical_not(), 0.0);
  const torch::Tensor per_anchor = -log_probability.sum(1) / num_positives.clamp_min(1.0);
  const torch::Tensor total = per_anchor.sum();
  switch (reduction) {
    case theory::SupConReduction::kSum:
      return total;
    case theory::SupConReduction::kBatchMean:
    case theory::SupConReduction::kReference:  // base_temperature = tau: the same number
      return total / static_cast<double>(size);
    case theory::SupConReduction::kPositiveMean: {  // anchors with a positive in the whole batch, as theory/ counts
      const double with_positives = static_cast<double>(theory::NumAnchorsWithPositives(ToLabels(batch_labels)));
      return total / std::max(with_positives, 1.0);
    }
  }
  return total;
}

torch::Tensor SupConLoss(const torch::Tensor& representations,
                         const torch::Tensor& labels,
                         theory::Temperature temperature,
                         theory::SupConReduction reduction) {
  RequireBatch("SupConLoss", representations, labels);
  return SupConLossOfAnchors(representations, labels, representations, labels, 0, temperature, reduction);
}

torch::Tensor CrossEntropyLoss(const torch::Tensor& representations,
                               const torch::Tensor& labels,
                               const torch::Tensor& weights) {
  const char* where = "CrossEntropyLoss";
  RequireBatch(where, representations, labels);
  if (!weights.defined() || weights.dim() != 2 || weights.size(1) != representations.size(1) || weights.size(0) < 2) {
    throw std::invalid_argument(
        fmt::format("{}(): expected weights of shape K x {} with K >= 2", where, representations.size(1)));
  }
  return torch::nn::functional::cross_entropy(torch::matmul(representations, weights.t()), labels);
}

void LossOptions::Validate() const {
  const char* where = "LossOptions::Validate";
  theory::RequireAtLeast(where, "num_classes", num_classes, 2);
  theory::RequireAtLeast(where, "dim", dim, 1);
  if (kind == LossKind::kSupCon) theory::RequirePositive(where, "temperature", temperature);
  theory::RequirePositive(where, "supcon_memory_budget_bytes", supcon_memory_budget_bytes);
  if (kind == LossKind::kCrossEntropyFixed && dim < num_classes - 1) {
    throw std::invalid_argument(
        fmt::format("{}: ce-fix needs a regular simplex with K = {} vertices, which needs h >= K-1, got h = {}",
                    where,
                    num_classes,
                    dim));
  }
}

LossHeadImpl::LossHeadImpl(const LossOptions& options) : options_(options) {
  options_.Validate();
  switch (options_.kind) {
    case LossKind::kCrossEntropy:
    case LossKind::kCrossEntropySphere:
      // The initialization of a bias-free torch::nn::Linear(h, K).
      weights_ = torch::empty({options_.num_classes, options_.dim});
      torch::nn::init::kaiming_uniform_(weights_, std::sqrt(5.0));
      weights_ = register_parameter("weights", weights_);
      break;
    case LossKind::kCrossEntropyFixed: {
      // Paper: CE-fix, rows w_k = zeta_k of a regular simplex of radius 1 (unit rows).
      const Eigen::MatrixXd simplex = theory::RegularSimplex(
          static_cast<int>(options_.num_classes), static_cast<int>(options_.dim), 1.0, options_.simplex_seed);
      // The dim x K column-major matrix is, in memory, the K x dim row-major matrix of the rows w_k.
      const torch::Tensor rows =
          torch::from_blob(const_cast<double*>(simplex.data()), {options_.num_classes, options_.dim}, torch::kDouble)
              .clone();
      weights_ = register_buffer("weights", rows.to(torch::kFloat));
      break;
    }
    case LossKind::kSupCon:
      break;
  }
}

torch::Tensor LossHeadImpl::Represent(const torch::Tensor& features) const {
  if (!ProjectsToSphere(options_.kind)) return features;
  return torch::nn::functional::normalize(features, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
}

bool LossHeadImpl::UsesTiledSupCon(const torch::Tensor& representations) const {
  // auto: tiled where dense would not fit the budget, and on the CPU from B = 2,048 on, where the tiled kernel
  // is faster (bench/tiled_supcon_bench: 2x at 2,048, 18x at 4,096; parity up to 1,024).
  const std::int64_t batch = representations.size(0);
  return options_.kind == LossKind::kSupCon &&
         (options_.supcon_algorithm == SupConAlgorithm::kTiled ||
          (options_.supcon_algorithm == SupConAlgorithm::kAuto &&
           ((representations.device().is_cpu() && batch >= 2048) ||
            DenseSupConBytes(batch, representations.scalar_type()) > options_.supcon_memory_budget_bytes)));
}

torch::Tensor LossHeadImpl::forward(const torch::Tensor& representations, const torch::Tensor& labels) {
  if (options_.kind == LossKind::kSupCon) {
    const theory::Temperature temperature = theory::Temperature::FromTemperature(options_.temperature);
    if (!UsesTiledSupCon(representations)) return SupConLoss(representations, labels, temperature, options_.reduction);
    TiledSupConOptions tiled_options;
    tiled_options.temperature = temperature;
    tiled_options.reduction = options_.reduction;
    tiled_options.memory_budget_bytes = options_.supcon_memory_budget_bytes;
    return TiledSupConLoss(representations, labels, tiled_options);
  }
  return CrossEntropyLoss(representations, labels, weights_);
}

}  // namespace dissect::train
