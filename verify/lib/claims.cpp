#include "dissect/verify/claims.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include "dissect/theory/bounds.hpp"
#include "dissect/theory/temperature.hpp"
#include "dissect/verify/rank_correlation.hpp"

namespace dissect::verify {
namespace {

Verdict PassOrFail(bool pass) { return pass ? Verdict::kPass : Verdict::kFail; }

std::string Percent(double confidence) { return fmt::format("{:g}%", 100.0 * confidence); }

std::string Bracket(const Interval& i, int digits) {
  if (!i.decided())
    return fmt::format("{:.{}f} (no interval: {} run{})", i.estimate, digits, i.count, i.count == 1 ? "" : "s");
  return fmt::format("{:.{}f} [{:.{}f}, {:.{}f}]", i.estimate, digits, i.low, digits, i.high, digits);
}

// What a test of `interval` can resolve, in words.
std::string Power(const Interval& interval, const std::string& unit) {
  if (!interval.decided()) {
    return fmt::format("{} independent run{} per arm: no interval, so no verdict but INCONCLUSIVE",
                       interval.count,
                       interval.count == 1 ? "" : "s");
  }
  return fmt::format(
      "{} independent runs per arm; the {} interval's half-width is {:.3g}{}: effects smaller than "
      "that cannot be told apart, and it shrinks about as 1/sqrt(runs)",
      interval.count,
      Percent(interval.confidence),
      interval.half_width(),
      unit);
}

std::string MoreRuns(const Interval& interval) {
  return fmt::format("more independent runs (seeds): {} gave a half-width of {:.3g}; about {} would halve it",
                     interval.count,
                     interval.decided() ? interval.half_width() : NAN,
                     4 * std::max(interval.count, 1));
}

// Runs of two arms paired by seed; throws when the seeds differ.
std::vector<std::pair<const TrainedRun*, const TrainedRun*>> PairBySeed(const std::vector<TrainedRun>& a,
                                                                        const std::vector<TrainedRun>& b,
                                                                        const char* where) {
  std::map<std::uint64_t, const TrainedRun*> of_b;
  for (const TrainedRun& r : b) of_b[r.seed] = &r;
  std::set<std::uint64_t> of_a;
  for (const TrainedRun& r : a) of_a.insert(r.seed);
  if (of_b.size() != b.size() || of_a.size() != a.size() || a.size() != b.size()) {
    throw std::invalid_argument(fmt::format(
        "{}(): expected the same seeds once each in both arms, got {} and {} runs", where, a.size(), b.size()));
  }
  std::vector<std::pair<const TrainedRun*, const TrainedRun*>> pairs;
  for (const TrainedRun& r : a) {
    const auto it = of_b.find(r.seed);
    if (it == of_b.end()) {
      throw std::invalid_argument(fmt::format("{}(): seed {} of {} has no run of {}",
                                              where,
                                              r.seed,
                                              r.loss,
                                              b.empty() ? std::string("the other arm") : b.front().loss));
    }
    pairs.emplace_back(&r, it->second);
  }
  return pairs;
}

bool AllFinite(const std::vector<TrainedRun>& runs, double TrainedRun::* field) {
  return std::all_of(runs.begin(), runs.end(), [&](const TrainedRun& r) { return std::isfinite(r.*field); });
}

}  // namespace

double Figure5KnownAnswer() { return theory::SupConMultisetBound(3, 2, 9, theory::Temperature::FromRadius(1.0)).value; }

Claim SweepClaim(const SweepResult& sweep) {
  Claim c;
  c.id = "1a";
  c.statement = "Free-point minima of CE and SC equal their lower bounds, at a regular simplex (h >= K-1)";
  c.expected = fmt::format(
      "every configuration: relative gap <= {:g}, class-mean Gram error <= {:g}", sweep.gap_target, sweep.gram_target);
  c.measured = fmt::format(
      "{} configurations ({} with h >= K-1), {} failures; largest relative gap {:.3g}, largest "
      "Gram error {:.3g}",
      sweep.configurations,
      sweep.simplex_configurations,
      sweep.failures,
      sweep.max_rel_gap,
      sweep.max_gram_error);
  c.verdict = PassOrFail(sweep.failures == 0 && sweep.complete && sweep.simplex_configurations > 0);
  return c;
}

Claim Figure5Claim(const MultisetMinimum& minimum, const Figure5Result& figure5) {
  const double known = Figure5KnownAnswer();
  const double rel = std::abs(minimum.final_loss - known) / known;
  const double simplex_rel = std::abs(figure5.simplex_total - known) / known;
  Claim c;
  c.id = "1b";
  c.statement =
      "Figure 5: SC summed over all 2002 multiset batches (K = 3, n = 2, b = 9, rho = 1) is minimized at the "
      "simplex, though per label configuration other points can do better";
  c.expected = fmt::format(
      "free-point minimum = per-batch sum at the simplex = bound = {:.17g} (relative difference "
      "<= 1e-9); points trained by SGD on i.i.d. batches not below it",
      known);
  c.measured = fmt::format(
      "minimum {:.17g} (relative difference {:.3g}, class-mean Gram error {:.3g}); per-batch sum "
      "at the simplex {:.17g}, at the SGD-trained points {:.17g} ({} of {} configurations below "
      "the simplex on average)",
      minimum.final_loss,
      rel,
      minimum.max_gram_error,
      figure5.simplex_total,
      figure5.trained_total,
      figure5.compositions_trained_below_simplex,
      figure5.compositions);
  c.verdict = PassOrFail(rel <= 1e-9 && simplex_rel <= 1e-9 && figure5.trained_total >= known * (1 - 1e-12));
  return c;
}

Claim Figure6Claim(const Figure6Result& figure6) {
  Claim c;
  c.id = "1c";
  c.statement =
      "Figure 6: a single unbalanced batch (9 points, 3 classes, on the circle) is minimized away from the "
      "simplex";
  c.expected = "every composition minimized at or below its simplex value; the unbalanced ones strictly below";
  c.measured = fmt::format("{} compositions, {} strictly below the simplex value (largest drop {:.4g}), {} failures",
                           figure6.compositions,
                           figure6.strictly_below,
                           figure6.largest_drop,
                           figure6.failures);
  c.verdict = PassOrFail(figure6.failures == 0 && figure6.strictly_below > 0);
  return c;
}

Claim Figure1Claim(const Figure1Result& figure1) {
  Claim c;
  c.id = "1d";
  c.statement =
      "Figure 1: gradient descent moves free points of K = 4 classes in R^3 from a random start to a "
      "regular simplex (a tetrahedron), for SC and for CE";
  c.expected = fmt::format("each path ends with relative gap to the bound <= {:g} and class-mean Gram error <= {:g}",
                           figure1.gap_target,
                           figure1.gram_target);
  for (const Figure1Flow& flow : figure1.flows) {
    c.measured += fmt::format("{}{}: {} steps, relative gap {:.3g}, Gram error {:.3g}, within-class spread {:.3g}",
                              c.measured.empty() ? "" : "; ",
                              flow.loss,
                              flow.steps,
                              flow.rel_gap,
                              flow.max_gram_error,
                              flow.max_within_class_spread);
  }
  c.verdict = PassOrFail(figure1.failures == 0 && !figure1.flows.empty());
  return c;
}

Claim AccuracyParityClaim(const std::vector<TrainedRun>& supcon,
                          const std::vector<TrainedRun>& ce,
                          const std::string& suffix,
                          const ClaimMargins& margins) {
  Claim c;
  c.id = "2a" + suffix;
  c.statement =
      "Trained encoders: SC's linear-probe test accuracy is on par with or above CE's (paper: SC 86.23 vs "
      "CE 83.62 without augmentation, 94.30 vs 93.66 with crop+flip, CIFAR-10, one run each)";
  c.expected = fmt::format(
      "SC - CE probe accuracy, paired by seed: the lower bound of its {} Student t interval "
      "above -{:g} point (FAIL: the upper bound below -{:g})",
      Percent(margins.confidence),
      margins.accuracy_points,
      margins.accuracy_points);
  const auto pairs = PairBySeed(supcon, ce, "AccuracyParityClaim");
  Evidence e;
  e.test =
      "paired Student t interval over seeds of SC - CE linear-probe test accuracy (points), non-inferiority "
      "margin " +
      fmt::format("{:g}", margins.accuracy_points);
  e.runs = static_cast<int>(pairs.size());
  if (!AllFinite(supcon, &TrainedRun::test_accuracy_probe) || !AllFinite(ce, &TrainedRun::test_accuracy_probe)) {
    c.measured = "a run has no linear-probe accuracy";
    c.decides = "runs with the linear probe (--probe-iterations > 0)";
    e.power = "no probe accuracy: no test";
    c.evidence = e;
    return c;
  }
  std::vector<double> sc_values, ce_values;
  for (const auto& [sc, other] : pairs) {
    sc_values.push_back(sc->test_accuracy_probe);
    ce_values.push_back(other->test_accuracy_probe);
  }
  e.interval = PairedDifferenceInterval(sc_values, ce_values, margins.confidence);
  e.arms = {{"supcon", MeanInterval(sc_values, margins.confidence), ""},
            {"ce", MeanInterval(ce_values, margins.confidence), ""}};
  e.power = Power(e.interval, " points");
  c.measured = fmt::format("SC - CE {} points over {} seeds; SC {}, CE {}",
                           Bracket(e.interval, 2),
                           e.runs,
                           Bracket(e.arms[0].interval, 2),
                           Bracket(e.arms[1].interval, 2));
  c.verdict = DecideAbove(e.interval, -margins.accuracy_points);
  if (c.verdict == Verdict::kInconclusive) c.decides = MoreRuns(e.interval);
  c.evidence = e;
  return c;
}

double ReachableSimilarity(const TrainedRun& run) {
  // Non-negative features have non-negative cosines: the closest class means can get is orthogonal (s = 0.5).
  return run.post_relu ? 0.5 : run.simplex_similarity;
}

Claim GeometryClaim(const std::vector<TrainedRun>& supcon,
                    const std::vector<TrainedRun>& ce,
                    const std::string& suffix,
                    const ClaimMargins& margins) {
  const auto pairs = PairBySeed(supcon, ce, "GeometryClaim");
  if (pairs.empty()) throw std::invalid_argument("GeometryClaim(): expected runs");
  const bool post_relu = supcon.front().post_relu;
  for (const auto& [sc, other] : pairs) {
    if (sc->post_relu != post_relu || other->post_relu != post_relu) {
      throw std::invalid_argument(
          "GeometryClaim(): expected one encoder kind (post-ReLU or final linear) in both arms");
    }
  }
  const double target = ReachableSimilarity(supcon.front());
  Claim c;
  c.id = (post_relu ? "2b" : "2b-linear") + suffix;
  c.statement = fmt::format(
      "Trained encoders ({}): SC's class means are at least as close to the reachable "
      "configuration as CE's",
      post_relu ? "post-ReLU" : "final linear layer");
  c.expected = fmt::format(
      "d = |s(SC) - {:.4f}| - |s(CE) - {:.4f}| ({}), s the mean angular similarity of "
      "class-mean pairs, paired by seed: the upper bound of its {} t interval below {:g}",
      target,
      target,
      post_relu ? "0.5: non-negative features reach at best an orthogonal frame"
                : "the simplex's similarity, reachable with a final linear layer",
      Percent(margins.confidence),
      margins.similarity);
  std::vector<double> distances_sc, distances_ce, sc_values, ce_values;
  for (const auto& [sc, other] : pairs) {
    distances_sc.push_back(std::abs(sc->class_mean_similarity - target));
    distances_ce.push_back(std::abs(other->class_mean_similarity - target));
    sc_values.push_back(sc->class_mean_similarity);
    ce_values.push_back(other->class_mean_similarity);
  }
  Evidence e;
  e.test = fmt::format("paired Student t interval over seeds of d, margin {:g}", margins.similarity);
  e.runs = static_cast<int>(pairs.size());
  e.interval = PairedDifferenceInterval(distances_sc, distances_ce, margins.confidence);
  e.arms = {{"supcon", MeanInterval(sc_values, margins.confidence), "class-mean similarity"},
            {"ce", MeanInterval(ce_values, margins.confidence), "class-mean similarity"}};
  e.power = Power(e.interval, "");
  c.measured = fmt::format("d {} over {} seeds; class-mean similarity SC {}, CE {} (target {:.4f}, simplex {:.4f})",
                           Bracket(e.interval, 4),
                           e.runs,
                           Bracket(e.arms[0].interval, 4),
                           Bracket(e.arms[1].interval, 4),
                           target,
                           supcon.front().simplex_similarity);
  c.verdict = DecideBelow(e.interval, margins.similarity);
  if (c.verdict == Verdict::kInconclusive) c.decides = MoreRuns(e.interval);
  c.evidence = e;
  return c;
}

Claim CorrelationClaim(const std::map<std::string, std::vector<TrainedRun>>& by_loss) {
  Claim c;
  c.id = "3";
  c.statement =
      "Closeness and generalization: across runs (seeds, lengths, training-set sizes), a smaller gap of the "
      "loss to its bound goes with a higher test accuracy";
  c.expected =
      "Spearman's rho(gap, test accuracy of the class means) < 0 for CE and for SC: each 95% bootstrap "
      "interval below 0 (FAIL: one above 0)";
  Evidence e;
  e.test = "Spearman's rank correlation per loss, 95% percentile bootstrap interval over the runs (2,000 resamples)";
  bool all_below = !by_loss.empty(), any_above = false;
  int runs = -1;
  double weakest_high = -INFINITY;
  for (const auto& [loss, list] : by_loss) {
    std::vector<double> gaps, accuracies;
    for (const TrainedRun& r : list) {
      gaps.push_back(r.loss_gap);
      accuracies.push_back(r.test_accuracy_class_mean);
    }
    const Correlation rho = BootstrapSpearman(gaps, accuracies);
    Interval interval;
    interval.estimate = rho.rho;
    interval.low = rho.low;
    interval.high = rho.high;
    interval.confidence = 0.95;
    interval.count = static_cast<int>(rho.runs);
    e.arms.push_back({loss, interval, ""});
    c.measured +=
        fmt::format("{}{}: rho {} over {} runs", c.measured.empty() ? "" : "; ", loss, Bracket(interval, 3), rho.runs);
    all_below = all_below && interval.decided() && interval.high < 0.0;
    any_above = any_above || (interval.decided() && interval.low > 0.0);
    runs = runs < 0 ? interval.count : std::min(runs, interval.count);
    // The arm that decides: one without an interval, else the highest upper bound.
    if (std::isnan(interval.high) ? !std::isnan(weakest_high) : interval.high > weakest_high) {
      weakest_high = interval.high;
      e.interval = interval;
    }
  }
  e.runs = std::max(runs, 0);
  e.power = fmt::format(
      "{} runs per loss; the weakest arm's interval is {:.3g} wide", e.runs, e.interval.high - e.interval.low);
  c.verdict = any_above ? Verdict::kFail : all_below ? Verdict::kPass : Verdict::kInconclusive;
  if (c.verdict == Verdict::kInconclusive) {
    c.decides = "more runs per loss, or runs spread over a wider range of lengths and training-set sizes";
  }
  c.evidence = e;
  return c;
}

namespace {

std::string CurvatureMeasured(const char* name, const LossCurvature& loss) {
  std::string text = fmt::format(
      "{} kappa {} over {} usable seed{}", name, Bracket(loss.kappa, 3), loss.usable, loss.usable == 1 ? "" : "s");
  if (loss.lower_bounds > 0) text += fmt::format(" ({} a lower bound: T(1) censored)", loss.lower_bounds);
  double t0 = 0, th = 0, t1 = 0;
  int n = 0;
  for (const SeedCurvature& s : loss.seeds) {
    if (!s.usable) continue;
    t0 += s.t0;
    th += s.t_half;
    t1 += s.t1;
    ++n;
  }
  if (n > 0) text += fmt::format(", mean T(0), T(0.5), T(1) = {:.0f}, {:.0f}, {:.0f}", t0 / n, th / n, t1 / n);
  text += fmt::format(", {} of {} runs censored; power law (a description) e = {:.3g} [{:.3g}, {:.3g}]",
                      loss.censored_runs,
                      loss.runs,
                      loss.power_law.exponent,
                      loss.power_law.exponent_low,
                      loss.power_law.exponent_high);
  return text;
}

// Why `loss` gives no curvature interval that may decide, or "" when it may.
std::string CurvatureBlocked(const LossCurvature& loss) {
  for (const SeedCurvature& s : loss.seeds) {
    if (!s.usable) return fmt::format("replicate {} of {} has no curvature ({})", s.replicate, loss.loss, s.note);
  }
  if (loss.usable < 2)
    return fmt::format(
        "{} has {} usable seed{}; at least 2 are needed", loss.loss, loss.usable, loss.usable == 1 ? "" : "s");
  return "";
}

Evidence CurvatureEvidence(const LossCurvature& loss, const ClaimMargins& margins) {
  Evidence e;
  e.test =
      "Student t interval over seeds of the curvature kappa = 4 (T(1) - 2 T(0.5) + T(0)) / (T(1) - T(0)) of "
      "iterations to fit (retrained linear probe at 100% training accuracy on the noisy labels)";
  e.interval = loss.kappa;
  e.runs = static_cast<int>(loss.seeds.size());
  e.power =
      Power(loss.kappa, "") + fmt::format("; the 'about linear' band is |kappa| < {:g}", margins.linear_curvature);
  return e;
}

}  // namespace

std::vector<Claim> NoiseClaims(const LossCurvature& supcon, const LossCurvature& ce, const ClaimMargins& margins) {
  const std::string measured = CurvatureMeasured("SC", supcon) + "; " + CurvatureMeasured("CE", ce);
  const std::string band = fmt::format("{:g}", margins.linear_curvature);

  Claim sc;
  sc.id = "4a";
  sc.statement = "Label noise: SC's iterations to fit grow superlinearly in the flipped fraction";
  sc.expected = fmt::format(
      "kappa(SC) > 0: the lower bound of its {} interval above 0 (FAIL: the interval below 0, "
      "or inside the about-linear band (-{}, {}) with no censored run)",
      Percent(margins.confidence),
      band,
      band);
  sc.measured = measured;
  sc.evidence = CurvatureEvidence(supcon, margins);
  if (const std::string blocked = CurvatureBlocked(supcon); !blocked.empty()) {
    sc.decides = blocked + "; a larger budget or more seeds";
  } else {
    sc.verdict = DecideAbove(supcon.kappa, 0.0);
    if (sc.verdict == Verdict::kFail && supcon.lower_bounds > 0) sc.verdict = Verdict::kInconclusive;
    if (sc.verdict == Verdict::kInconclusive && supcon.lower_bounds == 0 &&
        DecideWithin(supcon.kappa, margins.linear_curvature) == Verdict::kPass) {
      sc.verdict = Verdict::kFail;
    }
    if (sc.verdict == Verdict::kInconclusive) {
      sc.decides =
          supcon.lower_bounds > 0 ? "a larger budget (censored runs give only lower bounds)" : MoreRuns(supcon.kappa);
    }
  }

  Claim linear;
  linear.id = "4b";
  linear.statement = "Label noise: CE's iterations to fit grow about linearly in the flipped fraction";
  linear.expected = fmt::format(
      "|kappa(CE)| < {}: its {} interval inside (-{}, {}) (FAIL: outside [-{}, {}]), measured "
      "only where T(1) / T(0) >= {:g} (CE not saturated) and no CE run is censored",
      band,
      Percent(margins.confidence),
      band,
      band,
      band,
      band,
      margins.min_growth_ratio);
  linear.measured = measured + fmt::format("; CE T(1) / T(0) {}", Bracket(ce.growth_ratio, 2));
  linear.evidence = CurvatureEvidence(ce, margins);
  if (const std::string blocked = CurvatureBlocked(ce); !blocked.empty()) {
    linear.decides = blocked + "; a larger training set or budget";
  } else if (ce.censored_runs > 0) {
    linear.decides = fmt::format("{} CE runs did not fit within the budget; a larger budget", ce.censored_runs);
  } else if (!(ce.growth_ratio.estimate >= margins.min_growth_ratio)) {
    linear.decides = fmt::format("CE is saturated at this size (T(1) / T(0) = {:.2f} < {:g}): a larger training set",
                                 ce.growth_ratio.estimate,
                                 margins.min_growth_ratio);
  } else {
    linear.verdict = DecideWithin(ce.kappa, margins.linear_curvature);
    if (linear.verdict == Verdict::kInconclusive) linear.decides = MoreRuns(ce.kappa);
  }

  Claim faster;
  faster.id = "4c";
  faster.statement = "Label noise: SC's iterations to fit curve upwards more than CE's";
  faster.expected = fmt::format(
      "kappa(SC) - kappa(CE), paired by seed (the same flips for both losses): the lower "
      "bound of its {} interval above 0 (FAIL: the upper bound below 0)",
      Percent(margins.confidence));
  const PairedCurvature paired = PairCurvatures(supcon, ce, margins.confidence);
  Evidence e = CurvatureEvidence(supcon, margins);
  e.test = "paired Student t interval over seeds of kappa(SC) - kappa(CE)";
  e.interval = paired.difference;
  e.power = Power(paired.difference, "");
  e.arms = {{"supcon", supcon.kappa, ""}, {"ce", ce.kappa, ""}};
  faster.evidence = e;
  faster.measured = fmt::format("kappa(SC) - kappa(CE) {} over {} paired seeds; {}",
                                Bracket(paired.difference, 3),
                                paired.difference.count,
                                measured);
  std::string blocked = CurvatureBlocked(supcon);
  if (blocked.empty()) blocked = CurvatureBlocked(ce);
  if (blocked.empty() && paired.invalid) blocked = "a CE run at p = 1 is censored";
  if (!blocked.empty()) {
    faster.decides = blocked + "; a larger budget or more seeds";
  } else {
    faster.verdict = DecideAbove(paired.difference, 0.0);
    if (faster.verdict == Verdict::kFail && paired.lower_bound) faster.verdict = Verdict::kInconclusive;
    if (faster.verdict == Verdict::kInconclusive) faster.decides = MoreRuns(paired.difference);
  }
  return {sc, linear, faster};
}

}  // namespace dissect::verify
