// Tests of dissect/optim/multisets.hpp: the count C(n+k-1, k) of multisets and their enumeration, the batches of
// the paper's SC bound (docs/theory.md, SC bound).

#include "dissect/optim/multisets.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "test_support.hpp"

namespace dissect::optim {
namespace {

using test::MessageContains;

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

std::uint64_t SaturatingAdd(std::uint64_t a, std::uint64_t b) { return a > kMax - b ? kMax : a + b; }

// Brute force: every tuple of [0, n)^k, kept when non-decreasing (small n and k only).
std::vector<std::vector<int>> NonDecreasingTuples(int num_items, int size) {
  std::vector<std::vector<int>> tuples;
  std::vector<int> tuple(size, 0);
  while (true) {
    bool non_decreasing = true;
    for (int j = 1; j < size; ++j) non_decreasing = non_decreasing && tuple[j - 1] <= tuple[j];
    if (non_decreasing) tuples.push_back(tuple);
    int position = size - 1;
    while (position >= 0 && tuple[position] == num_items - 1) tuple[position--] = 0;
    if (position < 0) return tuples;
    ++tuple[position];
  }
}

TEST_CASE("CountMultisets: n = 6, b = 9 gives C(14, 9) = 2002, the batches of the paper's Figure 5", "[multisets]") {
  REQUIRE(CountMultisets(6, 9) == 2002u);
  REQUIRE(CountMultisets(10, 5) == 2002u);  // C(14, 5)
  REQUIRE(CountMultisets(100, 3) == 171700u);
  REQUIRE(CountMultisets(3, 100) == 5151u);
  REQUIRE(CountMultisets(1, 1000) == 1u);
  REQUIRE(CountMultisets(2, 64) == 65u);
}

TEST_CASE("CountMultisets: equals the number of non-decreasing tuples for small n and k", "[multisets]") {
  for (int n = 1; n <= 5; ++n) {
    for (int k = 1; k <= 5; ++k) {
      CAPTURE(n, k);
      REQUIRE(CountMultisets(n, k) == NonDecreasingTuples(n, k).size());
    }
  }
}

TEST_CASE("CountMultisets: size 0 gives 1, no items or a negative size give 0", "[multisets]") {
  REQUIRE(CountMultisets(1, 0) == 1u);
  REQUIRE(CountMultisets(7, 0) == 1u);
  REQUIRE(CountMultisets(0, 3) == 0u);
  REQUIRE(CountMultisets(-2, 3) == 0u);
  REQUIRE(CountMultisets(4, -1) == 0u);
}

TEST_CASE("CountMultisets: follows the recurrence M(n,k) = M(n-1,k) + M(n,k-1), exact to 2^64 and saturating beyond",
          "[multisets]") {
  // Multisets of size k from n items either avoid the last item or contain it at least once. With saturating
  // addition the table is exact wherever the count fits and UINT64_MAX elsewhere.
  constexpr int kLimit = 70;
  std::vector<std::vector<std::uint64_t>> table(kLimit + 1, std::vector<std::uint64_t>(kLimit + 1, 0));
  for (int n = 1; n <= kLimit; ++n) {
    table[n][0] = 1;
    for (int k = 1; k <= kLimit; ++k) table[n][k] = SaturatingAdd(table[n - 1][k], table[n][k - 1]);
  }
  int saturated = 0;
  for (int n = 1; n <= kLimit; ++n) {
    for (int k = 0; k <= kLimit; ++k) {
      CAPTURE(n, k);
      REQUIRE(CountMultisets(n, k) == table[n][k]);
      saturated += table[n][k] == kMax;
    }
  }
  REQUIRE(saturated > 0);  // the table does reach the saturation
  // Both sides of the boundary: C(67, 33) = 14226520737620288370 fits, C(68, 34) does not.
  REQUIRE(CountMultisets(34, 33) == 7219428434016265740u);
  REQUIRE(CountMultisets(35, 33) == 14226520737620288370u);
  REQUIRE(CountMultisets(35, 34) == kMax);
}

TEST_CASE("CountMultisets: saturates at UINT64_MAX for huge arguments", "[multisets]") {
  REQUIRE(CountMultisets(1000, 1000) == kMax);
  REQUIRE(CountMultisets(50000, 256) == kMax);
  REQUIRE(CountMultisets(std::numeric_limits<int>::max(), 3) == kMax);
  REQUIRE(CountMultisets(100, 100) == kMax);
}

TEST_CASE("EnumerateMultisets: gives CountMultisets distinct non-decreasing lists in lexicographic order",
          "[multisets]") {
  const std::vector<std::pair<int, int>> cases = {{1, 1}, {1, 5}, {3, 1}, {4, 3}, {5, 4}, {6, 9}, {2, 10}};
  for (const auto& [n, k] : cases) {
    CAPTURE(n, k);
    const std::vector<std::vector<int>> multisets = EnumerateMultisets(n, k, kMax);
    REQUIRE(multisets.size() == CountMultisets(n, k));
    for (const std::vector<int>& multiset : multisets) {
      REQUIRE(multiset.size() == static_cast<std::size_t>(k));
      REQUIRE(std::is_sorted(multiset.begin(), multiset.end()));
      REQUIRE(multiset.front() >= 0);
      REQUIRE(multiset.back() < n);
    }
    // Strictly increasing in lexicographic order: hence all distinct.
    for (std::size_t m = 1; m < multisets.size(); ++m) REQUIRE(multisets[m - 1] < multisets[m]);
    REQUIRE(std::set<std::vector<int>>(multisets.begin(), multisets.end()).size() == multisets.size());
    REQUIRE(multisets.front() == std::vector<int>(k, 0));
    REQUIRE(multisets.back() == std::vector<int>(k, n - 1));
  }
}

TEST_CASE("EnumerateMultisets: equals the brute-force list of non-decreasing tuples", "[multisets]") {
  for (int n = 1; n <= 4; ++n) {
    for (int k = 1; k <= 4; ++k) {
      CAPTURE(n, k);
      REQUIRE(EnumerateMultisets(n, k, 1000) == NonDecreasingTuples(n, k));
    }
  }
}

TEST_CASE("EnumerateMultisets: beyond max_count throws naming the count and the limit", "[multisets]") {
  REQUIRE(EnumerateMultisets(6, 9, 2002).size() == 2002u);  // exactly at the limit is fine
  REQUIRE_THROWS_MATCHES(EnumerateMultisets(6, 9, 2001),
                         std::invalid_argument,
                         MessageContains("EnumerateMultisets(): the multiset objective over N = 6 points with batch "
                                         "size b = 9 has 2002 batches, more than the limit of 2001"));
  REQUIRE_THROWS_MATCHES(
      EnumerateMultisets(1000, 1000, 10000000), std::invalid_argument, MessageContains("has over 1.8e19 batches"));
  REQUIRE_THROWS_MATCHES(EnumerateMultisets(1000, 1000, 10000000),
                         std::invalid_argument,
                         MessageContains("more than the limit of 10000000"));
}

TEST_CASE("EnumerateMultisets: fewer than 1 item or a size below 1 throws", "[multisets]") {
  REQUIRE_THROWS_MATCHES(EnumerateMultisets(0, 3, 100),
                         std::invalid_argument,
                         Catch::Message("EnumerateMultisets(): expected num_items >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(EnumerateMultisets(-4, 3, 100),
                         std::invalid_argument,
                         Catch::Message("EnumerateMultisets(): expected num_items >= 1, got -4"));
  REQUIRE_THROWS_MATCHES(EnumerateMultisets(3, 0, 100),
                         std::invalid_argument,
                         Catch::Message("EnumerateMultisets(): expected size >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(EnumerateMultisets(3, -1, 100),
                         std::invalid_argument,
                         Catch::Message("EnumerateMultisets(): expected size >= 1, got -1"));
}

}  // namespace
}  // namespace dissect::optim
