// Tests of dissect/verify/statistics.hpp: means, Student t quantiles (against table values), t intervals of a mean
// and of paired differences, and numpy's linear quantiles.

#include "dissect/verify/statistics.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "catch.hpp"
#include "test_support.hpp"

namespace dissect::verify {
namespace {

using dissect::test::MessageContains;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
// Two-sided 95% quantiles t_{0.975, df} (tables; scipy.stats.t.ppf).
constexpr double kT975Df1 = 12.706204736174707;
constexpr double kT975Df2 = 4.302652729749464;
constexpr double kT975Df4 = 2.7764451051977987;

TEST_CASE("Mean and SampleStandardDeviation: known values and too few values") {
  CHECK(Mean({1, 2, 3, 4}) == 2.5);
  CHECK(Mean({-7.5}) == -7.5);
  CHECK(std::isnan(Mean({})));
  // sum of squares about the mean 5 is 32, over n - 1 = 7.
  CHECK(SampleStandardDeviation({2, 4, 4, 4, 5, 5, 7, 9}) == Approx(2.138089935299395).epsilon(1e-14));
  CHECK(SampleStandardDeviation({1, 2, 3}) == Approx(1.0).epsilon(1e-15));
  CHECK(SampleStandardDeviation({3, 3, 3}) == 0.0);
  CHECK(std::isnan(SampleStandardDeviation({4.0})));
  CHECK(std::isnan(SampleStandardDeviation({})));
}

TEST_CASE("StudentTQuantile: table values, symmetry and the median") {
  CHECK(StudentTQuantile(0.975, 1) == Approx(kT975Df1).epsilon(1e-12));
  CHECK(StudentTQuantile(0.975, 2) == Approx(kT975Df2).epsilon(1e-12));
  CHECK(StudentTQuantile(0.975, 3) == Approx(3.182446305284263).epsilon(1e-12));
  CHECK(StudentTQuantile(0.975, 4) == Approx(kT975Df4).epsilon(1e-12));
  CHECK(StudentTQuantile(0.95, 4) == Approx(2.131846786326649).epsilon(1e-12));
  CHECK(StudentTQuantile(0.995, 9) == Approx(3.2498355415921263).epsilon(1e-12));
  CHECK(StudentTQuantile(0.9, 10) == Approx(1.3721836411103356).epsilon(1e-12));
  // df = 1 is Cauchy: tan(pi (p - 1/2)); non-integer degrees of freedom are allowed.
  CHECK(StudentTQuantile(0.8, 1) == Approx(std::tan(0.3 * std::acos(-1.0))).epsilon(1e-12));
  CHECK(StudentTQuantile(0.6, 2.5) == Approx(0.2814595127485475).epsilon(1e-10));
  CHECK(StudentTQuantile(0.025, 2) == Approx(-kT975Df2).epsilon(1e-12));
  CHECK(StudentTQuantile(0.5, 3) == Approx(0.0).margin(1e-15));
}

TEST_CASE("StudentTQuantile: probabilities outside (0, 1) and bad degrees of freedom throw") {
  for (const double p : {0.0, 1.0, -0.1, 1.5, kNaN}) {
    CHECK_THROWS_MATCHES(StudentTQuantile(p, 3), std::invalid_argument, MessageContains("probability"));
  }
  for (const double df : {0.0, -1.0, kNaN, kInf}) {
    CHECK_THROWS_MATCHES(StudentTQuantile(0.975, df), std::invalid_argument, MessageContains("degrees of freedom"));
  }
}

TEST_CASE("MeanInterval: the t interval of a mean, by hand") {
  // {1, 2, 3}: mean 2, s = 1, se = 1/sqrt(3), t_{0.975,2}.
  const Interval i = MeanInterval({1, 2, 3});
  CHECK(i.count == 3);
  CHECK(i.confidence == 0.95);
  CHECK(i.estimate == Approx(2.0).epsilon(1e-15));
  CHECK(i.standard_error == Approx(1.0 / std::sqrt(3.0)).epsilon(1e-14));
  CHECK(i.low == Approx(2.0 - kT975Df2 / std::sqrt(3.0)).epsilon(1e-12));
  CHECK(i.high == Approx(2.0 + kT975Df2 / std::sqrt(3.0)).epsilon(1e-12));
  CHECK(i.low == Approx(-0.48413771175033116).epsilon(1e-12));
  CHECK(i.half_width() == Approx(kT975Df2 / std::sqrt(3.0)).epsilon(1e-12));
  CHECK(i.decided());
  // 90%: t_{0.95,4} = 2.131846786326649, s = sqrt(2.5), se = sqrt(0.5).
  const Interval ninety = MeanInterval({5, 1, 4, 2, 3}, 0.90);
  CHECK(ninety.confidence == 0.90);
  CHECK(ninety.low == Approx(1.4925566809376776).epsilon(1e-12));
  CHECK(ninety.high == Approx(4.507443319062323).epsilon(1e-12));
  // Two values: the widest interval, t_{0.975,1}.
  const Interval two = MeanInterval({0.0, 2.0});
  CHECK(two.low == Approx(1.0 - kT975Df1).epsilon(1e-12));
  CHECK(two.high == Approx(1.0 + kT975Df1).epsilon(1e-12));
}

TEST_CASE("MeanInterval: below 2 values no interval, equal values a point interval") {
  const Interval none = MeanInterval({});
  CHECK(none.count == 0);
  CHECK(std::isnan(none.estimate));
  CHECK(std::isnan(none.low));
  CHECK(std::isnan(none.high));
  CHECK_FALSE(none.decided());
  const Interval one = MeanInterval({3.5});
  CHECK(one.count == 1);
  CHECK(one.estimate == 3.5);
  CHECK(std::isnan(one.low));
  CHECK(std::isnan(one.high));
  CHECK(std::isnan(one.standard_error));
  CHECK_FALSE(one.decided());
  const Interval point = MeanInterval({2.25, 2.25, 2.25, 2.25});
  CHECK(point.decided());
  CHECK(point.low == 2.25);
  CHECK(point.high == 2.25);
  CHECK(point.estimate == 2.25);
  CHECK(point.standard_error == 0.0);
  CHECK(point.half_width() == 0.0);
  // A hand-made interval with finite bounds but one value is not decided either.
  Interval lonely;
  lonely.low = 0.0;
  lonely.high = 1.0;
  lonely.count = 1;
  CHECK_FALSE(lonely.decided());
}

TEST_CASE("MeanInterval: a value that is not finite throws naming its index, so does a bad confidence") {
  CHECK_THROWS_MATCHES(MeanInterval({1.0, kNaN, 3.0}), std::invalid_argument, MessageContains("value 1"));
  CHECK_THROWS_MATCHES(MeanInterval({1.0, 2.0, kInf}), std::invalid_argument, MessageContains("value 2"));
  CHECK_THROWS_MATCHES(MeanInterval({-kInf}), std::invalid_argument, MessageContains("value 0"));
  for (const double c : {0.0, 1.0, -0.5, 95.0, kNaN}) {
    CHECK_THROWS_MATCHES(MeanInterval({1.0, 2.0, 3.0}, c), std::invalid_argument, MessageContains("confidence"));
  }
}

TEST_CASE("PairedDifferenceInterval: the interval of a_i - b_i, sizes must agree") {
  // Differences {2, 3, 4}: mean 3, s = 1.
  const Interval d = PairedDifferenceInterval({3, 5, 7}, {1, 2, 3});
  CHECK(d.count == 3);
  CHECK(d.estimate == Approx(3.0).epsilon(1e-15));
  CHECK(d.low == Approx(3.0 - kT975Df2 / std::sqrt(3.0)).epsilon(1e-12));
  CHECK(d.high == Approx(3.0 + kT975Df2 / std::sqrt(3.0)).epsilon(1e-12));
  // Pairing matters: the unpaired spread of either side is much larger than that of the differences.
  const Interval shifted = PairedDifferenceInterval({10, 20, 30, 40, 50}, {9, 19, 29, 39, 49});
  CHECK(shifted.low == Approx(1.0).epsilon(1e-12));
  CHECK(shifted.high == Approx(1.0).epsilon(1e-12));
  CHECK(PairedDifferenceInterval({}, {}).count == 0);
  CHECK_THROWS_MATCHES(PairedDifferenceInterval({1, 2, 3}, {1, 2}),
                       std::invalid_argument,
                       MessageContains("3 values on one side but 2"));
  CHECK_THROWS_AS(PairedDifferenceInterval({1, kNaN}, {1, 2}), std::invalid_argument);
}

TEST_CASE("SortedQuantile: numpy's linear quantiles") {
  // numpy.quantile([1, 2, 3, 4], q) for q = 0, 0.25, 0.5, 0.975, 1.
  const std::vector<double> four = {1, 2, 3, 4};
  CHECK(SortedQuantile(four, 0.0) == 1.0);
  CHECK(SortedQuantile(four, 0.25) == Approx(1.75).epsilon(1e-15));
  CHECK(SortedQuantile(four, 0.5) == Approx(2.5).epsilon(1e-15));
  CHECK(SortedQuantile(four, 0.975) == Approx(3.925).epsilon(1e-14));
  CHECK(SortedQuantile(four, 1.0) == 4.0);
  // numpy.quantile([10, 20, 40], 0.9) = 36, numpy.quantile([10, 20, 40], 0.025) = 10.5.
  CHECK(SortedQuantile({10, 20, 40}, 0.9) == Approx(36.0).epsilon(1e-14));
  CHECK(SortedQuantile({10, 20, 40}, 0.025) == Approx(10.5).epsilon(1e-14));
  CHECK(SortedQuantile({7}, 0.3) == 7.0);
  CHECK(SortedQuantile({7}, 1.0) == 7.0);
  CHECK(std::isnan(SortedQuantile({}, 0.5)));
}

}  // namespace
}  // namespace dissect::verify
