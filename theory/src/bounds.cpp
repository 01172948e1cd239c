#include "dissect/theory/bounds.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <boost/math/special_functions/binomial.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "dissect/theory/check.hpp"

namespace dissect::theory {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Below log(2^53) the multiset counts are integers that a double holds exactly, so the bound is summed directly.
constexpr double kLinearSpaceLimit = 36.7;

// exp(-rho^2 K/(K-1)): the weight of one negative relative to one positive at the simplex.
double NegativeWeightAtSimplex(int num_classes, Temperature temperature) {
  return std::exp(-temperature.inverse_temperature() * num_classes / (num_classes - 1.0));
}

// log(l - 1 + (b - l) e): the SC term of one anchor whose class occurs l times in a batch of size b at the simplex.
double AnchorTermAtSimplex(int l, int b, double negative_weight) {
  return std::log((l - 1.0) + (b - l) * negative_weight);
}

// log1p((b - l) e / (l - 1)) = log(l - 1 + (b - l) e) - log(l - 1): the anchor term above its collapsed value log P,
// with full relative precision when e is tiny (small tau).
double AnchorExcessAtSimplex(int l, int b, double negative_weight) {
  return std::log1p((b - l) * negative_weight / (l - 1.0));
}

double LogGamma(double x) { return boost::math::lgamma(x); }

// log C(n, k). Where C(n, k) fits a double, Boost's binomial_coefficient is accurate to a few ulp, so its log is
// accurate to the last digits; lgamma differences lose about log(C) * 1e-16 absolutely, which exp turns into a
// relative error. Beyond that range only the log form exists.
double LogBinomial(double n, double k) {
  const double log_estimate = LogGamma(n + 1.0) - LogGamma(k + 1.0) - LogGamma(n - k + 1.0);
  if (log_estimate < 650.0 && n < 4.0e9) {
    return std::log(boost::math::binomial_coefficient<double>(static_cast<unsigned>(n), static_cast<unsigned>(k)));
  }
  return log_estimate;
}

// The terms of the bounds' sums over the count l of a class in the batch are unimodal in l (a log-concave count or
// probability times factors that change slowly with l). Terms more than kWindowMargin below the largest in log are
// below 1e-30 of it, and at most 2^31 of them are dropped, so the sum keeps its double precision; the work then grows
// like the width of the peak (about sqrt(b)), not like b, and b up to 2^31 - 1 answers at once.
constexpr double kWindowMargin = 140.0;

// The most terms a window may hold: b far beyond the number of points N spreads the multiset sum over about
// 30 b / sqrt(N) counts (seconds per million), and such a request is refused rather than left running for hours.
constexpr int kMaxWindowTerms = 2000000;

// The range [lo, hi] within [first, last] where log_term(l), unimodal in l and finite (a plateau of -inf would hide
// the peak from the search) except where the term is exactly 0, is within kWindowMargin of its maximum. Throws
// std::invalid_argument (naming `function`) when that range holds more than kMaxWindowTerms counts.
template <typename LogTerm>
std::pair<int, int> WindowAroundPeak(const char* function, int first, int last, LogTerm log_term) {
  int lo = first, hi = last;
  while (hi - lo > 2) {
    const int m1 = lo + (hi - lo) / 3;
    const int m2 = hi - (hi - lo) / 3;
    if (log_term(m1) < log_term(m2)) {
      lo = m1 + 1;
    } else {
      hi = m2 - 1;
    }
  }
  int peak = lo;
  for (int l = lo + 1; l <= hi; ++l) {
    if (log_term(l) > log_term(peak)) peak = l;
  }
  const double top = log_term(peak);
  if (top == -kInf) return {first, last};
  int left = peak, right = peak;
  const auto too_wide = [&] {
    if (right - left <= kMaxWindowTerms) return false;
    ThrowInvalidArgument(function,
                         fmt::format("the sum over class counts spreads over more than {} terms around l = {} of "
                                     "{}..{}: the batch size is too large for the number of points",
                                     kMaxWindowTerms,
                                     peak,
                                     first,
                                     last));
  };
  while (left > first && log_term(left - 1) > top - kWindowMargin && !too_wide()) --left;
  while (right < last && log_term(right + 1) > top - kWindowMargin && !too_wide()) ++right;
  return {left, right};
}

}  // namespace

std::string ToString(WeightNorm value) { return theory::NameOf(kWeightNormNames, value); }

WeightNorm ParseWeightNorm(std::string_view name) {
  return theory::ParseName(kWeightNormNames, name, "ParseWeightNorm", "norm");
}

double LogMultisetCount(double num_items, double size) {
  if (!(num_items >= 1.0) || !(size >= 0.0) || num_items != std::floor(num_items) || size != std::floor(size) ||
      !std::isfinite(num_items + size)) {
    ThrowInvalidArgument("LogMultisetCount",
                         fmt::format("expected integers num_items >= 1 and size >= 0, got {} and {}", num_items, size));
  }
  if (size == 0.0) return 0.0;
  return LogBinomial(num_items + size - 1.0, size);
}

double LogSumExp(const std::vector<double>& values) {
  double max_value = -kInf;
  for (double v : values) {
    if (std::isnan(v)) return v;
    max_value = std::max(max_value, v);
  }
  if (max_value == -kInf) return -kInf;
  if (max_value == kInf) return kInf;
  double sum = 0.0;
  for (double v : values) sum += std::exp(v - max_value);
  return max_value + std::log(sum);
}

double CrossEntropyBound(int num_classes, double radius, double weight_norm, WeightNorm norm) {
  constexpr const char* kFunction = "CrossEntropyBound";
  RequireAtLeast(kFunction, "num_classes (K)", num_classes, 2);
  RequirePositive(kFunction, "radius", radius);
  RequirePositive(kFunction, "weight_norm", weight_norm);
  const double k = num_classes;
  const double row_norm = norm == WeightNorm::kRow ? weight_norm : weight_norm / std::sqrt(k);
  // Paper: CE bound. log1p keeps full relative precision when the bound is tiny.
  return std::log1p((k - 1.0) * std::exp(-radius * row_norm * k / (k - 1.0)));
}

SupConMultisetBoundResult SupConMultisetBound(int num_classes, int per_class, int batch_size, Temperature temperature) {
  constexpr const char* kFunction = "SupConMultisetBound";
  RequireAtLeast(kFunction, "num_classes (K)", num_classes, 2);
  RequireAtLeast(kFunction, "per_class (n)", per_class, 1);
  RequireAtLeast(kFunction, "batch_size (b)", batch_size, 2);
  const double k = num_classes;
  const double n = per_class;
  const double num_points = k * n;
  const double negative_weight = NegativeWeightAtSimplex(num_classes, temperature);

  // Paper: SC bound. Term l: l M_l log(l-1 + (b-l) e), M_l = K C(n+l-1, l) C(N-n+b-l-1, b-l); all terms >= 0.
  const auto log_count = [&](int l) {
    return std::log(k) + LogMultisetCount(n, l) + LogMultisetCount(num_points - n, batch_size - l);
  };
  const auto log_term = [&](int l) {
    const double anchor_term = AnchorTermAtSimplex(l, batch_size, negative_weight);
    if (anchor_term <= 0.0) return -kInf;  // l = 2 with b = 2 contributes log(1) = 0
    return std::log(static_cast<double>(l)) + log_count(l) + std::log(anchor_term);
  };
  const auto [lo, hi] = WindowAroundPeak(kFunction, 2, batch_size, log_term);
  std::vector<double> log_terms;
  for (int l = lo; l <= hi; ++l) log_terms.push_back(log_term(l));
  SupConMultisetBoundResult result;
  result.log_value = LogSumExp(log_terms);
  result.log_num_batches = LogMultisetCount(num_points, batch_size);
  const double log_batch_size = std::log(static_cast<double>(batch_size));
  if (result.log_value < kLinearSpaceLimit && result.log_num_batches < kLinearSpaceLimit) {
    // Where everything fits a double, sum exact terms (accurate binomials, no exp(log(.)) round trip).
    double value = 0.0;
    double excess = 0.0;
    for (int l = 2; l <= batch_size; ++l) {
      const double m =
          k * std::exp(LogMultisetCount(n, l)) * std::exp(LogMultisetCount(num_points - n, batch_size - l));
      value += l * std::round(m) * AnchorTermAtSimplex(l, batch_size, negative_weight);
      excess += l * std::round(m) * AnchorExcessAtSimplex(l, batch_size, negative_weight);
    }
    result.value = value;
    result.excess = excess;
    result.num_batches = std::round(std::exp(result.log_num_batches));
    result.log_value = std::log(value);
    result.per_anchor_mean = value / (batch_size * result.num_batches);
  } else {
    const auto log_excess_term = [&](int l) {
      return std::log(static_cast<double>(l)) + log_count(l) +
             std::log(AnchorExcessAtSimplex(l, batch_size, negative_weight));
    };
    std::vector<double> log_excess_terms;
    if (batch_size > 2) {
      const auto [excess_lo, excess_hi] = WindowAroundPeak(kFunction, 2, batch_size - 1, log_excess_term);
      for (int l = excess_lo; l <= excess_hi; ++l) log_excess_terms.push_back(log_excess_term(l));
    }
    result.excess = std::exp(LogSumExp(log_excess_terms));
    result.value = std::exp(result.log_value);
    result.num_batches = std::exp(result.log_num_batches);
    result.per_anchor_mean = std::exp(result.log_value - log_batch_size - result.log_num_batches);
  }
  return result;
}

namespace {

// Sum over classes with count l >= 2 of l * term(l, b, e), for one batch of class counts `composition`.
template <typename Term>
double SumOverComposition(const char* function,
                          const std::vector<int>& composition,
                          Temperature temperature,
                          Term term) {
  RequireAtLeast(function, "number of classes in the composition (K)", static_cast<long long>(composition.size()), 2);
  long long batch_size = 0;
  for (std::size_t c = 0; c < composition.size(); ++c) {
    if (composition[c] < 0) {
      ThrowInvalidArgument(function, fmt::format("expected class counts >= 0, got {} for class {}", composition[c], c));
    }
    batch_size += composition[c];
  }
  RequireAtLeast(function, "batch size (sum of the composition)", batch_size, 1);
  const double negative_weight = NegativeWeightAtSimplex(static_cast<int>(composition.size()), temperature);
  double value = 0.0;
  for (int l : composition) {
    if (l >= 2) value += l * term(l, static_cast<int>(batch_size), negative_weight);
  }
  return value;
}

}  // namespace

double SupConCompositionValue(const std::vector<int>& composition, Temperature temperature) {
  return SumOverComposition("SupConCompositionValue", composition, temperature, AnchorTermAtSimplex);
}

double SupConCompositionExcess(const std::vector<int>& composition, Temperature temperature) {
  return SumOverComposition("SupConCompositionExcess", composition, temperature, AnchorExcessAtSimplex);
}

double SupConIidFloor(int num_classes, int batch_size, Temperature temperature) {
  constexpr const char* kFunction = "SupConIidFloor";
  RequireAtLeast(kFunction, "num_classes (K)", num_classes, 2);
  RequireAtLeast(kFunction, "batch_size (b)", batch_size, 2);
  const double k = num_classes;
  const double b = batch_size;
  const double negative_weight = NegativeWeightAtSimplex(num_classes, temperature);
  // Paper: expected per-sample floor. The count l of one class in an i.i.d. batch is Binomial(b, 1/K); Boost's
  // pdf is accurate to a few ulp for any b (no overflowing C(b, l) or underflowing K^-l).
  const boost::math::binomial_distribution<double> count_of_one_class(b, 1.0 / k);
  const auto term = [&](int l) {
    return boost::math::pdf(count_of_one_class, static_cast<double>(l)) * l *
           AnchorTermAtSimplex(l, batch_size, negative_weight);
  };
  // The window is found on the log of the term in closed form, finite for every l (the pdf itself underflows to 0
  // in the tails, and a search cannot tell flat zeros apart).
  const double log_p = -std::log(k), log_q = std::log1p(-1.0 / k);
  const auto log_term = [&](int l) {
    return LogBinomial(b, l) + l * log_p + (b - l) * log_q + std::log(static_cast<double>(l)) +
           std::log(AnchorTermAtSimplex(l, batch_size, negative_weight));
  };
  const auto [lo, hi] = WindowAroundPeak(kFunction, 2, batch_size, log_term);
  double sum = 0.0;
  for (int l = lo; l <= hi; ++l) sum += term(l);
  return k / b * sum;
}

bool ClassesBalanced(const std::vector<std::int64_t>& class_counts) {
  return std::all_of(
      class_counts.begin(), class_counts.end(), [&](std::int64_t c) { return c == class_counts.front(); });
}

BoundApplicability CrossEntropyBoundApplicability(const std::vector<std::int64_t>& class_counts,
                                                  int dim,
                                                  double radius,
                                                  double weight_norm) {
  const int num_classes = static_cast<int>(class_counts.size());
  BoundApplicability result;
  if (!ClassesBalanced(class_counts)) {
    result.reason = "the classes are not balanced";
  } else if (dim < num_classes - 1) {
    result.reason = fmt::format("h = {} < K-1 = {}", dim, num_classes - 1);
  } else if (!(radius > 0.0)) {
    result.reason = "the points are all zero";
  } else if (!(weight_norm > 0.0)) {
    result.reason = "W has only zero rows";
  } else {
    result.applies = true;
  }
  return result;
}

}  // namespace dissect::theory
