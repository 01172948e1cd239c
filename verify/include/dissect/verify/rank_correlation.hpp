#pragma once
// Spearman's rank correlation with a percentile bootstrap interval (claim 3 of `dissect reproduce`: the gap to the
// optimum against test accuracy across runs).

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace dissect::verify {

// Ranks (1-based; ties get their mean rank).
std::vector<double> Ranks(const std::vector<double>& values);

// Spearman's rho (Pearson's on the ranks); NaN where a side is constant or x and y differ in length or are empty.
double Spearman(const std::vector<double>& x, const std::vector<double>& y);

struct Correlation {
  double rho = std::numeric_limits<double>::quiet_NaN();
  double low = std::numeric_limits<double>::quiet_NaN();   // 2.5% of the bootstrap distribution
  double high = std::numeric_limits<double>::quiet_NaN();  // 97.5%
  std::size_t runs = 0;
};

// rho and its 95% percentile bootstrap interval over the pairs (resamples seeded by `seed`; those with a constant
// side are skipped; NaN bounds when fewer than 100 resamples remain).
Correlation BootstrapSpearman(const std::vector<double>& x,
                              const std::vector<double>& y,
                              int resamples = 2000,
                              std::uint64_t seed = 2021);

}  // namespace dissect::verify
