// Tests of verify/src/rank_correlation.hpp: Spearman's rho with ties (against numpy's Pearson correlation of the
// ranks) and its bootstrap interval, the statistic behind claim 3 of `dissect reproduce`.

#include "dissect/verify/rank_correlation.hpp"

#include <cmath>
#include <vector>

#include "catch.hpp"

namespace dissect::verify {
namespace {

TEST_CASE("Ranks: 1-based, ties share their mean rank") {
  CHECK(Ranks({10, 20, 20, 5}) == std::vector<double>{2, 3.5, 3.5, 1});
  CHECK(Ranks({7, 7, 7}) == std::vector<double>{2, 2, 2});
  CHECK(Ranks({}).empty());
}

TEST_CASE("Spearman: known values, monotone data, and the cases without an answer") {
  // numpy: corrcoef of the ranks [1..6] and [2, 1, 5, 3.5, 3.5, 6] = 13 / sqrt(17.5 * 17).
  CHECK(Spearman({1, 2, 3, 4, 5, 6}, {2, 1, 4, 3, 3, 6}) == Approx(0.753702346348183).epsilon(1e-14));
  CHECK(Spearman({1, 2, 3, 4}, {1, 4, 9, 16}) == Approx(1.0));
  CHECK(Spearman({1, 2, 3, 4}, {0.5, 0.4, 0.3, -1}) == Approx(-1.0));
  CHECK(std::isnan(Spearman({1, 2, 3}, {5, 5, 5})));  // a constant side
  CHECK(std::isnan(Spearman({1, 2, 3}, {1, 2})));     // lengths differ
  CHECK(std::isnan(Spearman({}, {})));
}

TEST_CASE("BootstrapSpearman: the interval holds rho, is seeded, and is exact for a perfect ordering") {
  const std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const std::vector<double> y = {3, 1, 2, 6, 4, 5, 9, 7, 8, 12, 10, 11};
  const Correlation c = BootstrapSpearman(x, y);
  CHECK(c.runs == 12);
  CHECK(c.rho == Approx(Spearman(x, y)));
  CHECK(c.low <= c.rho);
  CHECK(c.rho <= c.high);
  CHECK(c.low > 0.5);  // a strong ordering: the interval stays well above 0
  const Correlation again = BootstrapSpearman(x, y);
  CHECK(again.low == c.low);
  CHECK(again.high == c.high);
  const Correlation other_seed = BootstrapSpearman(x, y, 2000, 7);
  CHECK((other_seed.low != c.low || other_seed.high != c.high));
  const Correlation perfect = BootstrapSpearman(x, x);
  CHECK(perfect.low == 1.0);
  CHECK(perfect.high == 1.0);
  // Too few pairs for resamples with two distinct values often enough: no interval.
  const Correlation two = BootstrapSpearman({1, 2}, {2, 1}, 150);
  CHECK(two.rho == Approx(-1.0));
  CHECK(std::isnan(two.low));
}

}  // namespace
}  // namespace dissect::verify
