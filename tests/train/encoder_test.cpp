// The encoders: shapes, the paper's ResNet-18, post-ReLU outputs and the final-linear option, seeded initialization.

#include <torch/torch.h>

#include "catch.hpp"
#include "dissect/train/encoder.hpp"
#include "dissect/train/relu_max_pool.hpp"
#include "test_support.hpp"

namespace {

using dissect::test::MessageContains;
namespace train = dissect::train;

std::int64_t NumParameters(train::Encoder& encoder) {
  std::int64_t count = 0;
  for (const auto& p : encoder->parameters()) count += p.numel();
  return count;
}

// Equal bit for bit (NaN equal to the same NaN, -0 apart from +0): the tensors' bits as integers.
bool SameBits(const torch::Tensor& a, const torch::Tensor& b) {
  if (!a.defined() || !b.defined() || a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) return false;
  const auto bits = a.scalar_type() == torch::kDouble ? torch::kLong : torch::kInt;
  return a.contiguous().view(bits).equal(b.contiguous().view(bits));
}

// Activations with what max-pool must break ties on: zeros of both signs, repeated values, NaN.
torch::Tensor AwkwardActivations(torch::IntArrayRef sizes, torch::ScalarType dtype) {
  torch::Tensor x = torch::randn(sizes, torch::TensorOptions().dtype(dtype));
  x = torch::where(torch::rand(sizes) < 0.3, torch::zeros_like(x), x);
  x = torch::where(torch::rand(sizes) < 0.1, torch::full_like(x, -0.0), x);
  x = torch::where(torch::rand(sizes) < 0.1, torch::full_like(x, 0.5), x);
  x.view(-1)[5] = std::numeric_limits<double>::quiet_NaN();
  return x;
}

}  // namespace

TEST_CASE("Encoder: the MLP and the CNN map B x C x H x W images to B x h non-negative features") {
  for (const auto architecture : {train::Architecture::kMlp, train::Architecture::kCnn}) {
    train::EncoderOptions options;
    options.architecture = architecture;
    options.dim = 24;
    train::Encoder encoder(options);
    const torch::Tensor features = encoder->forward(torch::randn({5, 1, 28, 28}));
    CHECK(features.sizes() == torch::IntArrayRef({5, 24}));
    CHECK(features.min().item<float>() >= 0.0F);
  }
}

TEST_CASE("Encoder: the CIFAR ResNet-18 has h = 512 and the 11,168,832 parameters of the paper's network") {
  // 11,173,962 parameters of the CIFAR ResNet-18 minus its 512 x 10 + 10 classifier.
  train::EncoderOptions options;
  options.architecture = train::Architecture::kResNet18;
  options.channels = 3;
  options.height = 32;
  options.width = 32;
  options.dim = 512;
  train::Encoder encoder(options);
  CHECK(NumParameters(encoder) == 11168832);
  encoder->eval();
  const torch::Tensor features = encoder->forward(torch::randn({2, 3, 32, 32}));
  CHECK(features.sizes() == torch::IntArrayRef({2, 512}));
  CHECK(features.min().item<float>() >= 0.0F);
}

TEST_CASE("Encoder: the final linear layer lets features be negative and is named in the description") {
  train::EncoderOptions options;
  options.final_linear = true;
  options.dim = 32;
  torch::manual_seed(1);
  train::Encoder encoder(options);
  CHECK(encoder->forward(torch::randn({16, 1, 28, 28})).min().item<float>() < 0.0F);
  CHECK_THAT(options.Describe(), Catch::Contains("final linear"));
  options.final_linear = false;
  CHECK_THAT(options.Describe(), Catch::Contains("post-ReLU"));
}

TEST_CASE("Encoder: equal torch seeds give equal networks") {
  train::EncoderOptions options;
  options.architecture = train::Architecture::kCnn;
  const torch::Tensor images = torch::randn({3, 1, 28, 28});
  torch::manual_seed(7);
  train::Encoder a(options);
  torch::manual_seed(7);
  train::Encoder b(options);
  CHECK(a->forward(images).equal(b->forward(images)));
}

TEST_CASE("EncoderOptions: impossible sizes and an unknown architecture are refused with the reason") {
  train::EncoderOptions options;
  options.architecture = train::Architecture::kResNet18;
  options.dim = 128;
  REQUIRE_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("dim = 512 for resnet18, got 128"));
  options.architecture = train::Architecture::kMlp;
  options.dim = 0;
  REQUIRE_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("dim >= 1"));
  options.dim = 8;
  options.architecture = train::Architecture::kCnn;
  options.height = 2;
  REQUIRE_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("at least 4 x 4"));
  REQUIRE_THROWS_MATCHES(
      train::ParseArchitecture("vgg"), std::invalid_argument, MessageContains("mlp, cnn or resnet18"));
}

TEST_CASE("ReluMaxPool2d: the values and gradients of relu then max_pool2d bit for bit, ties, -0 and NaN included") {
  torch::manual_seed(11);
  for (const auto dtype : {torch::kFloat, torch::kDouble}) {
    for (const std::vector<std::int64_t>& sizes : {std::vector<std::int64_t>{3, 2, 5, 7},
                                                   std::vector<std::int64_t>{2, 3, 4, 4},
                                                   std::vector<std::int64_t>{1, 1, 2, 3},
                                                   std::vector<std::int64_t>{64, 32, 28, 28}}) {
      const torch::Tensor x = AwkwardActivations(sizes, dtype);
      torch::Tensor grad = torch::randn({sizes[0], sizes[1], sizes[2] / 2, sizes[3] / 2}, x.options());
      grad = torch::where(torch::rand(grad.sizes()) < 0.1, torch::full_like(grad, -0.0), grad);
      const torch::Tensor expected_input = x.clone().requires_grad_(true);
      const torch::Tensor input = x.clone().requires_grad_(true);
      const torch::Tensor expected = torch::max_pool2d(torch::relu(expected_input), 2);
      const torch::Tensor fused = train::ReluMaxPool2d(input);
      CHECK(SameBits(fused, expected));
      expected.backward(grad);
      fused.backward(grad);
      CHECK(SameBits(input.grad(), expected_input.grad()));
      torch::NoGradGuard no_grad;
      CHECK(SameBits(train::ReluMaxPool2d(x), expected.detach()));
    }
  }
  // Channels-last input goes through LibTorch's own two operations.
  const torch::Tensor x = torch::randn({2, 3, 6, 6}).contiguous(torch::MemoryFormat::ChannelsLast);
  CHECK(SameBits(train::ReluMaxPool2d(x), torch::max_pool2d(torch::relu(x), 2)));
}

TEST_CASE("Encoder: the CNN's fused ReLU and max-pool give the features and gradients of its modules one by one") {
  train::EncoderOptions options;
  options.architecture = train::Architecture::kCnn;
  options.dim = 16;
  torch::manual_seed(5);
  train::Encoder fused(options);
  torch::manual_seed(5);
  train::Encoder modules(options);
  const torch::Tensor images = torch::randn({8, 1, 28, 28});
  const torch::Tensor weights = torch::randn({8, 16});
  auto* body = modules->children().at(0)->as<torch::nn::SequentialImpl>();
  REQUIRE(body != nullptr);
  torch::Tensor expected = images;
  for (auto& module : *body) expected = module.forward(expected);
  const torch::Tensor features = fused->forward(images);
  CHECK(SameBits(features, expected));
  (features * weights).sum().backward();
  (expected * weights).sum().backward();
  const auto fused_parameters = fused->named_parameters(), module_parameters = modules->named_parameters();
  REQUIRE(fused_parameters.size() == module_parameters.size());
  for (std::size_t i = 0; i < fused_parameters.size(); ++i) {
    INFO(fused_parameters[i].key());
    CHECK(SameBits(fused_parameters[i].value().grad(), module_parameters[i].value().grad()));
  }
}
