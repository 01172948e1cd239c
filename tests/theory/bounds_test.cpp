// Tests of dissect/theory/bounds.hpp. Paper: CE bound, SC bound, the SC value at the simplex and the expected
// per-sample floor under i.i.d. sampling; docs/theory.md.

#include "dissect/theory/bounds.hpp"

#include <Eigen/Core>
#include <boost/math/distributions/binomial.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "catch.hpp"
#include "dissect/theory/regular_simplex.hpp"
#include "dissect/theory/supcon_loss.hpp"
#include "dissect/theory/temperature.hpp"
#include "test_support.hpp"

namespace dissect::theory {
namespace {

using test::kRoundingTolerance;
using test::kTightTolerance;
using test::MessageContains;
using test::PointsAtVertices;
using test::RelativeError;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool IsPlusInfinity(double value) { return std::isinf(value) && value > 0.0; }
bool IsMinusInfinity(double value) { return std::isinf(value) && value < 0.0; }

// C(n, k) in exact integer arithmetic (every intermediate product is divisible; fine for the small cases here).
std::uint64_t Binomial(std::uint64_t n, std::uint64_t k) {
  if (k > n) return 0;
  std::uint64_t result = 1;
  for (std::uint64_t i = 1; i <= k; ++i) result = result * (n - k + i) / i;
  return result;
}

// C(n+k-1, k): multisets of size k from n items.
std::uint64_t MultisetCount(std::uint64_t n, std::uint64_t k) { return Binomial(n + k - 1, k); }

// Calls visit(indices) for every multiset of `size` indices from [0, num_items), as a non-decreasing sequence.
template <typename Visit>
void ForEachMultiset(int num_items, int size, Visit visit) {
  std::vector<int> indices(size, 0);
  while (true) {
    visit(indices);
    int position = size - 1;
    while (position >= 0 && indices[position] == num_items - 1) --position;
    if (position < 0) return;
    ++indices[position];
    for (int later = position + 1; later < size; ++later) indices[later] = indices[position];
  }
}

// C(n, k) by the multiplicative formula in double: exact while the partial products stay below 2^53, else within
// about k ulp.
double BinomialInDouble(double n, int k) {
  double result = 1.0;
  for (int i = 1; i <= k; ++i) result = result * (n - k + i) / i;
  return result;
}

// The SC bound of docs/theory.md summed directly in linear space: sum_{l=2..b} l M_l log(l-1 + (b-l) exp(-rho^2
// K/(K-1))), M_l = K C(n+l-1, l) C(N-n+b-l-1, b-l), with plain binomial coefficients (no lgamma, no log-sum-exp).
double DirectSupConMultisetBound(int k, int n, int b, double inverse_temperature) {
  const double negative_weight = std::exp(-inverse_temperature * k / (k - 1.0));
  const int num_points = k * n;
  double total = 0.0;
  for (int l = 2; l <= b; ++l) {
    const double m = k * BinomialInDouble(n + l - 1, l) * BinomialInDouble(num_points - n + b - l - 1, b - l);
    total += l * m * std::log((l - 1.0) + (b - l) * negative_weight);
  }
  return total;
}

// The sum of SupConLoss (reduction sum) over ALL multisets of size b from the N = K n points, each class collapsed
// onto one vertex of a radius-rho simplex: the quantity the SC bound bounds, at its minimizer.
double SumOfSupConOverAllBatches(int k, int n, int b, double radius, std::uint64_t* num_batches) {
  const Eigen::MatrixXd vertices = RegularSimplex(k, k - 1, radius);
  SupConOptions options;
  options.temperature = Temperature::FromTemperature(1.0);
  options.reduction = SupConReduction::kSum;
  double total = 0.0;
  *num_batches = 0;
  Eigen::VectorXi labels(b);
  ForEachMultiset(k * n, b, [&](const std::vector<int>& indices) {
    for (int e = 0; e < b; ++e) labels[e] = indices[e] / n;  // points 0..n-1 are class 0, and so on
    total += SupConLoss(PointsAtVertices(vertices, labels), labels, options, false).value;
    ++*num_batches;
  });
  return total;
}

TEST_CASE(
    "CrossEntropyBound: rho = r = 1 gives the known answers 0.3689811354013154 (K=3) and 1.3769349204501935 "
    "(K=10)",
    "[bounds]") {
  REQUIRE(CrossEntropyBound(3, 1.0, 1.0) == Approx(0.3689811354013154).epsilon(kRoundingTolerance));
  REQUIRE(CrossEntropyBound(10, 1.0, 1.0) == Approx(1.3769349204501935).epsilon(kRoundingTolerance));
}

TEST_CASE("CrossEntropyBound: equals log(1 + (K-1) exp(-rho r K/(K-1)))", "[bounds]") {
  for (const int k : {2, 3, 7, 100}) {
    for (const double radius : {0.5, 1.0, 4.0}) {
      for (const double weight_norm : {0.25, 1.0, 3.0}) {
        CAPTURE(k, radius, weight_norm);
        // log1p: for K=2, rho r = 12 the bound is 4e-11 and log(1 + x) would keep only 5 digits of it.
        const double expected = std::log1p((k - 1.0) * std::exp(-radius * weight_norm * k / (k - 1.0)));
        REQUIRE(CrossEntropyBound(k, radius, weight_norm) == Approx(expected).epsilon(kTightTolerance));
      }
    }
  }
}

TEST_CASE("CrossEntropyBound: keeps full relative precision when the bound is tiny", "[bounds]") {
  // log(1 + x) = x for x = exp(-600) in double; a naive log(1 + x) would return 0.
  REQUIRE(CrossEntropyBound(2, 20.0, 15.0) == Approx(std::exp(-600.0)).epsilon(kTightTolerance));
  REQUIRE(CrossEntropyBound(2, 20.0, 15.0) > 0.0);
}

TEST_CASE("CrossEntropyBound: the Frobenius form with r_F = sqrt(K) r gives the row-norm value", "[bounds]") {
  for (const int k : {2, 3, 10, 100}) {
    for (const double weight_norm : {0.5, 1.0, 2.0}) {
      CAPTURE(k, weight_norm);
      REQUIRE(CrossEntropyBound(k, 1.5, std::sqrt(static_cast<double>(k)) * weight_norm, WeightNorm::kFrobenius) ==
              Approx(CrossEntropyBound(k, 1.5, weight_norm, WeightNorm::kRow)).epsilon(kRoundingTolerance));
    }
  }
  REQUIRE(CrossEntropyBound(3, 1.0, std::sqrt(3.0), WeightNorm::kFrobenius) ==
          Approx(0.3689811354013154).epsilon(kRoundingTolerance));
}

TEST_CASE("CrossEntropyBound: K < 2 and a radius or weight norm that is not finite and > 0 throw", "[bounds]") {
  REQUIRE_THROWS_MATCHES(CrossEntropyBound(1, 1.0, 1.0),
                         std::invalid_argument,
                         Catch::Message("CrossEntropyBound(): expected num_classes (K) >= 2, got 1"));
  REQUIRE_THROWS_MATCHES(CrossEntropyBound(3, 0.0, 1.0),
                         std::invalid_argument,
                         Catch::Message("CrossEntropyBound(): expected radius > 0, got 0"));
  REQUIRE_THROWS_MATCHES(
      CrossEntropyBound(3, kNaN, 1.0), std::invalid_argument, MessageContains("expected radius > 0, got nan"));
  REQUIRE_THROWS_MATCHES(CrossEntropyBound(3, 1.0, -1.0),
                         std::invalid_argument,
                         Catch::Message("CrossEntropyBound(): expected weight_norm > 0, got -1"));
  REQUIRE_THROWS_MATCHES(CrossEntropyBound(3, 1.0, kInf, WeightNorm::kFrobenius),
                         std::invalid_argument,
                         MessageContains("expected weight_norm > 0, got inf"));
  REQUIRE_THROWS_MATCHES(
      CrossEntropyBound(3, 1.0, kNaN), std::invalid_argument, MessageContains("expected weight_norm > 0, got nan"));
}

TEST_CASE("ParseWeightNorm: parses every name that ToString writes and rejects others", "[bounds]") {
  REQUIRE(ToString(WeightNorm::kRow) == "row");
  REQUIRE(ToString(WeightNorm::kFrobenius) == "frobenius");
  for (const WeightNorm norm : {WeightNorm::kRow, WeightNorm::kFrobenius}) {
    REQUIRE(ParseWeightNorm(ToString(norm)) == norm);
  }
  REQUIRE_THROWS_MATCHES(ParseWeightNorm("l2"),
                         std::invalid_argument,
                         Catch::Message("ParseWeightNorm(): expected norm row or frobenius, got 'l2'"));
}

TEST_CASE("SupConMultisetBound: K=3, n=2, b=9, rho=1 gives 25205.688636803963 over 2002 batches", "[bounds]") {
  for (const Temperature temperature : {Temperature::FromRadius(1.0), Temperature::FromTemperature(1.0)}) {
    const SupConMultisetBoundResult result = SupConMultisetBound(3, 2, 9, temperature);
    REQUIRE(RelativeError(result.value, 25205.688636803963) < kTightTolerance);
    REQUIRE(result.log_value == Approx(std::log(25205.688636803963)).epsilon(kTightTolerance));
    REQUIRE(result.num_batches == Approx(2002.0).epsilon(kTightTolerance));
    REQUIRE(result.log_num_batches == Approx(std::log(2002.0)).epsilon(kTightTolerance));
    REQUIRE(result.per_anchor_mean == Approx(25205.688636803963 / (9.0 * 2002.0)).epsilon(kTightTolerance));
  }
}

TEST_CASE("SupConMultisetBound: equals a direct summation with exact binomial coefficients for small K, n and b",
          "[bounds]") {
  for (int k = 2; k <= 4; ++k) {
    for (int n = 1; n <= 3; ++n) {
      for (int b = 2; b <= 8; ++b) {
        for (const double radius : {0.5, 1.0, 2.0}) {
          CAPTURE(k, n, b, radius);
          const Temperature temperature = Temperature::FromRadius(radius);
          const SupConMultisetBoundResult result = SupConMultisetBound(k, n, b, temperature);
          const double expected = DirectSupConMultisetBound(k, n, b, temperature.inverse_temperature());
          REQUIRE(result.value == Approx(expected).epsilon(kTightTolerance).margin(kTightTolerance));
          REQUIRE(result.num_batches == Approx(static_cast<double>(MultisetCount(k * n, b))).epsilon(kTightTolerance));
        }
      }
    }
  }
}

TEST_CASE("SupConMultisetBound: totals far beyond 2^53 (the log-space route) equal the direct summation", "[bounds]") {
  // Up to about 1e200: large enough that only log space is safe inside the implementation, small enough that the
  // direct sum still fits a double here.
  for (const int k : {3, 10}) {
    for (const int n : {5, 20, 100}) {
      for (const int b : {10, 32, 64}) {
        CAPTURE(k, n, b);
        const Temperature temperature = Temperature::FromTemperature(0.1);
        const SupConMultisetBoundResult result = SupConMultisetBound(k, n, b, temperature);
        const double expected = DirectSupConMultisetBound(k, n, b, temperature.inverse_temperature());
        REQUIRE(std::isfinite(expected));
        REQUIRE(RelativeError(result.value, expected) < kTightTolerance);
        REQUIRE(result.log_value == Approx(std::log(expected)).epsilon(kTightTolerance));
        const double num_batches = BinomialInDouble(k * n + b - 1, b);
        REQUIRE(RelativeError(result.num_batches, num_batches) < kTightTolerance);
        REQUIRE(RelativeError(result.per_anchor_mean, expected / (b * num_batches)) < kTightTolerance);
      }
    }
  }
}

TEST_CASE("SupConMultisetBound: equals the sum of SupConLoss over all multisets of size b at the simplex", "[bounds]") {
  struct Case {
    int k, n, b;
    double radius;
  };
  for (const Case& c : {Case{3, 2, 9, 1.0}, Case{2, 3, 4, 2.0}, Case{4, 1, 5, 0.7}, Case{3, 2, 3, 1.3}}) {
    CAPTURE(c.k, c.n, c.b, c.radius);
    std::uint64_t num_batches = 0;
    const double total = SumOfSupConOverAllBatches(c.k, c.n, c.b, c.radius, &num_batches);
    const SupConMultisetBoundResult bound = SupConMultisetBound(c.k, c.n, c.b, Temperature::FromRadius(c.radius));
    REQUIRE(num_batches == MultisetCount(c.k * c.n, c.b));
    REQUIRE(bound.num_batches == Approx(static_cast<double>(num_batches)).epsilon(kTightTolerance));
    REQUIRE(RelativeError(bound.value, total) < kTightTolerance);
  }
  std::uint64_t num_batches = 0;
  REQUIRE(SumOfSupConOverAllBatches(3, 2, 9, 1.0, &num_batches) == Approx(25205.688636803963).epsilon(kTightTolerance));
  REQUIRE(num_batches == 2002);
}

TEST_CASE("SupConMultisetBound: per_anchor_mean equals value / (b * num_batches) and log_value = log(value)",
          "[bounds]") {
  for (const int b : {2, 3, 9, 20}) {
    CAPTURE(b);
    const SupConMultisetBoundResult result = SupConMultisetBound(4, 3, b, Temperature::FromTemperature(0.5));
    REQUIRE(result.per_anchor_mean ==
            Approx(result.value / (b * result.num_batches)).epsilon(kTightTolerance).margin(kRoundingTolerance));
    if (result.value > 0.0) REQUIRE(result.log_value == Approx(std::log(result.value)).epsilon(kTightTolerance));
    REQUIRE(result.num_batches == Approx(std::exp(result.log_num_batches)).epsilon(kTightTolerance));
  }
}

TEST_CASE("SupConMultisetBound: b = 2 gives value 0 (each anchor's only positive has no competitor)", "[bounds]") {
  const SupConMultisetBoundResult result = SupConMultisetBound(3, 4, 2, Temperature::FromTemperature(0.1));
  REQUIRE(result.value == Approx(0.0).margin(0.0));
  REQUIRE(IsMinusInfinity(result.log_value));
  REQUIRE(result.per_anchor_mean == Approx(0.0).margin(0.0));
  REQUIRE(result.num_batches == Approx(static_cast<double>(MultisetCount(12, 2))).epsilon(kTightTolerance));
  std::uint64_t num_batches = 0;
  REQUIRE(SumOfSupConOverAllBatches(3, 4, 2, 1.0, &num_batches) == Approx(0.0).margin(kRoundingTolerance));
}

TEST_CASE("SupConMultisetBound: K=100, n=500, b=256, tau=0.1 has a finite log value and per-anchor mean", "[bounds]") {
  const SupConMultisetBoundResult result = SupConMultisetBound(100, 500, 256, Temperature::FromTemperature(0.1));
  REQUIRE(std::isfinite(result.log_value));
  REQUIRE(std::isfinite(result.log_num_batches));
  REQUIRE(std::isfinite(result.per_anchor_mean));
  // The total overflows double; its log does not.
  REQUIRE(result.log_value > std::log(std::numeric_limits<double>::max()));
  REQUIRE(IsPlusInfinity(result.value));
  REQUIRE(result.log_num_batches == Approx(LogMultisetCount(50000.0, 256.0)).epsilon(kTightTolerance));
  // For N = 50,000 >> b a uniform multiset is nearly an i.i.d. sample, so the per-anchor mean is within 1% of the
  // i.i.d. floor (0.8081 against 0.8067).
  const double floor = SupConIidFloor(100, 256, Temperature::FromTemperature(0.1));
  REQUIRE(RelativeError(result.per_anchor_mean, floor) < 1e-2);
}

TEST_CASE("SupConMultisetBound: K < 2, n < 1 and b < 2 throw", "[bounds]") {
  const Temperature temperature = Temperature::FromTemperature(1.0);
  REQUIRE_THROWS_MATCHES(SupConMultisetBound(1, 2, 9, temperature),
                         std::invalid_argument,
                         Catch::Message("SupConMultisetBound(): expected num_classes (K) >= 2, got 1"));
  REQUIRE_THROWS_MATCHES(SupConMultisetBound(3, 0, 9, temperature),
                         std::invalid_argument,
                         Catch::Message("SupConMultisetBound(): expected per_class (n) >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(SupConMultisetBound(3, 2, 1, temperature),
                         std::invalid_argument,
                         Catch::Message("SupConMultisetBound(): expected batch_size (b) >= 2, got 1"));
  REQUIRE_THROWS_MATCHES(SupConMultisetBound(3, 2, -4, temperature), std::invalid_argument, MessageContains("got -4"));
}

TEST_CASE("SupConCompositionValue: K=3, rho=1, composition {5, 4, 0} gives 13.597726095124795", "[bounds]") {
  REQUIRE(SupConCompositionValue({5, 4, 0}, Temperature::FromRadius(1.0)) ==
          Approx(13.597726095124795).epsilon(kTightTolerance));
}

TEST_CASE("SupConCompositionValue: equals sum over classes with count l >= 2 of l log(l-1 + (b-l) exp(-rho^2 K/(K-1)))",
          "[bounds]") {
  const std::vector<std::vector<int>> compositions = {{3, 3, 3}, {9, 0, 0}, {1, 1, 1}, {2, 0, 5, 1}, {6, 2}};
  for (const std::vector<int>& composition : compositions) {
    for (const double radius : {0.5, 1.0, 3.0}) {
      const double k = static_cast<double>(composition.size());
      int b = 0;
      for (const int l : composition) b += l;
      const double negative_weight = std::exp(-radius * radius * k / (k - 1.0));
      double expected = 0.0;
      for (const int l : composition) {
        if (l >= 2) expected += l * std::log((l - 1.0) + (b - l) * negative_weight);
      }
      CAPTURE(composition, radius);
      REQUIRE(SupConCompositionValue(composition, Temperature::FromRadius(radius)) ==
              Approx(expected).epsilon(kTightTolerance).margin(kRoundingTolerance));
    }
  }
  REQUIRE(SupConCompositionValue({1, 1, 1}, Temperature::FromRadius(1.0)) == Approx(0.0).margin(0.0));
}

TEST_CASE("SupConCompositionValue: fewer than 2 classes, negative counts and an empty batch throw", "[bounds]") {
  const Temperature temperature = Temperature::FromTemperature(1.0);
  REQUIRE_THROWS_MATCHES(
      SupConCompositionValue({5}, temperature),
      std::invalid_argument,
      Catch::Message("SupConCompositionValue(): expected number of classes in the composition (K) >= 2, got 1"));
  REQUIRE_THROWS_MATCHES(SupConCompositionValue({}, temperature), std::invalid_argument, MessageContains("got 0"));
  REQUIRE_THROWS_MATCHES(SupConCompositionValue({3, -1, 2}, temperature),
                         std::invalid_argument,
                         Catch::Message("SupConCompositionValue(): expected class counts >= 0, got -1 for class 1"));
  REQUIRE_THROWS_MATCHES(
      SupConCompositionValue({0, 0, 0}, temperature),
      std::invalid_argument,
      Catch::Message("SupConCompositionValue(): expected batch size (sum of the composition) >= 1, got 0"));
}

TEST_CASE("SupConIidFloor: K=10, b=256, tau=0.1 gives 3.220563813319926", "[bounds]") {
  REQUIRE(RelativeError(SupConIidFloor(10, 256, Temperature::FromTemperature(0.1)), 3.220563813319926) <
          kTightTolerance);
}

TEST_CASE("SupConIidFloor: equals a direct evaluation with exact binomial probabilities for small b", "[bounds]") {
  for (const int k : {2, 3, 5}) {
    for (int b = 2; b <= 12; ++b) {
      for (const double tau : {0.1, 1.0}) {
        CAPTURE(k, b, tau);
        const double negative_weight = std::exp(-k / (tau * (k - 1.0)));
        double sum = 0.0;
        for (int l = 2; l <= b; ++l) {
          const double probability =
              static_cast<double>(Binomial(b, l)) * std::pow(1.0 / k, l) * std::pow(1.0 - 1.0 / k, b - l);
          sum += probability * l * std::log((l - 1.0) + (b - l) * negative_weight);
        }
        const double expected = static_cast<double>(k) / b * sum;
        REQUIRE(SupConIidFloor(k, b, Temperature::FromTemperature(tau)) ==
                Approx(expected).epsilon(kTightTolerance).margin(kRoundingTolerance));
      }
    }
  }
}

TEST_CASE("SupConIidFloor: equals the mean over all K^b label sequences of SupConCompositionValue / b", "[bounds]") {
  struct Case {
    int k, b;
    double tau;
  };
  for (const Case& c : {Case{3, 6, 0.1}, Case{2, 8, 1.0}, Case{4, 5, 0.5}}) {
    CAPTURE(c.k, c.b, c.tau);
    const Temperature temperature = Temperature::FromTemperature(c.tau);
    double total = 0.0;
    long long sequences = 0;
    std::vector<int> labels(c.b, 0);
    while (true) {
      std::vector<int> composition(c.k, 0);
      for (const int label : labels) ++composition[label];
      total += SupConCompositionValue(composition, temperature) / c.b;
      ++sequences;
      int position = 0;  // next sequence in base K
      while (position < c.b && labels[position] == c.k - 1) labels[position++] = 0;
      if (position == c.b) break;
      ++labels[position];
    }
    REQUIRE(sequences == static_cast<long long>(std::pow(c.k, c.b)));
    REQUIRE(SupConIidFloor(c.k, c.b, temperature) == Approx(total / sequences).epsilon(kTightTolerance));
  }
}

TEST_CASE("SupConIidFloor: K < 2 and b < 2 throw", "[bounds]") {
  const Temperature temperature = Temperature::FromTemperature(0.1);
  REQUIRE_THROWS_MATCHES(SupConIidFloor(1, 256, temperature),
                         std::invalid_argument,
                         Catch::Message("SupConIidFloor(): expected num_classes (K) >= 2, got 1"));
  REQUIRE_THROWS_MATCHES(SupConIidFloor(10, 1, temperature),
                         std::invalid_argument,
                         Catch::Message("SupConIidFloor(): expected batch_size (b) >= 2, got 1"));
}

TEST_CASE("LogMultisetCount: equals log C(n+k-1, k) for small n and k", "[bounds]") {
  for (int n = 1; n <= 12; ++n) {
    for (int k = 0; k <= 12; ++k) {
      CAPTURE(n, k);
      REQUIRE(
          LogMultisetCount(n, k) ==
          Approx(std::log(static_cast<double>(MultisetCount(n, k)))).epsilon(kTightTolerance).margin(kTightTolerance));
    }
  }
  REQUIRE(LogMultisetCount(6, 9) == Approx(std::log(2002.0)).epsilon(kTightTolerance));
  REQUIRE(LogMultisetCount(5, 0) == Approx(0.0).margin(0.0));
  REQUIRE(LogMultisetCount(1, 40) == Approx(0.0).margin(kTightTolerance));
}

TEST_CASE("LogMultisetCount: non-integer arguments are rejected", "[bounds]") {
  // A multiset count is defined for whole numbers of items and sizes only.
  REQUIRE_THROWS_MATCHES(LogMultisetCount(2.5, 3.0), std::invalid_argument, MessageContains("got 2.5 and 3"));
  REQUIRE_THROWS_MATCHES(LogMultisetCount(3.0, 0.5), std::invalid_argument, MessageContains("expected integers"));
}

TEST_CASE("LogMultisetCount: num_items < 1, size < 0 and NaN throw", "[bounds]") {
  REQUIRE_THROWS_MATCHES(
      LogMultisetCount(0.0, 1.0),
      std::invalid_argument,
      Catch::Message("LogMultisetCount(): expected integers num_items >= 1 and size >= 0, got 0 and 1"));
  REQUIRE_THROWS_MATCHES(LogMultisetCount(2.0, -1.0), std::invalid_argument, MessageContains("got 2 and -1"));
  REQUIRE_THROWS_MATCHES(LogMultisetCount(kNaN, 1.0), std::invalid_argument, MessageContains("got nan and 1"));
  REQUIRE_THROWS_MATCHES(LogMultisetCount(3.0, kNaN), std::invalid_argument, MessageContains("got 3 and nan"));
}

TEST_CASE("LogSumExp: the empty set and a set of -inf give -inf", "[bounds]") {
  REQUIRE(IsMinusInfinity(LogSumExp({})));
  REQUIRE(IsMinusInfinity(LogSumExp({-kInf})));
  REQUIRE(IsMinusInfinity(LogSumExp({-kInf, -kInf, -kInf})));
}

TEST_CASE("LogSumExp: -inf entries contribute nothing and a single value is returned unchanged", "[bounds]") {
  REQUIRE(LogSumExp({2.5}) == Approx(2.5).epsilon(kRoundingTolerance));
  REQUIRE(LogSumExp({-kInf, 2.5, -kInf}) == Approx(2.5).epsilon(kRoundingTolerance));
  REQUIRE(LogSumExp({0.0, std::log(2.0), std::log(3.0)}) == Approx(std::log(6.0)).epsilon(kRoundingTolerance));
}

TEST_CASE("LogSumExp: huge and tiny values neither overflow nor underflow, and +inf gives +inf", "[bounds]") {
  REQUIRE(LogSumExp({1000.0, 1000.0}) == Approx(1000.0 + std::log(2.0)).epsilon(kRoundingTolerance));
  REQUIRE(LogSumExp({-1000.0, -1000.0}) == Approx(-1000.0 + std::log(2.0)).epsilon(kRoundingTolerance));
  REQUIRE(LogSumExp({1e308, 1e308}) == Approx(1e308).epsilon(kRoundingTolerance));
  REQUIRE(LogSumExp({800.0, 0.0}) == Approx(800.0).epsilon(kRoundingTolerance));
  REQUIRE(IsPlusInfinity(LogSumExp({1.0, kInf})));
}

TEST_CASE("LogSumExp: a NaN entry gives NaN", "[bounds]") {
  // std::max ignores a NaN in its first argument, so a set whose only other entries are -inf could be reported as
  // an empty sum (-inf) instead of NaN: a regression test.
  CHECK(std::isnan(LogSumExp({1.0, kNaN})));
  CHECK(std::isnan(LogSumExp({kNaN})));
  CHECK(std::isnan(LogSumExp({kNaN, -kInf})));
}

}  // namespace
}  // namespace dissect::theory

namespace dissect::theory {
namespace {

TEST_CASE("SupConMultisetBound: the excess equals the bound minus its collapsed part, also in log space", "[bounds]") {
  for (const double radius : {1.0, 3.0}) {
    CAPTURE(radius);
    const Temperature scale = Temperature::FromRadius(radius);
    // K=3, n=2, b=9: collapsed part sum_l l M_l log(l-1), with M_l from exact multiset counts.
    const SupConMultisetBoundResult small = SupConMultisetBound(3, 2, 9, scale);
    double collapsed = 0.0;
    for (int l = 2; l <= 9; ++l) {
      const double m_l = 3.0 * std::exp(LogMultisetCount(2, l)) * std::exp(LogMultisetCount(4, 9 - l));
      collapsed += l * std::round(m_l) * std::log(l - 1.0);
    }
    CHECK(small.excess > 0.0);
    CHECK(small.value == Approx(collapsed + small.excess).epsilon(1e-14));
    // A case past 2^53 batches takes the log-space path: compare the ratio excess/value with direct terms.
    const SupConMultisetBoundResult large = SupConMultisetBound(10, 500, 16, scale);
    CHECK(std::isfinite(large.excess));
    CHECK(large.excess > 0.0);
    CHECK(large.excess < large.value);
  }
  CHECK(SupConCompositionExcess({5, 4, 0}, Temperature::FromRadius(1.0)) ==
        Approx(SupConCompositionValue({5, 4, 0}, Temperature::FromRadius(1.0)) - 5 * std::log(4.0) - 4 * std::log(3.0))
            .epsilon(1e-14));
}

}  // namespace
}  // namespace dissect::theory

namespace dissect::theory {
namespace {

// The sums over the class count l run over a window around their peak (terms below e^-140 of the largest are left
// out): at b = 100,000 they must equal the sums over every l, and at b = 2^31 - 1 they must answer (finite values),
// not loop over two billion terms.
TEST_CASE("SupConIidFloor and SupConMultisetBound: the summation window equals the full sum and reaches b = 2^31 - 1",
          "[bounds]") {
  const Temperature temperature = Temperature::FromTemperature(0.1);
  const int b = 100000;
  for (const int k : {2, 10, 1000}) {
    CAPTURE(k);
    const double negative_weight = std::exp(-temperature.inverse_temperature() * k / (k - 1.0));
    const boost::math::binomial_distribution<double> count(b, 1.0 / k);
    double full_iid = 0.0;
    std::vector<double> full_log_terms;
    const int n = 3 * b;  // N = K n points, so the multiset bound takes its log-space route
    for (int l = 2; l <= b; ++l) {
      const double anchor = std::log((l - 1.0) + (b - l) * negative_weight);
      full_iid += boost::math::pdf(count, static_cast<double>(l)) * l * anchor;
      full_log_terms.push_back(std::log(static_cast<double>(l)) + std::log(static_cast<double>(k)) +
                               LogMultisetCount(n, l) + LogMultisetCount(static_cast<double>(k) * n - n, b - l) +
                               std::log(anchor));
    }
    full_iid *= static_cast<double>(k) / b;
    CHECK(SupConIidFloor(k, b, temperature) == Approx(full_iid).epsilon(1e-14));
    CHECK(SupConMultisetBound(k, n, b, temperature).log_value == Approx(LogSumExp(full_log_terms)).epsilon(1e-14));
  }
  const int largest = std::numeric_limits<int>::max();
  for (const int k : {2, 10, largest}) {
    CAPTURE(k);
    const double floor = SupConIidFloor(k, largest, temperature);
    CHECK(std::isfinite(floor));
    // About log(b/K - 1 + (b - b/K) e^{-K/(K-1)/tau}) for b >> K.
    if (k == 10)
      CHECK(floor == Approx(std::log(largest / 10.0 + 0.9 * largest * std::exp(-100.0 / 9.0))).epsilon(1e-6));
  }
  // Multisets of b = 2^31 - 1 from N = 10^9 points: the sum spreads over a few thousand counts.
  CHECK(std::isfinite(SupConMultisetBound(1000, 1000000, largest, temperature).log_value));
  // From N = 2,000 points it would spread over about 10^9 counts: refused, not left running.
  REQUIRE_THROWS_MATCHES(SupConMultisetBound(2, 1000, largest, temperature),
                         std::invalid_argument,
                         MessageContains("the batch size is too large for the number of points"));
}

}  // namespace
}  // namespace dissect::theory
