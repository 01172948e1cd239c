#include "dissect/train/encoder.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "dissect/theory/check.hpp"
#include "dissect/train/relu_max_pool.hpp"
#include "dissect/train/sync_batch_norm.hpp"

namespace dissect::train {
namespace {

namespace nn = torch::nn;

nn::Conv2d Conv3x3(std::int64_t in, std::int64_t out, std::int64_t stride = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

// CIFAR ResNet BasicBlock: two 3x3 convolutions with batch norm, identity or 1x1-projection shortcut.
class BasicBlockImpl : public nn::Module {
 public:
  BasicBlockImpl(std::int64_t in, std::int64_t out, std::int64_t stride)
      : conv1_(register_module("conv1", Conv3x3(in, out, stride))),
        bn1_(register_module("bn1", SyncBatchNorm2d(out))),
        conv2_(register_module("conv2", Conv3x3(out, out))),
        bn2_(register_module("bn2", SyncBatchNorm2d(out))) {
    if (stride != 1 || in != out) {
      shortcut_ = register_module(
          "shortcut",
          nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)), SyncBatchNorm2d(out)));
    }
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(bn1_(conv1_(x)));
    y = bn2_(conv2_(y));
    return torch::relu(y + (shortcut_ ? shortcut_->forward(x) : x));
  }

 private:
  nn::Conv2d conv1_;
  SyncBatchNorm2d bn1_;
  nn::Conv2d conv2_;
  SyncBatchNorm2d bn2_;
  nn::Sequential shortcut_{nullptr};
};
TORCH_MODULE(BasicBlock);

nn::Sequential MakeMlp(const EncoderOptions& o) {
  const std::int64_t inputs = o.channels * o.height * o.width;
  return nn::Sequential(nn::Flatten(),
                        nn::Linear(inputs, o.hidden),
                        nn::ReLU(),
                        nn::Linear(o.hidden, o.hidden),
                        nn::ReLU(),
                        nn::Linear(o.hidden, o.dim),
                        nn::ReLU());
}

nn::Sequential MakeCnn(const EncoderOptions& o) {
  return nn::Sequential(Conv3x3(o.channels, 32),
                        SyncBatchNorm2d(32),
                        nn::ReLU(),
                        nn::MaxPool2d(2),
                        Conv3x3(32, 64),
                        SyncBatchNorm2d(64),
                        nn::ReLU(),
                        nn::MaxPool2d(2),
                        Conv3x3(64, o.dim),
                        SyncBatchNorm2d(o.dim),
                        nn::ReLU(),
                        nn::AdaptiveAvgPool2d(1),
                        nn::Flatten());
}

// Paper: CIFAR ResNet-18 (3x3 stem, 64 channels, no max-pool, BasicBlocks [2,2,2,2], AvgPool -> h = 512).
nn::Sequential MakeResNet18(const EncoderOptions& o) {
  nn::Sequential net(Conv3x3(o.channels, 64), SyncBatchNorm2d(64), nn::ReLU());
  std::int64_t in = 64;
  for (const std::int64_t out : {64, 128, 256, 512}) {
    const std::int64_t stride = out == 64 ? 1 : 2;
    net->push_back(BasicBlock(in, out, stride));
    net->push_back(BasicBlock(out, out, 1));
    in = out;
  }
  net->push_back(nn::AdaptiveAvgPool2d(1));
  net->push_back(nn::Flatten());
  return net;
}

// A ReLU followed by a 2 x 2 max-pool (the CNN's first two stages): the two are one pass (ReluMaxPool2d), with the
// same numbers. The module list stays as it is, so that parameter names and checkpoints do not change.
bool IsReluMaxPool2(const nn::Sequential& body, std::size_t i) {
  if (i + 1 >= body->size()) return false;
  const auto* relu = body->ptr(i)->as<nn::ReLUImpl>();
  const auto* pool = body->ptr(i + 1)->as<nn::MaxPool2dImpl>();
  if (relu == nullptr || pool == nullptr || relu->options.inplace()) return false;
  const nn::MaxPool2dOptions& o = pool->options;
  const auto all = [](const torch::ExpandingArray<2>& a, std::int64_t v) { return a->at(0) == v && a->at(1) == v; };
  return all(o.kernel_size(), 2) && all(o.stride(), 2) && all(o.padding(), 0) && all(o.dilation(), 1) && !o.ceil_mode();
}

torch::Tensor ForwardSequential(nn::Sequential& body, torch::Tensor x) {
  auto module = body->begin();
  for (std::size_t i = 0; i < body->size(); ++i, ++module) {
    if (IsReluMaxPool2(body, i)) {
      x = ReluMaxPool2d(x);
      ++i;
      ++module;
    } else {
      x = module->forward(x);
    }
  }
  return x;
}

}  // namespace

std::string ToString(Architecture value) { return theory::NameOf(kArchitectureNames, value); }

Architecture ParseArchitecture(std::string_view name) {
  return theory::ParseName(kArchitectureNames, name, "ParseArchitecture", "");
}

std::int64_t DefaultDim(Architecture architecture) { return architecture == Architecture::kResNet18 ? 512 : 128; }

void EncoderOptions::Validate() const {
  const char* where = "EncoderOptions::Validate";
  theory::RequireAtLeast(where, "channels", channels, 1);
  theory::RequireAtLeast(where, "height", height, 1);
  theory::RequireAtLeast(where, "width", width, 1);
  theory::RequireAtLeast(where, "dim", dim, 1);
  theory::RequireAtLeast(where, "hidden", hidden, 1);
  if (architecture == Architecture::kResNet18 && dim != 512) {
    throw std::invalid_argument(fmt::format("{}(): expected dim = 512 for resnet18, got {}", where, dim));
  }
  if (architecture == Architecture::kCnn && (height < 4 || width < 4)) {
    throw std::invalid_argument(
        fmt::format("{}(): expected images of at least 4 x 4 for cnn, got {} x {}", where, height, width));
  }
}

std::string EncoderOptions::Describe() const {
  std::string body;
  switch (architecture) {
    case Architecture::kMlp:
      body = fmt::format("mlp {}-{}-{}-{}", channels * height * width, hidden, hidden, dim);
      break;
    case Architecture::kCnn:
      body = fmt::format("cnn conv{}-32-64-{} h={}", channels, dim, dim);
      break;
    case Architecture::kResNet18:
      body = "resnet18 (CIFAR stem) h=512";
      break;
  }
  return body + (final_linear ? " + final linear (features may be negative)" : " post-ReLU (features >= 0)");
}

EncoderImpl::EncoderImpl(const EncoderOptions& options) : options_(options) {
  options_.Validate();
  switch (options_.architecture) {
    case Architecture::kMlp:
      body_ = MakeMlp(options_);
      break;
    case Architecture::kCnn:
      body_ = MakeCnn(options_);
      break;
    case Architecture::kResNet18:
      body_ = MakeResNet18(options_);
      break;
  }
  register_module("body", body_);
  if (options_.final_linear) final_linear_ = register_module("final_linear", nn::Linear(options_.dim, options_.dim));
}

torch::Tensor EncoderImpl::forward(const torch::Tensor& images) {
  torch::Tensor features = ForwardSequential(body_, images);
  return final_linear_ ? final_linear_->forward(features) : features;
}

}  // namespace dissect::train
