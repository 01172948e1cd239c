#pragma once
// Encoders trained in the paper's experiments (docs/theory.md, Experiments of the paper): an MLP, a small CNN and the
// CIFAR ResNet-18. Each maps a batch of images (B x C x H x W, float) to representations (B x h). By default the
// output is post-ReLU (non-negative), as in the paper; `final_linear` appends a linear layer h -> h so that
// features can be negative and the exact simplex is reachable.

#include <torch/torch.h>
#include <array>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>
#include "dissect/theory/enum_names.hpp"

namespace dissect::train {

enum class Architecture {
  kMlp,       // flatten, Linear(C*H*W, width), ReLU, Linear(width, width), ReLU, Linear(width, h), ReLU
  kCnn,       // 3 x [conv 3x3, BatchNorm, ReLU] with 32, 64, h channels, max-pool 2 after the first two, mean pool
  kResNet18,  // CIFAR ResNet-18: 3x3 stem (64), no max-pool, BasicBlocks [2,2,2,2], widths 64..512, mean pool
};
// The names of Architecture, for ToString, ParseArchitecture and the command line's choices.
inline constexpr std::array<theory::EnumName<Architecture>, 3> kArchitectureNames = {
    {{Architecture::kMlp, "mlp"}, {Architecture::kCnn, "cnn"}, {Architecture::kResNet18, "resnet18"}}};

std::string ToString(Architecture architecture);  // "mlp", "cnn", "resnet18"
// Throws std::invalid_argument listing the accepted names.
Architecture ParseArchitecture(std::string_view name);

struct EncoderOptions {
  // Which network.
  Architecture architecture = Architecture::kMlp;
  // Input images: channels C, height H, width W.
  std::int64_t channels = 1;
  std::int64_t height = 28;
  std::int64_t width = 28;
  // Representation dimension h. ResNet-18 has h = 512 by construction (other values are refused).
  std::int64_t dim = 128;
  // Hidden width of the MLP (ignored by the others).
  std::int64_t hidden = 256;
  // Append Linear(h, h) after the last ReLU (features may be negative); the paper's networks have none.
  bool final_linear = false;

  // Throws std::invalid_argument naming the first bad field (sizes must be positive, ResNet-18 needs dim 512).
  void Validate() const;
  // One line naming the network, e.g. "mlp 784-256-256-128 post-ReLU" or "resnet18 h=512 + final linear".
  std::string Describe() const;
};

// Default representation dimension of an architecture (128 for the MLP and the CNN, 512 for ResNet-18).
std::int64_t DefaultDim(Architecture architecture);

class EncoderImpl : public torch::nn::Module {
 public:
  explicit EncoderImpl(const EncoderOptions& options);
  // images: B x C x H x W (float). Returns B x h.
  torch::Tensor forward(const torch::Tensor& images);
  const EncoderOptions& options() const { return options_; }

 private:
  EncoderOptions options_;
  torch::nn::Sequential body_{nullptr};
  torch::nn::Linear final_linear_{nullptr};
};
TORCH_MODULE(Encoder);

}  // namespace dissect::train
