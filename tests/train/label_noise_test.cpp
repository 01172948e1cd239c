// Paper: label noise (docs/theory.md): exactly floor(p N) labels flipped, each to another class, seeded.

#include <set>

#include "catch.hpp"
#include "dissect/train/label_noise.hpp"
#include "test_support.hpp"

namespace {

using dissect::test::MessageContains;
namespace train = dissect::train;

std::vector<std::int64_t> CyclicLabels(std::int64_t n, int k) {
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < n; ++i) labels.push_back(i % k);
  return labels;
}

}  // namespace

TEST_CASE("FlipLabels: exactly floor(p N) labels change, each to another class, the rest stay") {
  const std::vector<std::int64_t> labels = CyclicLabels(1000, 10);
  for (const double p : {0.0, 0.1, 0.3, 0.7, 0.999, 1.0}) {
    const train::FlippedLabels flipped = train::FlipLabels(labels, 10, p, 5);
    const auto expected = static_cast<std::size_t>(p == 0.3 ? 300 : p == 0.7 ? 700 : p == 0.999 ? 999 : 1000 * p);
    CHECK(flipped.flipped_indices.size() == expected);
    const std::set<std::int64_t> changed(flipped.flipped_indices.begin(), flipped.flipped_indices.end());
    CHECK(changed.size() == expected);  // distinct positions
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const bool is_flipped = changed.count(static_cast<std::int64_t>(i)) > 0;
      CHECK((flipped.labels[i] != labels[i]) == is_flipped);
      CHECK(flipped.labels[i] >= 0);
      CHECK(flipped.labels[i] < 10);
    }
  }
}

TEST_CASE("FlipLabels: equal seeds flip equally, other seeds otherwise, new classes are spread over the K-1 others") {
  const std::vector<std::int64_t> labels(9000, 4);
  const train::FlippedLabels a = train::FlipLabels(labels, 10, 1.0, 1);
  CHECK(a.labels == train::FlipLabels(labels, 10, 1.0, 1).labels);
  CHECK(a.labels != train::FlipLabels(labels, 10, 1.0, 2).labels);
  std::vector<int> counts(10, 0);
  for (const auto y : a.labels) ++counts[static_cast<std::size_t>(y)];
  CHECK(counts[4] == 0);
  // 9,000 flips over 9 classes: 1,000 each, standard deviation 31.
  for (int k = 0; k < 10; ++k) {
    if (k != 4) CHECK(std::abs(counts[static_cast<std::size_t>(k)] - 1000) < 160);
  }
}

TEST_CASE("FlipLabels: for one seed the flips are nested over the fractions, with the same new labels") {
  const std::vector<std::int64_t> labels = CyclicLabels(500, 10);
  const train::FlippedLabels half = train::FlipLabels(labels, 10, 0.5, 9);
  const train::FlippedLabels all = train::FlipLabels(labels, 10, 1.0, 9);
  REQUIRE(half.flipped_indices.size() == 250);
  for (const std::int64_t i : half.flipped_indices) {
    CHECK(half.labels[static_cast<std::size_t>(i)] == all.labels[static_cast<std::size_t>(i)]);
  }
  // Another seed flips other positions.
  CHECK(train::FlipLabels(labels, 10, 0.5, 10).flipped_indices != half.flipped_indices);
}

TEST_CASE("NumFlipped: decimal fractions give floor(p N) without rounding down by one") {
  CHECK(train::NumFlipped(0.3, 1000) == 300);
  CHECK(train::NumFlipped(0.7, 10) == 7);
  CHECK(train::NumFlipped(0.1, 60000) == 6000);
  CHECK(train::NumFlipped(0.15, 10) == 1);
  CHECK(train::NumFlipped(1.0, 7) == 7);
}

TEST_CASE("FlipLabels: a fraction outside [0, 1], K < 2 or a label out of range is refused with the reason") {
  const std::vector<std::int64_t> labels = CyclicLabels(10, 3);
  REQUIRE_THROWS_MATCHES(
      train::FlipLabels(labels, 3, 1.5, 0), std::invalid_argument, MessageContains("[0, 1], got 1.5"));
  REQUIRE_THROWS_MATCHES(train::FlipLabels(labels, 3, -0.1, 0), std::invalid_argument, MessageContains("got -0.1"));
  REQUIRE_THROWS_MATCHES(
      train::FlipLabels(labels, 1, 0.5, 0), std::invalid_argument, MessageContains("num_classes >= 2"));
  REQUIRE_THROWS_MATCHES(
      train::FlipLabels(labels, 2, 0.5, 0), std::invalid_argument, MessageContains("label 2 at index 2"));
}
