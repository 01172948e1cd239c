#include "dissect/verify/rank_correlation.hpp"

#include "dissect/verify/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace dissect::verify {

std::vector<double> Ranks(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = (i + j) / 2.0 + 1.0;
    i = j + 1;
  }
  return ranks;
}

double Spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.empty() || x.size() != y.size()) return std::nan("");
  const std::vector<double> rx = Ranks(x), ry = Ranks(y);
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(rx.begin(), rx.end(), 0.0) / n, my = std::accumulate(ry.begin(), ry.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : std::nan("");
}

Correlation BootstrapSpearman(const std::vector<double>& x,
                              const std::vector<double>& y,
                              int resamples,
                              std::uint64_t seed) {
  Correlation c;
  c.runs = x.size();
  c.rho = Spearman(x, y);
  if (x.empty() || x.size() != y.size()) return c;
  std::vector<double> bx(x.size()), by(y.size());
  const BootstrapInterval interval =
      PercentileBootstrap(x.size(), resamples, 0.95, seed, [&](const std::vector<std::size_t>& indices) {
        for (std::size_t i = 0; i < indices.size(); ++i) {
          bx[i] = x[indices[i]];
          by[i] = y[indices[i]];
        }
        return Spearman(bx, by);  // NaN (dropped) for a resample without spread
      });
  if (interval.samples >= 100) {  // fewer finite resamples: no interval worth the name
    c.low = interval.low;
    c.high = interval.high;
  }
  return c;
}

}  // namespace dissect::verify
