// Tests of dissect/theory/temperature.hpp: tau and rho = 1/sqrt(tau) are two spellings of one scale
// (docs/theory.md, Objects and symbols: rho_Z^2 = 1/tau).

#include "dissect/theory/temperature.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "catch.hpp"
#include "test_support.hpp"

namespace dissect::theory {
namespace {

using test::BitPattern;
using test::kRoundingTolerance;
using test::MessageContains;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST_CASE("Temperature: FromTemperature(0.25) and FromRadius(2) give bit-identical inverse temperatures",
          "[temperature]") {
  const Temperature from_temperature = Temperature::FromTemperature(0.25);
  const Temperature from_radius = Temperature::FromRadius(2.0);
  REQUIRE(BitPattern(from_temperature.inverse_temperature()) == BitPattern(4.0));
  REQUIRE(BitPattern(from_radius.inverse_temperature()) == BitPattern(4.0));
  REQUIRE(BitPattern(from_temperature.temperature()) == BitPattern(from_radius.temperature()));
  REQUIRE(BitPattern(from_temperature.radius()) == BitPattern(from_radius.radius()));
}

TEST_CASE("Temperature: exactly representable pairs (tau, 1/sqrt(tau)) agree to the last bit in both forms",
          "[temperature]") {
  struct Pair {
    double temperature;
    double radius;
  };
  for (const Pair pair : {Pair{1.0, 1.0}, Pair{4.0, 0.5}, Pair{0.0625, 4.0}, Pair{1.0 / 1024.0, 32.0}}) {
    CAPTURE(pair.temperature, pair.radius);
    const Temperature a = Temperature::FromTemperature(pair.temperature);
    const Temperature b = Temperature::FromRadius(pair.radius);
    REQUIRE(BitPattern(a.inverse_temperature()) == BitPattern(b.inverse_temperature()));
    REQUIRE(BitPattern(a.temperature()) == BitPattern(pair.temperature));
    REQUIRE(BitPattern(b.radius()) == BitPattern(pair.radius));
  }
}

TEST_CASE("Temperature: tau, rho and 1/tau satisfy rho^2 = 1/tau in both forms", "[temperature]") {
  for (const double tau : {0.07, 0.1, 0.5, 1.0, 3.0, 1e-6, 1e6}) {
    CAPTURE(tau);
    const Temperature t = Temperature::FromTemperature(tau);
    REQUIRE(t.temperature() == Approx(tau).epsilon(kRoundingTolerance));
    REQUIRE(t.inverse_temperature() == Approx(1.0 / tau).epsilon(kRoundingTolerance));
    REQUIRE(t.radius() * t.radius() == Approx(1.0 / tau).epsilon(kRoundingTolerance));
    const Temperature r = Temperature::FromRadius(t.radius());
    REQUIRE(r.temperature() == Approx(tau).epsilon(kRoundingTolerance));
    REQUIRE(r.inverse_temperature() == Approx(1.0 / tau).epsilon(kRoundingTolerance));
  }
}

TEST_CASE("Temperature: a temperature that is not finite and > 0 throws 'expected temperature > 0, got -1'",
          "[temperature]") {
  REQUIRE_THROWS_MATCHES(Temperature::FromTemperature(-1.0),
                         std::invalid_argument,
                         Catch::Message("Temperature::FromTemperature(): expected temperature > 0, got -1"));
  REQUIRE_THROWS_MATCHES(
      Temperature::FromTemperature(0.0), std::invalid_argument, MessageContains("expected temperature > 0, got 0"));
  REQUIRE_THROWS_MATCHES(
      Temperature::FromTemperature(kNaN), std::invalid_argument, MessageContains("expected temperature > 0, got nan"));
  REQUIRE_THROWS_MATCHES(
      Temperature::FromTemperature(kInf), std::invalid_argument, MessageContains("expected temperature > 0, got inf"));
  REQUIRE_THROWS_MATCHES(Temperature::FromTemperature(-kInf),
                         std::invalid_argument,
                         MessageContains("expected temperature > 0, got -inf"));
}

TEST_CASE("Temperature: a radius that is not finite and > 0, or whose square overflows, throws", "[temperature]") {
  REQUIRE_THROWS_MATCHES(Temperature::FromRadius(-1.0),
                         std::invalid_argument,
                         Catch::Message("Temperature::FromRadius(): expected radius > 0, got -1"));
  REQUIRE_THROWS_MATCHES(
      Temperature::FromRadius(0.0), std::invalid_argument, MessageContains("expected radius > 0, got 0"));
  REQUIRE_THROWS_MATCHES(
      Temperature::FromRadius(kNaN), std::invalid_argument, MessageContains("expected radius > 0, got nan"));
  REQUIRE_THROWS_MATCHES(
      Temperature::FromRadius(kInf), std::invalid_argument, MessageContains("expected radius > 0, got inf"));
  REQUIRE_THROWS_MATCHES(Temperature::FromRadius(1e200),
                         std::invalid_argument,
                         MessageContains("Temperature::FromRadius(): expected radius^2 (finite) > 0, got inf"));
}

}  // namespace
}  // namespace dissect::theory
