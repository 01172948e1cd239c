// Tests of dissect/theory/check.hpp: the input checks every entry point uses and their message form
// (docs/development.md, "Function(): expected temperature > 0, got -1").

#include "dissect/theory/check.hpp"

#include <Eigen/Core>
#include <limits>
#include <stdexcept>

#include "catch.hpp"
#include "test_support.hpp"

namespace dissect::theory {
namespace {

using test::MessageContains;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST_CASE("ThrowInvalidArgument: throws std::invalid_argument with the message 'Function(): message'", "[check]") {
  REQUIRE_THROWS_MATCHES(ThrowInvalidArgument("Solve", "expected temperature > 0, got -1"),
                         std::invalid_argument,
                         Catch::Message("Solve(): expected temperature > 0, got -1"));
}

TEST_CASE("RequirePositive: accepts every finite value > 0", "[check]") {
  REQUIRE_NOTHROW(RequirePositive("F", "x", std::numeric_limits<double>::denorm_min()));
  REQUIRE_NOTHROW(RequirePositive("F", "x", 1e-300));
  REQUIRE_NOTHROW(RequirePositive("F", "x", 1.0));
  REQUIRE_NOTHROW(RequirePositive("F", "x", std::numeric_limits<double>::max()));
}

TEST_CASE("RequirePositive: rejects zero, negatives, NaN and infinities with 'expected name > 0, got value'",
          "[check]") {
  REQUIRE_THROWS_MATCHES(RequirePositive("Temperature::FromTemperature", "temperature", -1.0),
                         std::invalid_argument,
                         Catch::Message("Temperature::FromTemperature(): expected temperature > 0, got -1"));
  REQUIRE_THROWS_MATCHES(
      RequirePositive("F", "radius", 0.0), std::invalid_argument, Catch::Message("F(): expected radius > 0, got 0"));
  REQUIRE_THROWS_MATCHES(
      RequirePositive("F", "radius", -0.0), std::invalid_argument, MessageContains("expected radius > 0, got -0"));
  REQUIRE_THROWS_MATCHES(
      RequirePositive("F", "radius", kNaN), std::invalid_argument, Catch::Message("F(): expected radius > 0, got nan"));
  REQUIRE_THROWS_MATCHES(
      RequirePositive("F", "radius", kInf), std::invalid_argument, Catch::Message("F(): expected radius > 0, got inf"));
  REQUIRE_THROWS_MATCHES(RequirePositive("F", "radius", -kInf),
                         std::invalid_argument,
                         Catch::Message("F(): expected radius > 0, got -inf"));
}

TEST_CASE("RequireAtLeast: accepts the minimum and rejects one below with 'expected name >= minimum, got value'",
          "[check]") {
  REQUIRE_NOTHROW(RequireAtLeast("F", "num_classes (K)", 2, 2));
  REQUIRE_NOTHROW(RequireAtLeast("F", "num_classes (K)", 1000000000000LL, 2));
  REQUIRE_THROWS_MATCHES(RequireAtLeast("F", "num_classes (K)", 1, 2),
                         std::invalid_argument,
                         Catch::Message("F(): expected num_classes (K) >= 2, got 1"));
  REQUIRE_THROWS_MATCHES(RequireAtLeast("F", "batch_size (b)", -5, 0),
                         std::invalid_argument,
                         Catch::Message("F(): expected batch_size (b) >= 0, got -5"));
}

TEST_CASE("RequireFinite: accepts finite and empty matrices", "[check]") {
  REQUIRE_NOTHROW(RequireFinite("F", "points", Eigen::MatrixXd::Constant(3, 4, 1e300)));
  REQUIRE_NOTHROW(RequireFinite("F", "points", Eigen::MatrixXd(0, 0)));
  REQUIRE_NOTHROW(RequireFinite("F", "points", Eigen::MatrixXd(3, 0)));
}

TEST_CASE("RequireFinite: names the first non-finite entry in column-major order by row and column", "[check]") {
  Eigen::MatrixXd values = Eigen::MatrixXd::Zero(3, 2);
  values(0, 1) = kInf;  // later in column-major order than (2, 0)
  values(2, 0) = kNaN;
  REQUIRE_THROWS_MATCHES(RequireFinite("F", "points", values),
                         std::invalid_argument,
                         Catch::Message("F(): expected finite points, got nan at row 2, column 0"));
  values(2, 0) = 0.0;
  REQUIRE_THROWS_MATCHES(RequireFinite("F", "weights", values),
                         std::invalid_argument,
                         Catch::Message("F(): expected finite weights, got inf at row 0, column 1"));
  values(0, 1) = -kInf;
  REQUIRE_THROWS_MATCHES(
      RequireFinite("F", "weights", values), std::invalid_argument, MessageContains("got -inf at row 0, column 1"));
}

TEST_CASE("RequireFinite: checks a vector through Eigen::Ref", "[check]") {
  Eigen::VectorXd vector = Eigen::VectorXd::Ones(4);
  vector[3] = kNaN;
  REQUIRE_THROWS_MATCHES(RequireFinite("F", "u", vector),
                         std::invalid_argument,
                         Catch::Message("F(): expected finite u, got nan at row 3, column 0"));
}

TEST_CASE("RequireLabels: accepts labels of the expected count, each from 0 to K-1", "[check]") {
  Eigen::VectorXi labels(4);
  labels << 0, 2, 1, 2;
  REQUIRE_NOTHROW(RequireLabels("F", labels, 4, 3));
  REQUIRE_NOTHROW(RequireLabels("F", Eigen::VectorXi(0), 0, 3));
}

TEST_CASE("RequireLabels: rejects a count mismatch, labels >= K and negative labels", "[check]") {
  Eigen::VectorXi labels(4);
  labels << 0, 2, 3, 1;
  REQUIRE_THROWS_MATCHES(RequireLabels("F", labels, 5, 4),
                         std::invalid_argument,
                         Catch::Message("F(): expected 5 labels (one per point), got 4"));
  REQUIRE_THROWS_MATCHES(RequireLabels("F", labels, 4, 3),
                         std::invalid_argument,
                         Catch::Message("F(): expected labels in [0, 3), got 3 at index 2"));
  labels[1] = -1;
  REQUIRE_THROWS_MATCHES(RequireLabels("F", labels, 4, 4),
                         std::invalid_argument,
                         Catch::Message("F(): expected labels in [0, 4), got -1 at index 1"));
}

TEST_CASE("RequireLabels: with num_classes < 0 accepts any non-negative label and rejects negative ones", "[check]") {
  Eigen::VectorXi labels(3);
  labels << 0, 1000000, std::numeric_limits<int>::max();
  REQUIRE_NOTHROW(RequireLabels("F", labels, 3, -1));
  labels[2] = -7;
  REQUIRE_THROWS_MATCHES(RequireLabels("F", labels, 3, -1),
                         std::invalid_argument,
                         Catch::Message("F(): expected labels >= 0, got -7 at index 2"));
}

}  // namespace
}  // namespace dissect::theory
