#include "dissect/train/label_noise.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

namespace dissect::train {

std::int64_t NumFlipped(double fraction, std::int64_t num_labels) {
  if (!(fraction >= 0.0 && fraction <= 1.0)) {
    throw std::invalid_argument(fmt::format("NumFlipped(): expected a fraction in [0, 1], got {}", fraction));
  }
  const double product = fraction * static_cast<double>(num_labels);
  return static_cast<std::int64_t>(std::floor(std::round(product * 1e9) / 1e9));
}

FlippedLabels FlipLabels(const std::vector<std::int64_t>& labels,
                         int num_classes,
                         double fraction,
                         std::uint64_t seed) {
  if (num_classes < 2) {
    throw std::invalid_argument(fmt::format("FlipLabels(): expected num_classes >= 2, got {}", num_classes));
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      throw std::invalid_argument(
          fmt::format("FlipLabels(): label {} at index {} is outside [0, {})", labels[i], i, num_classes));
    }
  }
  const auto n = static_cast<std::int64_t>(labels.size());
  const std::int64_t count = NumFlipped(fraction, n);
  std::mt19937_64 generator(seed);
  // A partial Fisher-Yates shuffle picks `count` distinct positions uniformly, each with its class shift drawn right
  // after it: step i depends on steps before i only, so the flips of a smaller fraction are a prefix of a larger
  // one's (nested, with the same new labels). Draws by modulo of 64-bit numbers keep the sequence independent of the
  // standard library's distributions.
  std::vector<std::int64_t> order(labels.size());
  std::iota(order.begin(), order.end(), std::int64_t{0});
  FlippedLabels result;
  result.labels = labels;
  for (std::int64_t i = 0; i < count; ++i) {
    const auto j = i + static_cast<std::int64_t>(generator() % static_cast<std::uint64_t>(n - i));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
    const auto shift = 1 + static_cast<std::int64_t>(generator() % static_cast<std::uint64_t>(num_classes - 1));
    auto& label = result.labels[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])];
    label = (label + shift) % num_classes;
  }
  result.flipped_indices.assign(order.begin(), order.begin() + count);
  std::sort(result.flipped_indices.begin(), result.flipped_indices.end());
  return result;
}

}  // namespace dissect::train
