#pragma once
// The first images of Debian's Fashion-MNIST (dataset-fashion-mnist), for the train/ suites: read from disk once per
// test binary and subset size, so that many short runs share one load.

#include <cstdint>
#include <map>
#include <utility>

#include "dissect/train/image_set.hpp"

namespace dissect::test {

// The first num_train training and num_test test images (and labels) of Fashion-MNIST.
inline const train::DataSplit& FashionMnistSubset(std::int64_t num_train, std::int64_t num_test) {
  static std::map<std::pair<std::int64_t, std::int64_t>, train::DataSplit> cache;
  const auto key = std::make_pair(num_train, num_test);
  auto found = cache.find(key);
  if (found != cache.end()) return found->second;
  train::DataSplit split = train::LoadIdxDirectory(DISSECT_FASHION_MNIST_DIR, "fashion-mnist");
  const auto take = [](train::ImageSet& set, std::int64_t n) {
    set.num_images = n;
    set.pixels.resize(static_cast<std::size_t>(n * set.ImageSize()));
    set.labels.resize(static_cast<std::size_t>(n));
  };
  take(split.train, num_train);
  take(split.test, num_test);
  return cache.emplace(key, std::move(split)).first->second;
}

}  // namespace dissect::test
