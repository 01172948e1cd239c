#include "dissect/train/data_pipeline.hpp"

#include <fmt/format.h>

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace dissect::train {
namespace {

constexpr std::int64_t kCropPadding = 4;  // docs/theory.md: random crop with padding 4

}  // namespace

std::string ToString(Augmentation value) { return theory::NameOf(kAugmentationNames, value); }

Augmentation ParseAugmentation(std::string_view name) {
  return theory::ParseName(kAugmentationNames, name, "ParseAugmentation", "");
}

Normalization ComputeNormalization(const ImageSet& images) {
  if (images.num_images < 1 || images.ImageSize() < 1) {
    throw std::invalid_argument(fmt::format("ComputeNormalization(): '{}' has no pixels", images.name));
  }
  const std::int64_t plane = images.height * images.width;
  Normalization result;
  for (std::int64_t c = 0; c < images.channels; ++c) {
    // Integer sums are exact: N * H * W * 255^2 stays far below 2^63 for any real data set.
    std::uint64_t sum = 0, sum_squares = 0;
    for (std::int64_t i = 0; i < images.num_images; ++i) {
      const std::uint8_t* p = images.pixels.data() + (i * images.channels + c) * plane;
      for (std::int64_t j = 0; j < plane; ++j) {
        sum += p[j];
        sum_squares += static_cast<std::uint64_t>(p[j]) * p[j];
      }
    }
    const double count = static_cast<double>(images.num_images * plane);
    const double mean = static_cast<double>(sum) / count;
    const double variance = static_cast<double>(sum_squares) / count - mean * mean;
    if (!(variance > 0.0)) {
      throw std::invalid_argument(
          fmt::format("ComputeNormalization(): channel {} of '{}' is constant", c, images.name));
    }
    result.mean.push_back(mean / 255.0);
    result.std.push_back(std::sqrt(variance) / 255.0);
  }
  return result;
}

DataPipeline::DataPipeline(const ImageSet& images,
                           Normalization normalization,
                           Augmentation augmentation,
                           std::uint64_t seed,
                           torch::Device device)
    : num_classes_(images.num_classes), augmentation_(augmentation), generator_(seed), device_(device) {
  if (images.num_images < 1) {
    throw std::invalid_argument(fmt::format("DataPipeline(): '{}' has no images", images.name));
  }
  if (static_cast<std::int64_t>(normalization.mean.size()) != images.channels ||
      normalization.std.size() != normalization.mean.size()) {
    throw std::invalid_argument(fmt::format(
        "DataPipeline(): expected a normalization of {} channels, got {}", images.channels, normalization.mean.size()));
  }
  pixels_ = torch::from_blob(const_cast<std::uint8_t*>(images.pixels.data()),
                             {images.num_images, images.channels, images.height, images.width},
                             torch::kUInt8)
                .clone();
  labels_ =
      torch::from_blob(const_cast<std::int64_t*>(images.labels.data()), {images.num_images}, torch::kLong).clone();
  device_labels_ = labels_.to(device_);
  std::vector<float> scale, shift;
  for (std::size_t c = 0; c < normalization.mean.size(); ++c) {
    scale.push_back(static_cast<float>(1.0 / (255.0 * normalization.std[c])));
    shift.push_back(static_cast<float>(normalization.mean[c] / normalization.std[c]));
  }
  const std::int64_t channels = images.channels;
  scale_ = torch::tensor(scale).view({1, channels, 1, 1}).to(device_);
  shift_ = torch::tensor(shift).view({1, channels, 1, 1}).to(device_);
}

torch::Tensor DataPipeline::Normalize(const torch::Tensor& pixels) const {
  // (x / 255 - mean) / std, computed as x * scale - shift on the device.
  return pixels.to(device_).to(torch::kFloat).mul_(scale_).sub_(shift_);
}

torch::Tensor DataPipeline::CropFlip(const torch::Tensor& pixels, std::int64_t first, std::int64_t total) {
  const std::int64_t batch = pixels.size(0), height = pixels.size(2), width = pixels.size(3);
  const std::int64_t span = 2 * kCropPadding + 1;
  // One gather for the whole batch: row index dy + r, column index dx + c (or dx + W - 1 - c when flipped). The
  // draws run over all `total` images of the batch, so each part gets the augmentation the whole batch would.
  std::vector<std::int64_t> rows(static_cast<std::size_t>(batch * height));
  std::vector<std::int64_t> cols(static_cast<std::size_t>(batch * width));
  for (std::int64_t i = 0; i < total; ++i) {
    const auto dy = static_cast<std::int64_t>(generator_() % span);
    const auto dx = static_cast<std::int64_t>(generator_() % span);
    const bool flip = (generator_() & 1U) != 0;
    const std::int64_t b = i - first;
    if (b < 0 || b >= batch) continue;
    for (std::int64_t r = 0; r < height; ++r) rows[static_cast<std::size_t>(b * height + r)] = dy + r;
    for (std::int64_t c = 0; c < width; ++c) {
      cols[static_cast<std::size_t>(b * width + c)] = dx + (flip ? width - 1 - c : c);
    }
  }
  const torch::Tensor padded =
      torch::constant_pad_nd(pixels, {kCropPadding, kCropPadding, kCropPadding, kCropPadding}, 0)
          .permute({0, 2, 3, 1});  // B x H' x W' x C
  const torch::Tensor b_index = torch::arange(batch, torch::kLong).view({batch, 1, 1});
  const torch::Tensor r_index = torch::tensor(rows).view({batch, height, 1});
  const torch::Tensor c_index = torch::tensor(cols).view({batch, 1, width});
  return padded.index({b_index, r_index, c_index}).permute({0, 3, 1, 2}).contiguous();
}

Batch DataPipeline::MakeBatch(const std::vector<std::int64_t>& indices) {
  return MakeBatch(indices, 0, static_cast<std::int64_t>(indices.size()));
}

Batch DataPipeline::MakeBatch(const std::vector<std::int64_t>& indices, std::int64_t first, std::int64_t count) {
  const auto total = static_cast<std::int64_t>(indices.size());
  if (first < 0 || count < 0 || first + count > total) {
    throw std::invalid_argument(
        fmt::format("DataPipeline::MakeBatch(): expected a part [first, first + count) of the {} indices, got [{}, {})",
                    total,
                    first,
                    first + count));
  }
  const torch::Tensor index =
      torch::tensor(std::vector<std::int64_t>(indices.begin() + first, indices.begin() + first + count), torch::kLong);
  torch::Tensor pixels = pixels_.index_select(0, index);
  if (augmentation_ == Augmentation::kCropFlip) pixels = CropFlip(pixels, first, total);
  return {Normalize(pixels), labels_.index_select(0, index).to(device_)};
}

torch::Tensor DataPipeline::Slice(std::int64_t start, std::int64_t count) const {
  return Normalize(pixels_.narrow(0, start, count));
}

void DataPipeline::SetLabels(const std::vector<std::int64_t>& labels) {
  if (static_cast<std::int64_t>(labels.size()) != size()) {
    throw std::invalid_argument(
        fmt::format("DataPipeline::SetLabels(): expected {} labels, got {}", size(), labels.size()));
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes_) {
      throw std::invalid_argument(fmt::format(
          "DataPipeline::SetLabels(): label {} at index {} is outside [0, {})", labels[i], i, num_classes_));
    }
  }
  labels_ = torch::tensor(labels, torch::kLong);
  device_labels_ = labels_.to(device_);
}

std::string DataPipeline::SaveState() const {
  std::ostringstream out;
  out << generator_;
  return out.str();
}

void DataPipeline::LoadState(std::string_view state) {
  std::istringstream in{std::string(state)};
  std::mt19937_64 generator;
  in >> generator;
  if (!in) throw std::invalid_argument("DataPipeline::LoadState(): corrupt augmentation state");
  generator_ = generator;
}

}  // namespace dissect::train
