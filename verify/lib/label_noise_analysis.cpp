#include "dissect/verify/label_noise_analysis.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <stdexcept>

namespace dissect::verify {

double Curvature(double t0, double t_half, double t1) {
  if (!(t1 > t0)) return SeedCurvature::kNaN;
  return 4.0 * (t1 - 2.0 * t_half + t0) / (t1 - t0);
}

LossCurvature AnalyzeCurvature(const std::vector<NoiseRunResult>& runs,
                               const std::string& loss,
                               double confidence,
                               int bootstrap) {
  LossCurvature result;
  result.loss = loss;
  // replicate -> fraction -> run
  std::map<int, std::map<double, const NoiseRunResult*>> by_seed;
  for (const NoiseRunResult& run : runs) {
    if (run.loss != loss) continue;
    ++result.runs;
    result.censored_runs += run.censored ? 1 : 0;
    auto& slot = by_seed[run.replicate][run.fraction];
    if (slot != nullptr) {
      throw std::invalid_argument(
          fmt::format("AnalyzeCurvature(): two {} runs of replicate {} at p = {}", loss, run.replicate, run.fraction));
    }
    slot = &run;
  }
  std::vector<double> kappas, ratios, clean;
  for (const auto& [replicate, fractions] : by_seed) {
    SeedCurvature s;
    s.replicate = replicate;
    const auto find = [&](double p) {
      const auto it = fractions.find(p);
      return it == fractions.end() ? nullptr : it->second;
    };
    const NoiseRunResult *r0 = find(0.0), *r_half = find(0.5), *r1 = find(1.0);
    const auto measured = [](const NoiseRunResult* r) { return r != nullptr && std::isfinite(r->iterations); };
    if (!measured(r0) || !measured(r_half) || !measured(r1)) {
      s.note = "no finished run at p = 0, 0.5 or 1";
    } else {
      s.t0 = r0->iterations;
      s.t_half = r_half->iterations;
      s.t1 = r1->iterations;
      s.lower_bound = r1->censored;
      s.kappa = Curvature(s.t0, s.t_half, s.t1);
      s.growth_ratio = s.t1 / s.t0;
      if (r0->censored || r_half->censored) {
        s.note = "censored at p = 0 or 0.5";
      } else if (!(s.t0 > 0.0)) {
        s.note = "T(0) = 0: no growth ratio";
      } else if (std::isnan(s.kappa)) {
        s.note = "T(1) <= T(0): no growth to measure";
      } else {
        s.usable = true;
      }
    }
    if (s.usable) {
      ++result.usable;
      result.lower_bounds += s.lower_bound ? 1 : 0;
      kappas.push_back(s.kappa);
      ratios.push_back(s.growth_ratio);
    }
    if (measured(r0) && !r0->censored) clean.push_back(r0->iterations);
    result.seeds.push_back(s);
  }
  result.kappa = MeanInterval(kappas, confidence);
  result.growth_ratio = MeanInterval(ratios, confidence);
  // The description: one power law over the runs with flipped labels, above the mean clean run (the offset). The
  // clean runs are the offset, not points of the fit; without a fitted clean run there is no offset and no fit.
  std::vector<double> x, y;
  for (const NoiseRunResult& run : runs) {
    if (run.loss != loss || run.num_flipped <= 0) continue;
    x.push_back(static_cast<double>(run.num_flipped));
    y.push_back(run.censored ? std::nan("") : run.iterations);
  }
  if (clean.empty()) {
    result.power_law.num_skipped = static_cast<int>(x.size());
    result.power_law.offset = PowerLawFit::kNaN;
    result.power_law.confidence = confidence;
    result.power_law.verdict = "insufficient data";
    result.power_law.note = "no clean run (p = 0) reached the fit: no offset";
    return result;
  }
  result.power_law = FitPowerLaw(x, y, bootstrap, confidence, 0, Mean(clean));
  return result;
}

PairedCurvature PairCurvatures(const LossCurvature& a, const LossCurvature& b, double confidence) {
  PairedCurvature paired;
  std::map<int, const SeedCurvature*> of_b;
  for (const SeedCurvature& s : b.seeds) {
    if (s.usable) of_b[s.replicate] = &s;
  }
  std::vector<double> differences;
  for (const SeedCurvature& s : a.seeds) {
    const auto it = of_b.find(s.replicate);
    if (!s.usable || it == of_b.end()) continue;
    differences.push_back(s.kappa - it->second->kappa);
    paired.lower_bound = paired.lower_bound || s.lower_bound;
    paired.invalid = paired.invalid || it->second->lower_bound;
  }
  paired.difference = MeanInterval(differences, confidence);
  return paired;
}

}  // namespace dissect::verify
