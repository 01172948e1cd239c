#pragma once
// How training batches are drawn (docs/theory.md, Experiments: "batch 256 drawn i.i.d. with replacement (no epochs)"),
// seeded and with a state that a checkpoint saves, so a resumed run draws exactly the batches of an uninterrupted one.

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>
#include "dissect/theory/enum_names.hpp"

namespace dissect::train {

enum class BatchSampling {
  kIidWithReplacement,  // "iid": each index uniform on [0, N), independently (the paper)
  kShuffledEpochs,      // "epochs": a fresh permutation per epoch, batches in its order (a partial batch wraps over)
};
// The names of BatchSampling, for ToString, ParseBatchSampling and the command line's choices.
inline constexpr std::array<theory::EnumName<BatchSampling>, 2> kBatchSamplingNames = {
    {{BatchSampling::kIidWithReplacement, "iid"}, {BatchSampling::kShuffledEpochs, "epochs"}}};

std::string ToString(BatchSampling sampling);  // "iid", "epochs"
// Throws std::invalid_argument listing the accepted names.
BatchSampling ParseBatchSampling(std::string_view name);

class BatchSampler {
 public:
  // Throws std::invalid_argument for num_items < 1 or batch_size < 1.
  BatchSampler(std::int64_t num_items, std::int64_t batch_size, BatchSampling sampling, std::uint64_t seed);

  // The next batch of batch_size indices in [0, num_items).
  std::vector<std::int64_t> Next();

  // The whole state (generator, permutation, position) as text, and its inverse. LoadState throws
  // std::invalid_argument for a state of another sampler (other sizes or sampling) or corrupt text.
  std::string SaveState() const;
  void LoadState(std::string_view state);

 private:
  void Reshuffle();

  std::int64_t num_items_;
  std::int64_t batch_size_;
  BatchSampling sampling_;
  std::mt19937_64 generator_;
  std::vector<std::int64_t> permutation_;  // kShuffledEpochs only
  std::int64_t position_ = 0;              // next unread entry of permutation_
};

}  // namespace dissect::train
