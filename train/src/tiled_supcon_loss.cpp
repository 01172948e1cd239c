#include "dissect/train/tiled_supcon_loss.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

#include "dissect/theory/check.hpp"
#include "dissect/train/tensor_bridge.hpp"

namespace dissect::train {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

theory::SupConOptions TheoryOptions(const TiledSupConOptions& options) {
  theory::SupConOptions theory_options;
  theory_options.temperature = options.temperature;
  theory_options.reduction = options.reduction;
  theory_options.memory_budget_bytes = options.memory_budget_bytes;
  theory_options.base_temperature = options.base_temperature;
  return theory_options;
}

// The theory kernel on a contiguous CPU tensor of Scalar: the value and, when asked, the B x h gradient.
template <typename Scalar>
std::pair<torch::Tensor, torch::Tensor> ByTheoryKernel(const torch::Tensor& rows,
                                                       const torch::Tensor& labels,
                                                       const TiledSupConOptions& options,
                                                       bool with_gradient) {
  const auto result =
      theory::SupConLoss(PointsView<Scalar>(rows), ToLabels(labels), TheoryOptions(options), with_gradient);
  const torch::Tensor value = torch::tensor(result.value, rows.options());
  if (!with_gradient) return {value, torch::Tensor()};
  // The h x B column-major gradient is, in memory, the B x h row-major one.
  torch::Tensor gradient = torch::empty_like(rows);
  std::copy_n(result.gradient.data(), result.gradient.size(), gradient.data_ptr<Scalar>());
  return {value, gradient};
}

std::pair<torch::Tensor, torch::Tensor> LossAndGradient(const torch::Tensor& representations,
                                                        const torch::Tensor& labels,
                                                        const TiledSupConOptions& options,
                                                        bool with_gradient) {
  if (representations.device().is_cpu()) {
    const torch::Tensor rows = representations.contiguous();
    if (rows.scalar_type() == torch::kDouble) return ByTheoryKernel<double>(rows, labels, options, with_gradient);
    if (rows.scalar_type() == torch::kFloat) return ByTheoryKernel<float>(rows, labels, options, with_gradient);
  }
  return TiledSupConLossByTorchOps(representations, labels, options, with_gradient);
}

// The autograd node: forward computes value and gradient together; backward scales the kept gradient.
struct TiledSupConFunction : public torch::autograd::Function<TiledSupConFunction> {
  static torch::Tensor forward(AutogradContext* context,
                               const torch::Tensor& representations,
                               const torch::Tensor& labels,
                               double temperature,
                               int64_t reduction,
                               double base_temperature,  // <= 0: unset
                               double memory_budget_bytes) {
    TiledSupConOptions options;
    options.temperature = theory::Temperature::FromTemperature(temperature);
    options.reduction = static_cast<theory::SupConReduction>(reduction);
    options.memory_budget_bytes = memory_budget_bytes;
    if (base_temperature > 0) options.base_temperature = base_temperature;
    auto [value, gradient] = LossAndGradient(representations, labels, options, true);
    context->save_for_backward({gradient});
    return value;
  }

  static variable_list backward(AutogradContext* context, variable_list grad_outputs) {
    const torch::Tensor gradient = context->get_saved_variables()[0];
    return {grad_outputs[0] * gradient,
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

void RequireBatch(const torch::Tensor& representations, const torch::Tensor& labels) {
  constexpr const char* kWhere = "TiledSupConLoss";
  if (!representations.defined() || representations.dim() != 2 || representations.size(0) < 1 ||
      representations.size(1) < 1 || !representations.is_floating_point()) {
    throw std::invalid_argument(
        fmt::format("{}(): expected floating representations of shape B x h with B, h >= 1", kWhere));
  }
  if (!labels.defined() || labels.dim() != 1 || labels.size(0) != representations.size(0) ||
      labels.scalar_type() != torch::kLong) {
    throw std::invalid_argument(fmt::format("{}(): expected {} int64 labels, got {}",
                                            kWhere,
                                            representations.size(0),
                                            labels.defined() ? labels.numel() : 0));
  }
  if (labels.lt(0).any().item<bool>()) {
    throw std::invalid_argument(fmt::format("{}(): expected labels >= 0", kWhere));
  }
  if (!torch::isfinite(representations.detach()).all().item<bool>()) {
    throw std::invalid_argument(fmt::format("{}(): expected finite representations", kWhere));
  }
}

}  // namespace

std::string ToString(SupConAlgorithm value) { return theory::NameOf(kSupConAlgorithmNames, value); }

SupConAlgorithm ParseSupConAlgorithm(std::string_view name) {
  return theory::ParseName(kSupConAlgorithmNames, name, "ParseSupConAlgorithm", "");
}

void TiledSupConOptions::Validate() const {
  theory::RequirePositive("TiledSupConOptions::Validate", "memory_budget_bytes", memory_budget_bytes);
  if (base_temperature) {
    theory::RequirePositive("TiledSupConOptions::Validate", "base_temperature", *base_temperature);
  }
}

std::pair<torch::Tensor, torch::Tensor> TiledSupConLossAndGradient(const torch::Tensor& representations,
                                                                   const torch::Tensor& labels,
                                                                   const TiledSupConOptions& options,
                                                                   bool with_gradient) {
  options.Validate();
  RequireBatch(representations, labels);
  return LossAndGradient(representations.detach(), labels, options, with_gradient);
}

torch::Tensor TiledSupConLoss(const torch::Tensor& representations,
                              const torch::Tensor& labels,
                              const TiledSupConOptions& options) {
  options.Validate();
  RequireBatch(representations, labels);
  if (!(torch::GradMode::is_enabled() && representations.requires_grad())) {
    return LossAndGradient(representations.detach(), labels, options, false).first;
  }
  return TiledSupConFunction::apply(representations,
                                    labels,
                                    options.temperature.temperature(),
                                    static_cast<int64_t>(options.reduction),
                                    options.base_temperature.value_or(0.0),
                                    options.memory_budget_bytes);
}

std::pair<torch::Tensor, torch::Tensor> TiledSupConLossByTorchOps(const torch::Tensor& representations,
                                                                  const torch::Tensor& labels,
                                                                  const TiledSupConOptions& options,
                                                                  bool with_gradient) {
  options.Validate();
  RequireBatch(representations, labels);
  torch::NoGradGuard no_grad;
  const torch::Tensor z = representations.detach();
  const std::int64_t batch = z.size(0);
  const double inverse_temperature = options.temperature.inverse_temperature();
  theory::SupConOptions theory_options = TheoryOptions(options);
  // The count copies the labels to the host: only positive_mean needs it.
  const Eigen::Index with_positives = options.reduction == theory::SupConReduction::kPositiveMean
                                          ? theory::NumAnchorsWithPositives(ToLabels(labels))
                                          : batch;
  const double factor = theory_options.ReductionFactor(batch, with_positives);
  // Rows of anchors: a tile x B block of logits plus three of its size (mask, log-probabilities, A) in the budget,
  // as large as the budget allows (the CPU kernel's cache tile is for the CPU kernel; devices want large tiles).
  theory::SupConOptions budget_only = theory_options;
  budget_only.cache_tile_bytes = budget_only.memory_budget_bytes;
  const std::int64_t tile =
      std::max<std::int64_t>(1, budget_only.TileColumns(batch, static_cast<int>(z.element_size()) * 4));
  const auto accumulate = z.options().dtype(torch::kDouble);
  torch::Tensor total = torch::zeros({}, accumulate);
  torch::Tensor gradient = with_gradient ? torch::zeros_like(z) : torch::Tensor();
  for (std::int64_t first = 0; first < batch; first += tile) {
    const std::int64_t width = std::min(tile, batch - first);
    const torch::Tensor anchors = z.narrow(0, first, width);
    const torch::Tensor anchor_labels = labels.narrow(0, first, width);
    torch::Tensor logits = torch::matmul(anchors, z.t()) * inverse_temperature;  // width x B
    const torch::Tensor rows = torch::arange(width, labels.options());
    const torch::Tensor self_columns = rows + first;
    logits.index_put_({rows, self_columns}, -std::numeric_limits<double>::infinity());
    torch::Tensor positives = anchor_labels.unsqueeze(1).eq(labels.unsqueeze(0));
    positives.index_put_({rows, self_columns}, false);
    const torch::Tensor num_positives = positives.sum(1).to(z.scalar_type());
    const torch::Tensor has_positives = num_positives.gt(0);
    const torch::Tensor inverse_positives =
        torch::where(has_positives, num_positives.reciprocal(), torch::zeros_like(num_positives));
    torch::Tensor log_probability = logits - torch::logsumexp(logits, 1, /*keepdim=*/true);
    // Anchors without positives contribute 0; the anchor's own -inf entry is masked before the sum.
    const torch::Tensor per_anchor =
        -log_probability.masked_fill(positives.logical_not(), 0.0).sum(1) * inverse_positives;
    total += per_anchor.to(torch::kDouble).sum();
    if (with_gradient) {
      // A = d l_i / d sim_i. = softmax - positives / P (rows without positives 0); d value / dZ = (c/tau)(A + A^T) Z.
      torch::Tensor a = log_probability.exp_();
      a.sub_(positives.to(z.scalar_type()) * inverse_positives.unsqueeze(1));
      a.masked_fill_(has_positives.logical_not().unsqueeze(1), 0.0);  // also clears NaN rows (B = 1)
      const double scale = factor * inverse_temperature;
      gradient.narrow(0, first, width).add_(torch::matmul(a, z), scale);
      gradient.add_(torch::matmul(a.t(), anchors), scale);
    }
  }
  return {(total * factor).to(z.scalar_type()), gradient};
}

double DenseSupConBytes(std::int64_t batch_size, torch::ScalarType dtype) {
  const double entries = static_cast<double>(batch_size) * static_cast<double>(batch_size);
  return entries * (4.0 * static_cast<double>(c10::elementSize(dtype)) + 2.0);
}

}  // namespace dissect::train
