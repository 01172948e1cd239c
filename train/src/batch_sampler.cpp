#include "dissect/train/batch_sampler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "dissect/theory/check.hpp"

namespace dissect::train {

std::string ToString(BatchSampling value) { return theory::NameOf(kBatchSamplingNames, value); }

BatchSampling ParseBatchSampling(std::string_view name) {
  return theory::ParseName(kBatchSamplingNames, name, "ParseBatchSampling", "");
}

BatchSampler::BatchSampler(std::int64_t num_items, std::int64_t batch_size, BatchSampling sampling, std::uint64_t seed)
    : num_items_(num_items), batch_size_(batch_size), sampling_(sampling), generator_(seed) {
  theory::RequireAtLeast("BatchSampler", "num_items", num_items, 1);
  theory::RequireAtLeast("BatchSampler", "batch_size", batch_size, 1);
  if (sampling_ == BatchSampling::kShuffledEpochs) Reshuffle();
}

void BatchSampler::Reshuffle() {
  permutation_.resize(static_cast<std::size_t>(num_items_));
  std::iota(permutation_.begin(), permutation_.end(), std::int64_t{0});
  // Fisher-Yates with an explicit uniform draw: std::shuffle's use of the generator is implementation-defined.
  for (std::int64_t i = num_items_ - 1; i > 0; --i) {
    const auto j = static_cast<std::int64_t>(generator_() % static_cast<std::uint64_t>(i + 1));
    std::swap(permutation_[static_cast<std::size_t>(i)], permutation_[static_cast<std::size_t>(j)]);
  }
  position_ = 0;
}

std::vector<std::int64_t> BatchSampler::Next() {
  std::vector<std::int64_t> batch(static_cast<std::size_t>(batch_size_));
  for (auto& index : batch) {
    if (sampling_ == BatchSampling::kIidWithReplacement) {
      // 64-bit draws modulo N: the bias is below N / 2^64, and the sequence does not depend on the standard library.
      index = static_cast<std::int64_t>(generator_() % static_cast<std::uint64_t>(num_items_));
    } else {
      if (position_ == num_items_) Reshuffle();
      index = permutation_[static_cast<std::size_t>(position_++)];
    }
  }
  return batch;
}

std::string BatchSampler::SaveState() const {
  std::ostringstream out;
  out << "batch_sampler 1 " << num_items_ << ' ' << batch_size_ << ' ' << ToString(sampling_) << ' ' << position_ << ' '
      << permutation_.size() << '\n'
      << generator_ << '\n';
  for (const std::int64_t p : permutation_) out << p << ' ';
  return out.str();
}

void BatchSampler::LoadState(std::string_view state) {
  std::istringstream in{std::string(state)};
  std::string tag, sampling;
  int version = 0;
  std::int64_t num_items = 0, batch_size = 0, position = 0;
  std::size_t permutation_size = 0;
  in >> tag >> version >> num_items >> batch_size >> sampling >> position >> permutation_size;
  if (!in || tag != "batch_sampler" || version != 1) {
    throw std::invalid_argument("BatchSampler::LoadState(): not a batch sampler state");
  }
  if (num_items != num_items_ || batch_size != batch_size_ || sampling != ToString(sampling_)) {
    throw std::invalid_argument(fmt::format(
        "BatchSampler::LoadState(): the state is of a sampler of {} items, batch {}, {}; this one has {}, {}, {}",
        num_items,
        batch_size,
        sampling,
        num_items_,
        batch_size_,
        ToString(sampling_)));
  }
  std::mt19937_64 generator;
  in >> generator;
  std::vector<std::int64_t> permutation(permutation_size);
  for (auto& p : permutation) in >> p;
  const bool consistent =
      sampling_ == BatchSampling::kShuffledEpochs
          ? permutation_size == static_cast<std::size_t>(num_items_) && position >= 0 && position <= num_items_
          : permutation_size == 0;
  if (!in || !consistent ||
      std::any_of(permutation.begin(), permutation.end(), [&](std::int64_t p) { return p < 0 || p >= num_items_; })) {
    throw std::invalid_argument("BatchSampler::LoadState(): corrupt batch sampler state");
  }
  generator_ = generator;
  permutation_ = std::move(permutation);
  position_ = position;
}

}  // namespace dissect::train
