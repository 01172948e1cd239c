// Batch sampling: seeded, i.i.d. or by epochs, and resumable from a saved state.

#include <algorithm>
#include <set>

#include "catch.hpp"
#include "dissect/train/batch_sampler.hpp"
#include "test_support.hpp"

namespace {

using dissect::test::MessageContains;
using dissect::train::BatchSampler;
using dissect::train::BatchSampling;

std::vector<std::int64_t> Draw(BatchSampler& sampler, int batches) {
  std::vector<std::int64_t> all;
  for (int i = 0; i < batches; ++i) {
    const auto batch = sampler.Next();
    all.insert(all.end(), batch.begin(), batch.end());
  }
  return all;
}

}  // namespace

TEST_CASE("BatchSampler: equal seeds give equal batches, other seeds other batches, all indices in range") {
  for (const auto sampling : {BatchSampling::kIidWithReplacement, BatchSampling::kShuffledEpochs}) {
    BatchSampler a(1000, 64, sampling, 5), b(1000, 64, sampling, 5), c(1000, 64, sampling, 6);
    const auto drawn_a = Draw(a, 30);
    CHECK(drawn_a == Draw(b, 30));
    CHECK(drawn_a != Draw(c, 30));
    CHECK(std::all_of(drawn_a.begin(), drawn_a.end(), [](std::int64_t i) { return i >= 0 && i < 1000; }));
  }
}

TEST_CASE("BatchSampler: i.i.d. draws repeat indices within a batch and cover the range evenly") {
  BatchSampler sampler(10, 1000, BatchSampling::kIidWithReplacement, 1);
  const auto drawn = Draw(sampler, 20);
  std::vector<int> counts(10, 0);
  for (const auto i : drawn) ++counts[static_cast<std::size_t>(i)];
  // 20,000 draws over 10 values: each count is 2,000 with a standard deviation of 42.
  for (const int count : counts) CHECK(std::abs(count - 2000) < 250);
}

TEST_CASE("BatchSampler: shuffled epochs visit every index once per epoch") {
  BatchSampler sampler(10, 4, BatchSampling::kShuffledEpochs, 3);
  const auto drawn = Draw(sampler, 5);  // 20 indices: two whole epochs, the second batch straddling nothing
  for (int epoch = 0; epoch < 2; ++epoch) {
    const std::set<std::int64_t> seen(drawn.begin() + epoch * 10, drawn.begin() + (epoch + 1) * 10);
    CHECK(seen.size() == 10);
  }
  CHECK(!std::equal(drawn.begin(), drawn.begin() + 10, drawn.begin() + 10));
}

TEST_CASE("BatchSampler: a sampler loaded from a saved state draws what the original draws next") {
  for (const auto sampling : {BatchSampling::kIidWithReplacement, BatchSampling::kShuffledEpochs}) {
    BatchSampler original(97, 10, sampling, 42);
    Draw(original, 13);  // mid-epoch for the shuffled sampler
    const std::string state = original.SaveState();
    BatchSampler restored(97, 10, sampling, 0);
    restored.LoadState(state);
    CHECK(Draw(restored, 40) == Draw(original, 40));
  }
}

TEST_CASE("BatchSampler: a state of another sampler or corrupt text is refused with the reason") {
  BatchSampler sampler(100, 8, BatchSampling::kShuffledEpochs, 1);
  const std::string state = sampler.SaveState();
  BatchSampler other(100, 16, BatchSampling::kShuffledEpochs, 1);
  REQUIRE_THROWS_MATCHES(other.LoadState(state), std::invalid_argument, MessageContains("batch 8"));
  REQUIRE_THROWS_MATCHES(
      sampler.LoadState("hello"), std::invalid_argument, MessageContains("not a batch sampler state"));
  REQUIRE_THROWS_MATCHES(
      sampler.LoadState(state.substr(0, state.size() / 2)), std::invalid_argument, MessageContains("corrupt"));
  REQUIRE_THROWS_MATCHES(BatchSampler(0, 8, BatchSampling::kIidWithReplacement, 1),
                         std::invalid_argument,
                         MessageContains("num_items >= 1"));
  REQUIRE_THROWS_MATCHES(
      dissect::train::ParseBatchSampling("random"), std::invalid_argument, MessageContains("iid or epochs"));
}
