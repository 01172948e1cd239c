// Tests of theory/src/vector_exp.hpp (private to theory: the exponential passes of the SC kernel), on every
// instruction set this CPU runs: each result against std::exp / std::expm1 in ulps, the special values, the tails of
// every length, and that the instruction sets agree (sums in the same order; FMA moves the last bit at most).

#include "vector_exp.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "catch.hpp"

namespace dissect::theory::detail {
namespace {

constexpr InstructionSet kAll[] = {InstructionSet::kBaseline, InstructionSet::kAvx2, InstructionSet::kAvx512};

// |a - b| in units of the last place of b; below the smallest normal, in units of the smallest subnormal.
template <typename Scalar>
double Ulps(Scalar a, Scalar b) {
  if (a == b) return 0.0;
  const Scalar magnitude = std::max(std::abs(b), std::numeric_limits<Scalar>::min());
  const Scalar ulp = std::nextafter(magnitude, std::numeric_limits<Scalar>::infinity()) - magnitude;
  return static_cast<double>(std::abs(a - b)) / static_cast<double>(ulp);
}

std::vector<double> Arguments(std::size_t n, double low, double high, unsigned seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> uniform(low, high);
  std::vector<double> x(n);
  for (double& v : x) v = uniform(engine);
  return x;
}

TEST_CASE("vector exp: within one ulp of std::exp over the whole range, on every instruction set", "[vector_exp]") {
  std::vector<double> x = Arguments(200003, -745.0, 0.0, 1);
  // Small arguments, the reduction's boundaries, subnormal results and zeros.
  for (int e = 0; e < 60; ++e) x.push_back(-std::ldexp(1.0, -e));
  for (int k = 0; k < 1100; ++k) x.push_back(-0.5 * std::log(2.0) * k);
  for (const double v : {0.0, -0.0, -708.4, -709.0, -740.0, -744.4, -745.2, -800.0, -1e300}) x.push_back(v);
  x.push_back(-std::numeric_limits<double>::infinity());
  for (const InstructionSet isa : kAll) {
    if (!Supported(isa)) continue;
    INFO(ToString(isa));
    std::vector<double> y = x;
    const double sum = ExpShiftedSum(isa, y.data(), static_cast<Eigen::Index>(y.size()), 0.0);
    double worst = 0.0, reference_sum = 0.0;
    for (std::size_t k = 0; k < x.size(); ++k) {
      const double reference = std::exp(x[k]);
      reference_sum += reference;
      worst = std::max(worst, Ulps(y[k], reference));
    }
    CHECK(worst <= 1.0);
    CHECK(y.back() == 0.0);  // -infinity
    CHECK(std::abs(sum - reference_sum) <= 1e-13 * reference_sum);
  }
}

TEST_CASE("vector exp: the shift, and float within one ulp of std::exp", "[vector_exp]") {
  std::vector<float> x;
  for (const double v : Arguments(100003, -104.0, 0.0, 2)) x.push_back(static_cast<float>(v));
  for (const float v : {0.0f, -1e-8f, -87.3f, -103.0f, -110.0f, -1e30f}) x.push_back(v);
  x.push_back(-std::numeric_limits<float>::infinity());
  for (const InstructionSet isa : kAll) {
    if (!Supported(isa)) continue;
    INFO(ToString(isa));
    std::vector<float> y = x;
    for (float& v : y) v += 2.5f;  // shifted back by the kernel: exp(x + 2.5 - 2.5), exact for these magnitudes
    std::vector<float> shifted = y;
    ExpShiftedSum(isa, y.data(), static_cast<Eigen::Index>(y.size()), 2.5f);
    double worst = 0.0;
    for (std::size_t k = 0; k < x.size(); ++k) worst = std::max(worst, Ulps(y[k], std::exp(shifted[k] - 2.5f)));
    CHECK(worst <= 1.0);
    CHECK(y.back() == 0.0f);
  }
}

TEST_CASE("vector expm1: within two ulps of std::expm1, tiny arguments exact to the last digits", "[vector_exp]") {
  std::vector<double> x = Arguments(50001, -4.0, 4.0, 3);
  for (double& v : Arguments(50001, -1e-3, 1e-3, 4)) x.push_back(v);
  for (int e = 1; e < 300; e += 7) x.push_back(std::ldexp(e % 2 ? 1.0 : -1.0, -e));
  for (const double v : {0.0, -0.0, 0.3465, -0.3466, 0.6931, 30.0, -30.0, -60.0, 700.0}) x.push_back(v);
  for (const InstructionSet isa : kAll) {
    if (!Supported(isa)) continue;
    INFO(ToString(isa));
    double worst = 0.0;
    for (const double v : x) worst = std::max(worst, Ulps(SumExpMinusOne(isa, &v, 1), std::expm1(v)));
    CHECK(worst <= 2.0);
  }
}

TEST_CASE("vector kernels: every tail length, max and scale, the same sums on every instruction set", "[vector_exp]") {
  for (Eigen::Index n = 0; n <= 40; ++n) {
    const std::vector<double> x = Arguments(static_cast<std::size_t>(n), -30.0, 0.0, 10 + static_cast<unsigned>(n));
    double reference_sum = 0.0, reference_expm1 = 0.0;
    for (const double v : x) {
      reference_sum += std::exp(v);
      reference_expm1 += std::expm1(v);
    }
    const double reference_max = n > 0 ? *std::max_element(x.begin(), x.end()) : -HUGE_VAL;
    std::vector<double> baseline;
    double baseline_sum = 0.0;
    for (const InstructionSet isa : kAll) {
      if (!Supported(isa)) continue;
      INFO(ToString(isa) << ", n = " << n);
      std::vector<double> y = x;
      CHECK(MaxValue(isa, y.data(), n) == reference_max);
      std::vector<float> yf(x.begin(), x.end());
      CHECK(MaxValue(isa, yf.data(), n) == (n > 0 ? static_cast<float>(reference_max) : -HUGE_VALF));
      const double sum = ExpShiftedSum(isa, y.data(), n, 0.0);
      CHECK(std::abs(sum - reference_sum) <= 1e-15 * std::max(1.0, reference_sum));
      CHECK(std::abs(SumExpMinusOne(isa, x.data(), n) - reference_expm1) <= 1e-14 * std::max(1.0, -reference_expm1));
      Scale(isa, y.data(), n, 0.5);
      for (Eigen::Index k = 0; k < n; ++k)
        CHECK(y[k] == 0.5 * ExpShiftedSum(isa, std::vector<double>{x[k]}.data(), 1, 0.0));
      if (baseline.empty() && isa == InstructionSet::kBaseline) {
        baseline = y;
        baseline_sum = sum;
      } else {
        // The sums' order is the same everywhere: only FMA in the exponentials differs (an ulp per term).
        CHECK(std::abs(sum - baseline_sum) <= 4e-16 * n * std::max(1.0, baseline_sum));
        for (Eigen::Index k = 0; k < n; ++k) CHECK(Ulps(y[k], baseline[k]) <= 1.0);
      }
    }
  }
}

TEST_CASE("vector kernels: the detected instruction set is supported and named", "[vector_exp]") {
  const InstructionSet detected = DetectedInstructionSet();
  CHECK(Supported(detected));
  CHECK(std::string(ToString(detected)).size() > 0);
  // DISSECT_INSTRUCTION_SET (set by the ctest runs theory.supcon_kernel_on_*) narrows it where the CPU has it;
  // without it, the widest the CPU has.
  const char* requested = std::getenv("DISSECT_INSTRUCTION_SET");
  for (const InstructionSet isa : kAll) {
    if (Supported(isa) && requested == nullptr) CHECK(static_cast<int>(isa) <= static_cast<int>(detected));
  }
  if (requested != nullptr && std::string(requested) == "sse2") CHECK(detected == InstructionSet::kBaseline);
  if (requested != nullptr && std::string(requested) == "avx2" && Supported(InstructionSet::kAvx2)) {
    CHECK(detected == InstructionSet::kAvx2);
  }
}

}  // namespace
}  // namespace dissect::theory::detail
