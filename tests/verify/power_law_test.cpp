// The power-law fit of the noise experiment: exact on exact data, the verdicts, the bootstrap interval.

#include <cmath>

#include "catch.hpp"
#include "dissect/verify/power_law.hpp"
#include "test_support.hpp"

namespace {

using dissect::test::MessageContains;
namespace verify = dissect::verify;

}  // namespace

TEST_CASE("FitPowerLaw: exact power laws are recovered, with the verdict of their exponent") {
  const std::vector<double> x = {100, 200, 300, 500, 800, 1000};
  for (const double e : {0.5, 1.0, 2.0}) {
    std::vector<double> y;
    for (const double v : x) y.push_back(3.0 * std::pow(v, e));
    const verify::PowerLawFit fit = verify::FitPowerLaw(x, y, 500, 0.95, 1);
    CHECK(fit.exponent == Approx(e).epsilon(1e-12));
    CHECK(fit.prefactor == Approx(3.0).epsilon(1e-9));
    CHECK(fit.exponent_low == Approx(e).epsilon(1e-9));
    CHECK(fit.exponent_high == Approx(e).epsilon(1e-9));
    CHECK(fit.verdict == (e > 1.0 ? "superlinear" : e < 1.0 ? "sublinear" : "linear"));
  }
}

TEST_CASE("FitPowerLaw: noise widens the interval, points with x or y <= 0 are skipped") {
  const std::vector<double> x = {0, 100, 200, 300, 500, 800, 1000};
  const std::vector<double> y = {50, 105, 190, 320, 480, 830, 990};  // about linear
  const verify::PowerLawFit fit = verify::FitPowerLaw(x, y, 2000, 0.95, 3);
  CHECK(fit.num_points == 6);
  CHECK(fit.exponent_low < fit.exponent);
  CHECK(fit.exponent < fit.exponent_high);
  CHECK(fit.exponent_low < 1.0);
  CHECK(fit.exponent_high > 1.0);
  CHECK(fit.verdict == "linear");
  CHECK(verify::FitPowerLaw(x, y, 2000, 0.95, 3).exponent_low == fit.exponent_low);  // seeded
}

TEST_CASE("FitPowerLaw: an offset is taken off first, so linear growth above a level reads as linear") {
  // Iterations to fit that start at 500 and grow by 2 per flipped label: the growth is linear, but a power law
  // through the origin sees a much smaller exponent.
  const std::vector<double> x = {0, 100, 200, 400, 800, 1600};
  std::vector<double> y;
  for (const double v : x) y.push_back(500.0 + 2.0 * v);
  const verify::PowerLawFit raw = verify::FitPowerLaw(x, y, 500, 0.95, 1);
  CHECK(raw.exponent < 0.7);
  CHECK(raw.verdict == "sublinear");
  const verify::PowerLawFit above = verify::FitPowerLaw(x, y, 500, 0.95, 1, 500.0);
  CHECK(above.offset == 500.0);
  CHECK(above.exponent == Approx(1.0).epsilon(1e-12));
  CHECK(above.prefactor == Approx(2.0).epsilon(1e-9));
  CHECK(above.verdict == "linear");
  CHECK(above.num_points == 5);  // x = 0 (y = offset) is skipped
  CHECK(above.num_skipped == 1);
  // Quadratic growth above the level is superlinear; NaN (a run that never fitted) is skipped and counted.
  std::vector<double> q;
  for (const double v : x) q.push_back(500.0 + 0.01 * v * v);
  q.push_back(NAN);
  std::vector<double> xq = x;
  xq.push_back(3200);
  const verify::PowerLawFit quadratic = verify::FitPowerLaw(xq, q, 500, 0.95, 1, 500.0);
  CHECK(quadratic.exponent == Approx(2.0).epsilon(1e-12));
  CHECK(quadratic.verdict == "superlinear");
  CHECK(quadratic.num_skipped == 2);
  REQUIRE_THROWS_MATCHES(
      verify::FitPowerLaw(x, y, 10, 0.95, 1, NAN), std::invalid_argument, MessageContains("finite offset"));
}

TEST_CASE("FitPowerLaw: too few points give insufficient data, bad arguments are refused") {
  CHECK(verify::FitPowerLaw({1, 2}, {1, 4}).verdict == "insufficient data");
  CHECK(verify::FitPowerLaw({5, 5, 5}, {1, 2, 3}).verdict == "insufficient data");
  CHECK(verify::FitPowerLaw({1, 2}, {1, 4}).note == "2 usable points (of 2): at least 3 are needed");
  CHECK(verify::FitPowerLaw({5, 5, 5}, {1, 2, 3}).note == "one distinct number of flipped labels: no slope");
  CHECK(verify::FitPowerLaw({1, 2, 4}, {1, 4, 16}).note.empty());
  REQUIRE_THROWS_MATCHES(
      verify::FitPowerLaw({1, 2}, {1}), std::invalid_argument, MessageContains("2 x values but 1 y"));
  REQUIRE_THROWS_MATCHES(verify::FitPowerLaw({1}, {1}, 10, 1.0), std::invalid_argument, MessageContains("confidence"));
}
