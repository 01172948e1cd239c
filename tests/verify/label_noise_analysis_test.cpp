// Tests of dissect/verify/label_noise_analysis.hpp: the curvature kappa of iterations to fit over the flipped
// fraction (known values), its interval over seeds, censored runs, and kappa paired by replicate.

#include "dissect/verify/label_noise_analysis.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"
#include "test_support.hpp"

namespace dissect::verify {
namespace {

using dissect::test::MessageContains;

constexpr double kT975Df1 = 12.706204736174707;
constexpr double kT975Df2 = 4.302652729749464;

NoiseRunResult Run(const std::string& loss, int replicate, double fraction, double iterations, bool censored = false) {
  NoiseRunResult r;
  r.loss = loss;
  r.replicate = replicate;
  r.fraction = fraction;
  r.num_flipped = static_cast<std::int64_t>(fraction * 1000);
  r.iterations = iterations;
  r.censored = censored;
  r.budget = 10000;
  return r;
}

// T(0), T(0.5), T(1) of one replicate.
void AddSeed(
    std::vector<NoiseRunResult>& runs, const std::string& loss, int replicate, double t0, double t_half, double t1) {
  runs.push_back(Run(loss, replicate, 0.0, t0));
  runs.push_back(Run(loss, replicate, 0.5, t_half));
  runs.push_back(Run(loss, replicate, 1.0, t1));
}

// kappa = 4 (T1 - 2 Th + T0) / (T1 - T0): 2 for (100, 200, 500), 2.4 for (120, 180, 420), 32/15 for (80, 150, 380).
std::vector<NoiseRunResult> SupConRuns() {
  std::vector<NoiseRunResult> runs;
  AddSeed(runs, "supcon", 2, 80, 150, 380);
  AddSeed(runs, "supcon", 0, 100, 200, 500);
  AddSeed(runs, "ce", 0, 100, 150, 200);  // another loss: left out
  AddSeed(runs, "supcon", 1, 120, 180, 420);
  return runs;
}

TEST_CASE("Curvature: linear 0, quadratic 2, p^e gives 4 (1 - 2^(1-e)), no growth NaN") {
  CHECK(Curvature(100, 150, 200) == Approx(0.0).margin(1e-15));
  CHECK(Curvature(7, 7.5, 8) == Approx(0.0).margin(1e-15));
  // T = 100 + 400 p^2: T(1/2) = 200, T(1) = 500.
  CHECK(Curvature(100, 200, 500) == Approx(2.0).epsilon(1e-15));
  for (const double e : {0.5, 1.5, 3.0}) {
    const double t_half = 100 + 400 * std::pow(0.5, e);
    CHECK(Curvature(100, t_half, 500) == Approx(4 * (1 - std::pow(2.0, 1 - e))).epsilon(1e-13));
  }
  CHECK(Curvature(100, 100 + 400 * std::sqrt(0.5), 500) == Approx(-1.6568542494923806).epsilon(1e-13));
  CHECK(Curvature(100, 100 + 400 * 0.125, 500) == Approx(3.0).epsilon(1e-14));  // e = 3
  CHECK(std::isnan(Curvature(100, 50, 100)));
  CHECK(std::isnan(Curvature(200, 150, 100)));
}

TEST_CASE("AnalyzeCurvature: kappa and T(1)/T(0) intervals over the seeds, by hand") {
  const LossCurvature c = AnalyzeCurvature(SupConRuns(), "supcon", 0.95, 100);
  CHECK(c.loss == "supcon");
  CHECK(c.runs == 9);
  CHECK(c.censored_runs == 0);
  CHECK(c.usable == 3);
  CHECK(c.lower_bounds == 0);
  REQUIRE(c.seeds.size() == 3);
  const std::vector<double> kappas = {2.0, 2.4, 32.0 / 15.0};
  for (int i = 0; i < 3; ++i) {
    CHECK(c.seeds[i].replicate == i);
    CHECK(c.seeds[i].usable);
    CHECK_FALSE(c.seeds[i].lower_bound);
    CHECK(c.seeds[i].kappa == Approx(kappas[i]).epsilon(1e-14));
    CHECK(c.seeds[i].note.empty());
  }
  CHECK(c.seeds[1].t0 == 120);
  CHECK(c.seeds[1].t_half == 180);
  CHECK(c.seeds[1].t1 == 420);
  CHECK(c.seeds[1].growth_ratio == Approx(3.5).epsilon(1e-15));
  const Interval by_hand = MeanInterval(kappas, 0.95);
  CHECK(c.kappa.count == 3);
  CHECK(c.kappa.estimate == Approx(by_hand.estimate).epsilon(1e-14));
  CHECK(c.kappa.low == Approx(by_hand.low).epsilon(1e-12));
  CHECK(c.kappa.high == Approx(by_hand.high).epsilon(1e-12));
  // The same interval from the t table: mean 98/45, s = 0.20367..., se = s / sqrt(3).
  CHECK(c.kappa.estimate == Approx(98.0 / 45.0).epsilon(1e-14));
  CHECK(c.kappa.low == Approx(98.0 / 45.0 - kT975Df2 * 0.11758894715842623).epsilon(1e-12));
  const Interval ratios = MeanInterval({5.0, 3.5, 4.75}, 0.95);
  CHECK(c.growth_ratio.estimate == Approx(ratios.estimate).epsilon(1e-14));
  CHECK(c.growth_ratio.low == Approx(ratios.low).epsilon(1e-12));
  // The power law's offset is the mean clean T(0).
  CHECK(c.power_law.offset == Approx(100.0).epsilon(1e-15));
}

TEST_CASE("AnalyzeCurvature: a censored T(1) is a usable lower bound") {
  std::vector<NoiseRunResult> runs = SupConRuns();
  for (NoiseRunResult& r : runs) {
    if (r.loss == "supcon" && r.replicate == 2 && r.fraction == 1.0) {
      r.censored = true;
      r.iterations = 400;  // the budget
    }
  }
  const LossCurvature c = AnalyzeCurvature(runs, "supcon", 0.95, 100);
  CHECK(c.censored_runs == 1);
  CHECK(c.usable == 3);
  CHECK(c.lower_bounds == 1);
  REQUIRE(c.seeds.size() == 3);
  CHECK(c.seeds[2].lower_bound);
  CHECK(c.seeds[2].usable);
  CHECK(c.seeds[2].kappa == Approx(2.25).epsilon(1e-14));  // 4 (400 - 300 + 80) / 320
  CHECK_FALSE(c.seeds[0].lower_bound);
  const Interval by_hand = MeanInterval({2.0, 2.4, 2.25}, 0.95);
  CHECK(c.kappa.low == Approx(by_hand.low).epsilon(1e-12));
  CHECK(c.kappa.high == Approx(by_hand.high).epsilon(1e-12));
}

TEST_CASE("AnalyzeCurvature: a censored T(0.5), a missing fraction or no growth leaves a seed unusable") {
  std::vector<NoiseRunResult> runs = SupConRuns();
  for (NoiseRunResult& r : runs) {
    if (r.loss == "supcon" && r.replicate == 1 && r.fraction == 0.5) r.censored = true;
  }
  AddSeed(runs, "supcon", 3, 300, 250, 200);   // T(1) < T(0)
  runs.push_back(Run("supcon", 4, 0.0, 100));  // p = 0.5 and 1 missing
  runs.push_back(Run("supcon", 4, 1.0, 300));
  const LossCurvature c = AnalyzeCurvature(runs, "supcon", 0.90, 100);
  CHECK(c.runs == 14);
  CHECK(c.censored_runs == 1);
  REQUIRE(c.seeds.size() == 5);
  CHECK_FALSE(c.seeds[1].usable);
  CHECK(c.seeds[1].note.find("censored") != std::string::npos);
  CHECK_FALSE(c.seeds[3].usable);
  CHECK(c.seeds[3].note.find("no growth") != std::string::npos);
  CHECK_FALSE(c.seeds[4].usable);
  CHECK(c.seeds[4].note.find("no finished run") != std::string::npos);
  CHECK(c.usable == 2);
  // Replicates 0 and 2 remain: kappa 2 and 32/15, mean 31/15, t_{0.95,1} = 6.313751514675043.
  CHECK(c.kappa.count == 2);
  CHECK(c.kappa.confidence == 0.90);
  CHECK(c.kappa.estimate == Approx(31.0 / 15.0).epsilon(1e-14));
  CHECK(c.kappa.half_width() == Approx(6.313751514675043 * (1.0 / 15.0)).epsilon(1e-10));
}

TEST_CASE("AnalyzeCurvature: a fitted run without iterations (null in the JSON) leaves its seed unusable") {
  std::vector<NoiseRunResult> runs = SupConRuns();
  for (NoiseRunResult& r : runs) {
    if (r.loss == "supcon" && r.replicate == 0 && r.fraction == 0.0) r.iterations = std::nan("");
  }
  LossCurvature c;
  REQUIRE_NOTHROW(c = AnalyzeCurvature(runs, "supcon", 0.95, 100));
  CHECK_FALSE(c.seeds[0].usable);
  CHECK(c.usable == 2);
  CHECK(std::isfinite(c.power_law.offset));
}

TEST_CASE(
    "AnalyzeCurvature: the power law leaves the clean runs out of its points and counts only flipped runs as skipped") {
  const LossCurvature c = AnalyzeCurvature(SupConRuns(), "supcon", 0.95, 100);
  // 9 supcon runs: 3 clean (the offset, mean 100), 6 with flips, all above the offset.
  CHECK(c.power_law.offset == Approx(100.0).epsilon(1e-15));
  CHECK(c.power_law.num_points == 6);
  CHECK(c.power_law.num_skipped == 0);
  CHECK(c.power_law.note.empty());
}

TEST_CASE("AnalyzeCurvature: no fitted clean run means no offset and no power law, with the reason") {
  // `dissect noise --fractions 0,0.1` where nothing fitted: every run censored at the budget.
  std::vector<NoiseRunResult> runs = {Run("ce", 0, 0.0, 10000, true), Run("ce", 0, 0.1, 10000, true)};
  const LossCurvature c = AnalyzeCurvature(runs, "ce", 0.95, 100);
  CHECK(std::isnan(c.power_law.offset));
  CHECK(std::isnan(c.power_law.exponent));
  CHECK(c.power_law.num_points == 0);
  CHECK(c.power_law.num_skipped == 1);  // the flipped run; the clean one is the (missing) offset, not a point
  CHECK(c.power_law.verdict == "insufficient data");
  CHECK(c.power_law.note == "no clean run (p = 0) reached the fit: no offset");
}

TEST_CASE("AnalyzeCurvature: two runs of one replicate at one fraction throw") {
  std::vector<NoiseRunResult> runs = SupConRuns();
  runs.push_back(Run("supcon", 1, 0.5, 190));
  CHECK_THROWS_MATCHES(
      AnalyzeCurvature(runs, "supcon", 0.95, 100), std::invalid_argument, MessageContains("replicate 1"));
  runs.pop_back();
  runs.push_back(Run("ce", 0, 0.5, 150));  // a duplicate of the other loss only matters for that loss
  CHECK_NOTHROW(AnalyzeCurvature(runs, "supcon", 0.95, 100));
  CHECK_THROWS_AS(AnalyzeCurvature(runs, "ce", 0.95, 100), std::invalid_argument);
}

TEST_CASE("PairCurvatures: differences paired by replicate, with the censoring flags") {
  const LossCurvature sc = AnalyzeCurvature(SupConRuns(), "supcon", 0.95, 100);
  // CE for replicates 3, 2, 1 (3 has no SC partner): kappa 0 for 2 ((100, 170, 240)), 4/3 for 1.
  std::vector<NoiseRunResult> ce_runs;
  AddSeed(ce_runs, "ce", 3, 100, 150, 200);
  AddSeed(ce_runs, "ce", 2, 100, 170, 240);
  AddSeed(ce_runs, "ce", 1, 100, 140, 220);
  const LossCurvature ce = AnalyzeCurvature(ce_runs, "ce", 0.95, 100);
  const PairedCurvature paired = PairCurvatures(sc, ce, 0.95);
  // Differences: replicate 1: 2.4 - 4/3 = 16/15, replicate 2: 32/15 - 0 = 32/15; mean 1.6, s = (16/15) / sqrt(2).
  CHECK(paired.difference.count == 2);
  CHECK(paired.difference.estimate == Approx(1.6).epsilon(1e-13));
  CHECK(paired.difference.half_width() == Approx(kT975Df1 * (8.0 / 15.0)).epsilon(1e-10));
  CHECK_FALSE(paired.lower_bound);
  CHECK_FALSE(paired.invalid);
  // A lower-bound kappa of a marks the difference as a lower bound, one of b makes it invalid.
  LossCurvature sc_censored = sc, ce_censored = ce;
  sc_censored.seeds[1].lower_bound = true;
  ce_censored.seeds[2].lower_bound = true;  // replicate 3: no partner, no effect
  CHECK(PairCurvatures(sc_censored, ce_censored, 0.95).lower_bound);
  CHECK_FALSE(PairCurvatures(sc_censored, ce_censored, 0.95).invalid);
  ce_censored.seeds[0].lower_bound = true;  // replicate 1
  CHECK(PairCurvatures(sc, ce_censored, 0.95).invalid);
  // An unusable seed on either side drops the pair.
  LossCurvature ce_unusable = ce;
  ce_unusable.seeds[0].usable = false;
  CHECK(PairCurvatures(sc, ce_unusable, 0.95).difference.count == 1);
}

}  // namespace
}  // namespace dissect::verify
