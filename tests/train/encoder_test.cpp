// The encoders: shapes, the paper's ResNet-18, post-ReLU outputs and the final-linear option, seeded initialization.

#include <torch/torch.h>

#include "catch.hpp"
#include "dissect/train/encoder.hpp"
#include "test_support.hpp"

namespace {

using dissect::test::MessageContains;
namespace train = dissect::train;

std::int64_t NumParameters(train::Encoder& encoder) {
  std::int64_t count = 0;
  for (const auto& p : encoder->parameters()) count += p.numel();
  return count;
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
