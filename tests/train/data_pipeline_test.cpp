// From uint8 images to normalized batches: statistics, normalization, crop+flip and its resumable generator.

#include <torch/torch.h>

#include <cmath>
#include <set>
#include <tuple>

#include "catch.hpp"
#include "dissect/train/data_pipeline.hpp"
#include "test_support.hpp"

namespace {

using dissect::test::MessageContains;
namespace train = dissect::train;

// N images of 2 x 5 x 6 with varied pixels and labels i mod 3.
train::ImageSet SmallSet(std::int64_t n) {
  train::ImageSet set;
  set.name = "small";
  set.num_images = n;
  set.channels = 2;
  set.height = 5;
  set.width = 6;
  set.num_classes = 3;
  for (std::int64_t i = 0; i < n * set.ImageSize(); ++i)
    set.pixels.push_back(static_cast<std::uint8_t>((i * 37 + 11) % 256));
  for (std::int64_t i = 0; i < n; ++i) set.labels.push_back(i % 3);
  return set;
}

// The normalized image i of `set`, zero-padded (in pixel space) by 4, as a C x (H+8) x (W+8) double tensor.
torch::Tensor PaddedReference(const train::ImageSet& set, const train::Normalization& norm, std::int64_t i) {
  torch::Tensor image = torch::zeros({set.channels, set.height + 8, set.width + 8}, torch::kDouble);
  for (std::int64_t c = 0; c < set.channels; ++c) {
    for (std::int64_t r = 0; r < set.height + 8; ++r) {
      for (std::int64_t col = 0; col < set.width + 8; ++col) {
        const bool inside = r >= 4 && r < set.height + 4 && col >= 4 && col < set.width + 4;
        const double pixel = inside ? set.pixels[static_cast<std::size_t>(
                                          ((i * set.channels + c) * set.height + r - 4) * set.width + col - 4)]
                                    : 0.0;
        image[c][r][col] = (pixel / 255.0 - norm.mean[c]) / norm.std[c];
      }
    }
  }
  return image;
}

}  // namespace

TEST_CASE("ComputeNormalization: per-channel mean and standard deviation of the pixels in [0, 1]") {
  const train::ImageSet set = SmallSet(7);
  const train::Normalization norm = train::ComputeNormalization(set);
  const std::int64_t plane = set.height * set.width;
  for (std::int64_t c = 0; c < 2; ++c) {
    double sum = 0.0, sum_squares = 0.0;
    for (std::int64_t i = 0; i < 7; ++i) {
      for (std::int64_t j = 0; j < plane; ++j) {
        const double x = set.pixels[static_cast<std::size_t>((i * 2 + c) * plane + j)] / 255.0;
        sum += x;
        sum_squares += x * x;
      }
    }
    const double mean = sum / (7.0 * plane);
    CHECK(norm.mean[c] == Approx(mean).epsilon(1e-12));
    CHECK(norm.std[c] == Approx(std::sqrt(sum_squares / (7.0 * plane) - mean * mean)).epsilon(1e-10));
  }
  train::ImageSet constant = set;
  std::fill(constant.pixels.begin(), constant.pixels.end(), 9);
  REQUIRE_THROWS_MATCHES(train::ComputeNormalization(constant), std::invalid_argument, MessageContains("constant"));
}

TEST_CASE("DataPipeline: without augmentation a batch is the normalized images and labels in index order") {
  const train::ImageSet set = SmallSet(6);
  const train::Normalization norm = train::ComputeNormalization(set);
  train::DataPipeline pipeline(set, norm, train::Augmentation::kNone, 0, torch::kCPU);
  const train::Batch batch = pipeline.MakeBatch({4, 1, 4});
  REQUIRE(batch.images.sizes() == torch::IntArrayRef({3, 2, 5, 6}));
  CHECK(batch.labels.equal(torch::tensor({1, 1, 1}, torch::kLong)));
  const std::vector<std::int64_t> order = {4, 1, 4};
  for (std::size_t b = 0; b < order.size(); ++b) {
    const torch::Tensor expected = PaddedReference(set, norm, order[b]).narrow(1, 4, 5).narrow(2, 4, 6);
    CHECK(torch::allclose(batch.images[static_cast<std::int64_t>(b)].to(torch::kDouble), expected, 1e-5, 1e-5));
  }
  CHECK(torch::allclose(pipeline.Slice(1, 1)[0], batch.images[1]));
}

TEST_CASE("DataPipeline: crop+flip gives a crop of the zero-padded image, flipped or not, with every offset") {
  const train::ImageSet set = SmallSet(2);
  const train::Normalization norm = train::ComputeNormalization(set);
  train::DataPipeline pipeline(set, norm, train::Augmentation::kCropFlip, 9, torch::kCPU);
  std::set<std::tuple<int, int, bool>> seen;
  for (int round = 0; round < 200; ++round) {
    const train::Batch batch = pipeline.MakeBatch({0, 1});
    for (std::int64_t b = 0; b < 2; ++b) {
      const torch::Tensor padded = PaddedReference(set, norm, b);
      const torch::Tensor got = batch.images[b].to(torch::kDouble);
      bool found = false;
      for (int dy = 0; dy <= 8 && !found; ++dy) {
        for (int dx = 0; dx <= 8 && !found; ++dx) {
          const torch::Tensor crop = padded.narrow(1, dy, 5).narrow(2, dx, 6);
          for (const bool flip : {false, true}) {
            if (torch::allclose(got, flip ? crop.flip({2}) : crop, 1e-5, 1e-5)) {
              seen.insert({dy, dx, flip});
              found = true;
              break;
            }
          }
        }
      }
      CHECK(found);
    }
  }
  // 400 draws over 81 offsets x 2 flips: both flips and offsets at both extremes occur.
  CHECK(seen.size() > 100);
  CHECK(seen.count({0, 0, false}) + seen.count({0, 0, true}) > 0);
  CHECK(seen.count({8, 8, false}) + seen.count({8, 8, true}) > 0);
}

TEST_CASE("DataPipeline: a pipeline loaded from a saved state augments as the original does next") {
  const train::ImageSet set = SmallSet(4);
  const train::Normalization norm = train::ComputeNormalization(set);
  train::DataPipeline original(set, norm, train::Augmentation::kCropFlip, 1, torch::kCPU);
  original.MakeBatch({0, 1, 2});
  train::DataPipeline restored(set, norm, train::Augmentation::kCropFlip, 2, torch::kCPU);
  restored.LoadState(original.SaveState());
  for (int i = 0; i < 5; ++i)
    CHECK(restored.MakeBatch({3, 2, 1, 0}).images.equal(original.MakeBatch({3, 2, 1, 0}).images));
  REQUIRE_THROWS_MATCHES(restored.LoadState("x"), std::invalid_argument, MessageContains("corrupt"));
}

TEST_CASE("DataPipeline: replaced labels must be one per image and inside 0..K-1") {
  const train::ImageSet set = SmallSet(3);
  train::DataPipeline pipeline(set, train::ComputeNormalization(set), train::Augmentation::kNone, 0, torch::kCPU);
  pipeline.SetLabels({2, 2, 0});
  CHECK(pipeline.MakeBatch({0, 2}).labels.equal(torch::tensor({2, 0}, torch::kLong)));
  REQUIRE_THROWS_MATCHES(
      pipeline.SetLabels({0, 1}), std::invalid_argument, MessageContains("expected 3 labels, got 2"));
  REQUIRE_THROWS_MATCHES(pipeline.SetLabels({0, 3, 1}), std::invalid_argument, MessageContains("label 3 at index 1"));
  REQUIRE_THROWS_MATCHES(train::ParseAugmentation("flip"), std::invalid_argument, MessageContains("none or crop+flip"));
}
