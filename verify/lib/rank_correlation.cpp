#include "dissect/verify/rank_correlation.hpp"

#include "dissect/verify/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

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
  std::mt19937_64 generator(seed);
  std::uniform_int_distribution<std::size_t> pick(0, x.size() - 1);
  std::vector<double> samples;
  for (int b = 0; b < resamples; ++b) {
    std::vector<double> bx, by;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::size_t k = pick(generator);
      bx.push_back(x[k]);
      by.push_back(y[k]);
    }
    const double rho = Spearman(bx, by);
    if (std::isfinite(rho)) samples.push_back(rho);
  }
  if (samples.size() >= 100) {
    std::sort(samples.begin(), samples.end());
    c.low = SortedQuantile(samples, 0.025);
    c.high = SortedQuantile(samples, 0.975);
  }
  return c;
}

}  // namespace dissect::verify
