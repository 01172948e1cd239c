#pragma once
// A power law y = c + a x^e, with the offset c given, fitted to y - c > 0 by least squares in log-log space, with a
// bootstrap confidence interval for the exponent: how the noise experiment tells superlinear from linear growth of
// iterations-to-fit (c is then the iterations the clean labels take, so e measures the growth, not the level).

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace dissect::verify {

struct PowerLawFit {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  int num_points = 0;          // points used (x > 0, y - offset > 0, both finite)
  int num_skipped = 0;         // points left out (x <= 0, y - offset <= 0, NaN or infinite)
  double offset = 0.0;         // c
  double exponent = kNaN;      // e
  double prefactor = kNaN;     // a
  double exponent_low = kNaN;  // bootstrap percentile interval of e
  double exponent_high = kNaN;
  double confidence = kNaN;   // e.g. 0.95
  int bootstrap_samples = 0;  // resamples with at least two distinct x
  // "superlinear" (interval above 1), "linear" (interval contains 1), "sublinear" (interval below 1), or
  // "insufficient data" (fewer than 3 points or fewer than 2 distinct x).
  std::string verdict = "not run";
  std::string note;  // why the data were insufficient, where they were ("2 points: at least 3 are needed")
};

// Fits y = offset + a x^e to the pairs with x > 0 and y - offset > 0 (others are skipped and counted). The
// bootstrap resamples the pairs with replacement `bootstrap` times (seeded) and takes the percentile interval at
// `confidence`. Throws std::invalid_argument for x and y of different sizes, confidence outside (0, 1),
// bootstrap < 1 or an offset that is not finite.
PowerLawFit FitPowerLaw(const std::vector<double>& x,
                        const std::vector<double>& y,
                        int bootstrap = 2000,
                        double confidence = 0.95,
                        std::uint64_t seed = 0,
                        double offset = 0.0);

}  // namespace dissect::verify
