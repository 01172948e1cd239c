#include "dissect/verify/power_law.hpp"

#include "dissect/verify/statistics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace dissect::verify {
namespace {

// Least-squares line log y = log a + e log x; returns (e, log a), or NaN when all x are equal.
std::pair<double, double> FitLine(const std::vector<double>& u, const std::vector<double>& v) {
  // Equal x values leave the slope undefined; rounding in the mean would otherwise make it a huge finite number.
  if (u.empty() || std::all_of(u.begin(), u.end(), [&](double w) { return w == u.front(); })) {
    return {PowerLawFit::kNaN, PowerLawFit::kNaN};
  }
  const double n = static_cast<double>(u.size());
  double mean_u = 0.0, mean_v = 0.0;
  for (std::size_t i = 0; i < u.size(); ++i) {
    mean_u += u[i] / n;
    mean_v += v[i] / n;
  }
  double suu = 0.0, suv = 0.0;
  for (std::size_t i = 0; i < u.size(); ++i) {
    suu += (u[i] - mean_u) * (u[i] - mean_u);
    suv += (u[i] - mean_u) * (v[i] - mean_v);
  }
  if (!(suu > 0.0)) return {PowerLawFit::kNaN, PowerLawFit::kNaN};
  const double slope = suv / suu;
  return {slope, mean_v - slope * mean_u};
}

}  // namespace

PowerLawFit FitPowerLaw(const std::vector<double>& x,
                        const std::vector<double>& y,
                        int bootstrap,
                        double confidence,
                        std::uint64_t seed,
                        double offset) {
  if (x.size() != y.size()) {
    throw std::invalid_argument(fmt::format("FitPowerLaw(): {} x values but {} y values", x.size(), y.size()));
  }
  if (!(confidence > 0.0 && confidence < 1.0)) {
    throw std::invalid_argument(fmt::format("FitPowerLaw(): expected confidence in (0, 1), got {}", confidence));
  }
  if (bootstrap < 1)
    throw std::invalid_argument(fmt::format("FitPowerLaw(): expected bootstrap >= 1, got {}", bootstrap));
  if (!std::isfinite(offset))
    throw std::invalid_argument(fmt::format("FitPowerLaw(): expected a finite offset, got {}", offset));
  std::vector<double> u, v;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double above = y[i] - offset;
    if (x[i] > 0.0 && above > 0.0 && std::isfinite(x[i]) && std::isfinite(above)) {
      u.push_back(std::log(x[i]));
      v.push_back(std::log(above));
    }
  }
  PowerLawFit fit;
  fit.num_points = static_cast<int>(u.size());
  fit.num_skipped = static_cast<int>(x.size() - u.size());
  fit.offset = offset;
  fit.confidence = confidence;
  const auto [exponent, log_prefactor] = FitLine(u, v);
  if (u.size() < 3 || std::isnan(exponent)) {
    fit.verdict = "insufficient data";
    fit.note = u.size() < 3 ? fmt::format("{} usable points (of {}): at least 3 are needed", u.size(), x.size())
                            : "one distinct number of flipped labels: no slope";
    fit.exponent = exponent;
    fit.prefactor = std::exp(log_prefactor);
    return fit;
  }
  fit.exponent = exponent;
  fit.prefactor = std::exp(log_prefactor);
  std::vector<double> bu(u.size()), bv(v.size());
  const BootstrapInterval interval =
      PercentileBootstrap(u.size(), bootstrap, confidence, seed, [&](const std::vector<std::size_t>& indices) {
        for (std::size_t i = 0; i < indices.size(); ++i) {
          bu[i] = u[indices[i]];
          bv[i] = v[indices[i]];
        }
        return FitLine(bu, bv).first;  // NaN (dropped) for a resample of one distinct x
      });
  fit.bootstrap_samples = interval.samples;
  fit.exponent_low = interval.low;
  fit.exponent_high = interval.high;
  fit.verdict = fit.exponent_low > 1.0 ? "superlinear" : (fit.exponent_high < 1.0 ? "sublinear" : "linear");
  return fit;
}

}  // namespace dissect::verify
