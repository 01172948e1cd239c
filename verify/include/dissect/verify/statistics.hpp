#pragma once
// Statistics of independent replicates (seeds): means, Student-t intervals of a mean and of paired differences,
// percentile quantiles. The named tests of `dissect reproduce` (docs/claims.md) are built from these.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace dissect::verify {

// A two-sided confidence interval of a mean over `count` independent values.
struct Interval {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  double estimate = kNaN;  // the mean
  double low = kNaN;       // NaN below 2 values
  double high = kNaN;
  double confidence = kNaN;      // e.g. 0.95
  double standard_error = kNaN;  // sample standard deviation / sqrt(count)
  int count = 0;

  // Both bounds finite (at least 2 values).
  bool decided() const;
  // (high - low) / 2.
  double half_width() const { return (high - low) / 2.0; }
};

// The arithmetic mean; NaN for no values.
double Mean(const std::vector<double>& values);

// The sample standard deviation (divides by count - 1); NaN below 2 values.
double SampleStandardDeviation(const std::vector<double>& values);

// The quantile of Student's t distribution with `degrees_of_freedom` (> 0) at `probability` in (0, 1).
// Throws std::invalid_argument outside those ranges.
double StudentTQuantile(double probability, double degrees_of_freedom);

// The two-sided Student-t interval of the mean at `confidence` in (0, 1): mean +- t_{(1+c)/2, n-1} s / sqrt(n).
// Below 2 values the bounds are NaN; equal values give a point interval. Throws std::invalid_argument for a
// confidence outside (0, 1) or a value that is not finite (naming its index).
Interval MeanInterval(const std::vector<double>& values, double confidence = 0.95);

// MeanInterval of the paired differences a_i - b_i. Throws std::invalid_argument when the sizes differ.
Interval PairedDifferenceInterval(const std::vector<double>& a, const std::vector<double>& b, double confidence = 0.95);

// The q-quantile (q in [0, 1]) of values sorted ascending, interpolated linearly (numpy's default); NaN for none.
double SortedQuantile(const std::vector<double>& sorted, double q);  // NaN for a NaN q

// The percentile bootstrap behind every resampled interval of dissect (the power law's exponent, Spearman's rho):
// `resamples` draws of n indices in [0, n) with replacement from a generator seeded `seed`, `statistic` of each
// (non-finite values dropped), and the (1 - confidence)/2 and (1 + confidence)/2 quantiles of what is left.
struct BootstrapInterval {
  double low = std::numeric_limits<double>::quiet_NaN();
  double high = std::numeric_limits<double>::quiet_NaN();
  int samples = 0;  // finite statistics among the resamples
};
BootstrapInterval PercentileBootstrap(std::size_t n,
                                      int resamples,
                                      double confidence,
                                      std::uint64_t seed,
                                      const std::function<double(const std::vector<std::size_t>& indices)>& statistic);

}  // namespace dissect::verify
