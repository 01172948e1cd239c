#include "dissect/verify/statistics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <random>
#include <stdexcept>

namespace dissect::verify {

bool Interval::decided() const { return count >= 2 && std::isfinite(low) && std::isfinite(high); }

double Mean(const std::vector<double>& values) {
  if (values.empty()) return Interval::kNaN;
  double sum = 0.0;
  for (const double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

double SampleStandardDeviation(const std::vector<double>& values) {
  if (values.size() < 2) return Interval::kNaN;
  const double mean = Mean(values);
  double squares = 0.0;
  for (const double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

double StudentTQuantile(double probability, double degrees_of_freedom) {
  if (!(probability > 0.0 && probability < 1.0)) {
    throw std::invalid_argument(
        fmt::format("StudentTQuantile(): expected a probability in (0, 1), got {}", probability));
  }
  if (!(degrees_of_freedom > 0.0) || !std::isfinite(degrees_of_freedom)) {
    throw std::invalid_argument(
        fmt::format("StudentTQuantile(): expected degrees of freedom > 0, got {}", degrees_of_freedom));
  }
  return boost::math::quantile(boost::math::students_t_distribution<double>(degrees_of_freedom), probability);
}

Interval MeanInterval(const std::vector<double>& values, double confidence) {
  if (!(confidence > 0.0 && confidence < 1.0)) {
    throw std::invalid_argument(fmt::format("MeanInterval(): expected a confidence in (0, 1), got {}", confidence));
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw std::invalid_argument(fmt::format("MeanInterval(): value {} is {}, not a finite number", i, values[i]));
    }
  }
  Interval interval;
  interval.confidence = confidence;
  interval.count = static_cast<int>(values.size());
  interval.estimate = Mean(values);
  if (values.size() < 2) return interval;
  const double n = static_cast<double>(values.size());
  interval.standard_error = SampleStandardDeviation(values) / std::sqrt(n);
  const double t = StudentTQuantile((1.0 + confidence) / 2.0, n - 1.0);
  interval.low = interval.estimate - t * interval.standard_error;
  interval.high = interval.estimate + t * interval.standard_error;
  return interval;
}

Interval PairedDifferenceInterval(const std::vector<double>& a, const std::vector<double>& b, double confidence) {
  if (a.size() != b.size()) {
    throw std::invalid_argument(
        fmt::format("PairedDifferenceInterval(): {} values on one side but {} on the other", a.size(), b.size()));
  }
  std::vector<double> differences(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) differences[i] = a[i] - b[i];
  return MeanInterval(differences, confidence);
}

double SortedQuantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty() || std::isnan(q)) return Interval::kNaN;
  const double position = std::clamp(q, 0.0, 1.0) * static_cast<double>(sorted.size() - 1);
  const auto low = static_cast<std::size_t>(std::floor(position));
  const std::size_t high = std::min(low + 1, sorted.size() - 1);
  return sorted[low] + (position - static_cast<double>(low)) * (sorted[high] - sorted[low]);
}

BootstrapInterval PercentileBootstrap(std::size_t n,
                                      int resamples,
                                      double confidence,
                                      std::uint64_t seed,
                                      const std::function<double(const std::vector<std::size_t>& indices)>& statistic) {
  BootstrapInterval interval;
  if (n == 0 || resamples < 1) return interval;
  std::mt19937_64 generator(seed);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  std::vector<std::size_t> indices(n);
  std::vector<double> samples;
  for (int b = 0; b < resamples; ++b) {
    for (std::size_t& index : indices) index = pick(generator);
    const double value = statistic(indices);
    if (std::isfinite(value)) samples.push_back(value);
  }
  interval.samples = static_cast<int>(samples.size());
  if (samples.empty()) return interval;
  std::sort(samples.begin(), samples.end());
  interval.low = SortedQuantile(samples, (1.0 - confidence) / 2.0);
  interval.high = SortedQuantile(samples, (1.0 + confidence) / 2.0);
  return interval;
}

}  // namespace dissect::verify
