#pragma once
// From uint8 images to normalized float batches on the training device: normalization from train-set statistics and
// augmentation "none" or "crop+flip" (docs/theory.md, Experiments: random crop with padding 4, horizontal flip), drawn
// from a seeded generator whose state a checkpoint saves.

#include <torch/torch.h>
#include <array>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dissect/theory/enum_names.hpp"
#include "dissect/train/image_set.hpp"

namespace dissect::train {

enum class Augmentation {
  kNone,      // "none"
  kCropFlip,  // "crop+flip": zero-pad by 4, random crop back to H x W, flip left-right with probability 1/2
};
// The names of Augmentation, for ToString, ParseAugmentation and the command line's choices.
inline constexpr std::array<theory::EnumName<Augmentation>, 2> kAugmentationNames = {
    {{Augmentation::kNone, "none"}, {Augmentation::kCropFlip, "crop+flip"}}};

std::string ToString(Augmentation augmentation);  // "none", "crop+flip"
// Throws std::invalid_argument listing the accepted names.
Augmentation ParseAugmentation(std::string_view name);

// Per-channel mean and standard deviation of the pixels scaled to [0, 1].
struct Normalization {
  std::vector<double> mean;
  std::vector<double> std;
};

// Statistics of a (training) set. Throws std::invalid_argument for an empty set or a channel of constant pixels.
Normalization ComputeNormalization(const ImageSet& images);

struct Batch {
  torch::Tensor images;  // B x C x H x W float, normalized, on the device
  torch::Tensor labels;  // B int64, on the device
};

class DataPipeline {
 public:
  // Keeps the pixels (uint8, on the CPU) and labels of `images`. Throws std::invalid_argument for an empty set or
  // a normalization with another channel count.
  DataPipeline(const ImageSet& images,
               Normalization normalization,
               Augmentation augmentation,
               std::uint64_t seed,
               torch::Device device);

  // The images with the given indices (augmented) and their labels.
  Batch MakeBatch(const std::vector<std::int64_t>& indices);
  // The part [first, first + count) of that batch, with the augmentation the whole batch gets (the generator
  // advances over all of `indices`): the parts that W data-parallel ranks make form the one-process batch. Throws
  // std::invalid_argument for a part outside the indices.
  Batch MakeBatch(const std::vector<std::int64_t>& indices, std::int64_t first, std::int64_t count);
  // Images [start, start + count) without augmentation, normalized, on the device (evaluation).
  torch::Tensor Slice(std::int64_t start, std::int64_t count) const;
  // All labels, on the device.
  const torch::Tensor& labels() const { return device_labels_; }
  // Replaces the labels (e.g. flipped labels of the noise experiment); values in [0, K) of the same count.
  void SetLabels(const std::vector<std::int64_t>& labels);
  std::int64_t size() const { return pixels_.size(0); }

  // The augmentation generator's state as text, and its inverse (throws std::invalid_argument when corrupt).
  std::string SaveState() const;
  void LoadState(std::string_view state);

 private:
  torch::Tensor Normalize(const torch::Tensor& pixels) const;
  // Augments `pixels`, the images [first, first + B) of a batch of `total`.
  torch::Tensor CropFlip(const torch::Tensor& pixels, std::int64_t first, std::int64_t total);

  torch::Tensor pixels_;         // N x C x H x W uint8, CPU
  torch::Tensor labels_;         // N int64, CPU
  torch::Tensor device_labels_;  // N int64, device
  torch::Tensor scale_;          // 1 x C x 1 x 1: 1 / (255 std)
  torch::Tensor shift_;          // 1 x C x 1 x 1: mean / std
  int num_classes_;
  Augmentation augmentation_;
  std::mt19937_64 generator_;
  torch::Device device_;
};

}  // namespace dissect::train
