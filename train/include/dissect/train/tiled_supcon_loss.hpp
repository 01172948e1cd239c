#pragma once
// Paper: SC loss (docs/theory.md) at any batch size in bounded memory: the exact loss and its gradient from tiles of
// the similarity matrix, as a LibTorch autograd function. The dense formulation (losses.hpp) holds several B x B
// matrices (a batch of 32,768 in float32: about 4 GB each); this one holds a B x tile block and the B x h gradient.

#include <torch/torch.h>
#include <array>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "dissect/theory/enum_names.hpp"
#include "dissect/theory/supcon_loss.hpp"
#include "dissect/theory/temperature.hpp"

namespace dissect::train {

// How training computes the SC loss of a batch.
enum class SupConAlgorithm {
  kAuto,   // "auto": tiled beyond the memory budget of the dense B x B matrices or, on the CPU, from B = 2,048 on
  kDense,  // "dense": SupConLoss of losses.hpp (autograd through B x B matrices)
  kTiled,  // "tiled": TiledSupConLoss
};
// The names of SupConAlgorithm, for ToString, ParseSupConAlgorithm and the command line's choices.
inline constexpr std::array<theory::EnumName<SupConAlgorithm>, 3> kSupConAlgorithmNames = {
    {{SupConAlgorithm::kAuto, "auto"}, {SupConAlgorithm::kDense, "dense"}, {SupConAlgorithm::kTiled, "tiled"}}};

std::string ToString(SupConAlgorithm algorithm);  // "auto", "dense", "tiled"
// Throws std::invalid_argument listing the accepted names.
SupConAlgorithm ParseSupConAlgorithm(std::string_view name);

struct TiledSupConOptions {
  // tau: the logits are <z_i, z_j> / tau.
  theory::Temperature temperature = theory::Temperature::FromTemperature(0.1);
  // Normalization of the sum over anchors, as in theory/.
  theory::SupConReduction reduction = theory::SupConReduction::kBatchMean;
  // base_tau of kReference (the factor tau/base_tau); unset means base_tau = tau, like losses.hpp. Ignored by the
  // other reductions.
  std::optional<double> base_temperature;
  // Bytes for the similarity tile (B x tile scalars); the tile has at least 64 columns.
  double memory_budget_bytes = 256.0 * 1024 * 1024;

  // Throws std::invalid_argument for a budget or a base temperature that is not finite and > 0.
  void Validate() const;
};

// The SC loss of representations (B x h) with labels (B int64 >= 0) and, when with_gradient, d loss /
// d representations (B x h), without an autograd graph: CPU float32/float64 tensors through theory::SupConLoss,
// tensors on other devices (CUDA) or of other dtypes through TiledSupConLossByTorchOps. What TiledSupConLoss runs,
// for callers that build their own autograd node (the Python module). Throws as TiledSupConLoss does.
std::pair<torch::Tensor, torch::Tensor> TiledSupConLossAndGradient(const torch::Tensor& representations,
                                                                   const torch::Tensor& labels,
                                                                   const TiledSupConOptions& options,
                                                                   bool with_gradient);

// The SC loss of representations (B x h, float32 or float64, not normalized here) with labels (B int64 >= 0), equal
// to SupConLoss of losses.hpp (1e-12 relative in float64, 1e-5 in float32; tested) and differentiable once with
// respect to the representations. Value and gradient come from one sweep over the tiles (the gradient is computed
// in forward when the representations require it, kept as B x h, and scaled by the incoming gradient in backward),
// so no tile is stored or recomputed. CPU tensors run theory::SupConLoss (BLAS, OpenMP); tensors on other devices
// (CUDA) run the same tiling in torch operations on that device. Memory O(B * tile + B * h).
// Throws std::invalid_argument for mismatched shapes, a non-floating dtype, negative labels or non-finite entries.
torch::Tensor TiledSupConLoss(const torch::Tensor& representations,
                              const torch::Tensor& labels,
                              const TiledSupConOptions& options);

// The same computation in torch operations on any device (what TiledSupConLoss runs off the CPU): the loss and,
// when with_gradient, d loss / d representations (B x h); no autograd graph. Exposed so that tests check it on
// the CPU against the theory kernel.
std::pair<torch::Tensor, torch::Tensor> TiledSupConLossByTorchOps(const torch::Tensor& representations,
                                                                  const torch::Tensor& labels,
                                                                  const TiledSupConOptions& options,
                                                                  bool with_gradient);

// Bytes the dense formulation holds at its peak for a batch of batch_size in dtype: four B x B matrices of dtype
// (logits, their masked copy, the log-probabilities and a gradient) plus two boolean ones (self and positives).
double DenseSupConBytes(std::int64_t batch_size, torch::ScalarType dtype);

}  // namespace dissect::train
