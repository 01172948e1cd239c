// Tests of dissect/verify/claims.hpp, verdict.hpp and profile.hpp: each claim's PASS, FAIL and INCONCLUSIVE on
// fixtures (few runs, ties, censored and saturated runs), the decision rules, the JSON of a claim, the profiles.

#include "dissect/verify/claims.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "catch.hpp"
#include "dissect/verify/profile.hpp"
#include "test_support.hpp"

namespace dissect::verify {
namespace {

using dissect::test::MessageContains;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kSimplex = -1.0 / 9.0;  // K = 10
constexpr Verdict kP = Verdict::kPass, kF = Verdict::kFail, kI = Verdict::kInconclusive;
using V = std::vector<Verdict>;

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Runs of `loss` with seeds 0, 1, ... whose `field` takes `values`.
std::vector<TrainedRun> Runs(const std::string& loss,
                             double TrainedRun::* field,
                             const std::vector<double>& values,
                             bool post_relu = true) {
  std::vector<TrainedRun> runs;
  for (std::size_t i = 0; i < values.size(); ++i) {
    TrainedRun r;
    r.loss = loss;
    r.seed = i;
    r.post_relu = post_relu;
    r.simplex_similarity = kSimplex;
    r.*field = values[i];
    runs.push_back(r);
  }
  return runs;
}
std::vector<TrainedRun> Probe(const std::string& loss, const std::vector<double>& v) {
  return Runs(loss, &TrainedRun::test_accuracy_probe, v);
}
std::vector<TrainedRun> Sim(const std::string& loss, const std::vector<double>& v, bool post_relu = true) {
  return Runs(loss, &TrainedRun::class_mean_similarity, v, post_relu);
}

Verdict Parity(const std::vector<double>& sc, const std::vector<double>& ce) {
  return AccuracyParityClaim(Probe("supcon", sc), Probe("ce", ce), "").verdict;
}
Verdict Geometry(const std::vector<double>& sc, const std::vector<double>& ce, bool post_relu = true) {
  return GeometryClaim(Sim("supcon", sc, post_relu), Sim("ce", ce, post_relu), "").verdict;
}

TEST_CASE("AccuracyParityClaim: PASS, FAIL and INCONCLUSIVE on the paired SC - CE interval") {
  const Claim pass = AccuracyParityClaim(Probe("supcon", {86, 87, 86.5}), Probe("ce", {84, 84.5, 84.2}), " (mnist)");
  CHECK(pass.id == "2a (mnist)");
  CHECK(pass.verdict == kP);
  CHECK(pass.decides.empty());
  REQUIRE(pass.evidence);
  const Interval by_hand = MeanInterval({2.0, 2.5, 86.5 - 84.2});
  CHECK(pass.evidence->interval.low == Approx(by_hand.low).epsilon(1e-12));
  CHECK(pass.evidence->interval.high == Approx(by_hand.high).epsilon(1e-12));
  CHECK(pass.evidence->runs == 3);
  CHECK(pass.evidence->arms.size() == 2);
  CHECK(Parity({80, 80.5, 80.2}, {84, 84.5, 84.1}) == kF);
  const Claim open = AccuracyParityClaim(Probe("supcon", {83, 85, 87}), Probe("ce", {86, 84, 84}), "");
  CHECK(open.verdict == kI);
  CHECK_FALSE(open.decides.empty());
  // Paired by seed, not by position.
  std::vector<TrainedRun> ce_reversed = Probe("ce", {84, 84.5, 84.2});
  std::reverse(ce_reversed.begin(), ce_reversed.end());
  const Claim reversed = AccuracyParityClaim(Probe("supcon", {86, 87, 86.5}), ce_reversed, "");
  CHECK(reversed.evidence->interval.low == Approx(by_hand.low).epsilon(1e-12));
}

TEST_CASE("AccuracyParityClaim: one seed, ties at and above the margin, no probe, mismatched seeds") {
  const Claim one = AccuracyParityClaim(Probe("supcon", {90}), Probe("ce", {80}), "");
  CHECK(one.verdict == kI);
  CHECK_FALSE(one.decides.empty());
  CHECK(one.evidence->runs == 1);
  // Every difference -1: the point interval [-1, -1] is neither above nor below the margin -1.
  CHECK(Parity({83, 84, 85}, {84, 85, 86}) == kI);
  CHECK(Parity({86, 87, 88}, {84, 85, 86}) == kP);  // every difference 2
  const Claim no_probe = AccuracyParityClaim(Probe("supcon", {86, kNaN}), Probe("ce", {84, 85}), "");
  CHECK(no_probe.verdict == kI);
  CHECK(Has(no_probe.decides, "probe"));
  std::vector<TrainedRun> other_seeds = Probe("ce", {84, 85, 86});
  other_seeds[2].seed = 7;
  CHECK_THROWS_MATCHES(AccuracyParityClaim(Probe("supcon", {86, 87, 88}), other_seeds, ""),
                       std::invalid_argument,
                       MessageContains("seed 2"));
  CHECK_THROWS_AS(Parity({86, 87, 88}, {84, 85}), std::invalid_argument);
  other_seeds[2].seed = 1;  // seed 1 twice
  CHECK_THROWS_AS(AccuracyParityClaim(Probe("supcon", {86, 87, 88}), other_seeds, ""), std::invalid_argument);
}

TEST_CASE("AccuracyParityClaim: a seed twice in the SC arm is a mismatch") {
  std::vector<TrainedRun> sc_twice = Probe("supcon", {86, 87, 88});
  sc_twice[1].seed = 0;  // SC seeds 0, 0, 2 against CE seeds 0, 1, 2
  CHECK_THROWS_AS(AccuracyParityClaim(sc_twice, Probe("ce", {84, 85, 86}), ""), std::invalid_argument);
}

TEST_CASE("GeometryClaim post-ReLU: distances to 0.5, PASS, FAIL and INCONCLUSIVE") {
  CHECK(ReachableSimilarity(Sim("supcon", {0.3})[0]) == 0.5);
  const Claim pass = GeometryClaim(Sim("supcon", {0.48, 0.51, 0.53}), Sim("ce", {0.70, 0.72, 0.69}), "");
  CHECK(pass.id == "2b");
  CHECK(Has(pass.statement, "post-ReLU"));
  CHECK(pass.verdict == kP);
  // SC farther from 0.5 on the low side: |s - 0.5| counts, not s - 0.5.
  const Claim fail = GeometryClaim(Sim("supcon", {0.2, 0.25, 0.22}), Sim("ce", {0.55, 0.56, 0.54}), "");
  CHECK(fail.verdict == kF);
  CHECK(fail.evidence->interval.estimate == Approx((0.25 + 0.19 + 0.24) / 3).epsilon(1e-12));
  const Claim open = GeometryClaim(Sim("supcon", {0.6, 0.5, 0.7}), Sim("ce", {0.5, 0.6, 0.55}), "");
  CHECK(open.verdict == kI);
  CHECK_FALSE(open.decides.empty());
  const Claim one = GeometryClaim(Sim("supcon", {0.5}), Sim("ce", {0.9}), "");
  CHECK(one.verdict == kI);
  CHECK_FALSE(one.decides.empty());
}

TEST_CASE("GeometryClaim final linear: distances to the simplex similarity, kinds must agree") {
  CHECK(ReachableSimilarity(Sim("supcon", {0.3}, false)[0]) == kSimplex);
  // Near the simplex: PASS here, although far from 0.5 (which would FAIL).
  const Claim pass =
      GeometryClaim(Sim("supcon", {-0.105, -0.11, -0.108}, false), Sim("ce", {0.45, 0.46, 0.44}, false), " (mnist)");
  CHECK(pass.id == "2b-linear (mnist)");
  CHECK(Has(pass.statement, "final linear layer"));
  CHECK(pass.verdict == kP);
  CHECK(Geometry({-0.105, -0.11, -0.108}, {0.45, 0.46, 0.44}, true) == kF);
  CHECK(Geometry({0.45, 0.46, 0.44}, {-0.105, -0.11, -0.108}, false) == kF);
  CHECK_THROWS_AS(GeometryClaim(Sim("supcon", {0.5, 0.5}, false), Sim("ce", {0.5, 0.5}, true), ""),
                  std::invalid_argument);
  CHECK_THROWS_AS(GeometryClaim({}, {}, ""), std::invalid_argument);
  std::vector<TrainedRun> other_seeds = Sim("ce", {0.5, 0.5});
  other_seeds[0].seed = 9;
  CHECK_THROWS_AS(GeometryClaim(Sim("supcon", {0.5, 0.5}), other_seeds, ""), std::invalid_argument);
}

// 12 runs: gap 1..12, class-mean accuracy from `accuracy` (ranks), so rho = Spearman(1..12, accuracy).
std::vector<TrainedRun> Correlated(const std::vector<double>& accuracy) {
  std::vector<TrainedRun> runs = Runs("x", &TrainedRun::test_accuracy_class_mean, accuracy);
  for (std::size_t i = 0; i < runs.size(); ++i) runs[i].loss_gap = static_cast<double>(i + 1);
  return runs;
}
const std::vector<double> kFalling = {12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
const std::vector<double> kRising = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
const std::vector<double> kWeak = {5, 11, 2, 8, 12, 1, 7, 10, 3, 6, 9, 4};  // rho = -1/11

TEST_CASE("CorrelationClaim: PASS when every rho is below 0, FAIL when one is above, else INCONCLUSIVE") {
  const Claim pass = CorrelationClaim({{"ce", Correlated(kFalling)}, {"supcon", Correlated(kFalling)}});
  CHECK(pass.id == "3");
  CHECK(pass.verdict == kP);
  CHECK(pass.evidence->runs == 12);
  CHECK(pass.evidence->arms.size() == 2);
  CHECK(CorrelationClaim({{"ce", Correlated(kFalling)}, {"supcon", Correlated(kRising)}}).verdict == kF);
  const Claim open = CorrelationClaim({{"ce", Correlated(kFalling)}, {"supcon", Correlated(kWeak)}});
  CHECK(open.verdict == kI);
  CHECK_FALSE(open.decides.empty());
  CHECK(open.evidence->interval.estimate == Approx(-1.0 / 11.0).epsilon(1e-12));  // the weakest arm decides
  const Claim few = CorrelationClaim({{"ce", Correlated({3})}, {"supcon", Correlated({4})}});
  CHECK(few.verdict == kI);
  CHECK_FALSE(few.decides.empty());
  CHECK(CorrelationClaim({}).verdict == kI);
}

TEST_CASE("CorrelationClaim: an arm without an interval is the evidence, whatever the order of the losses") {
  for (const bool ce_first : {true, false}) {
    const std::string blocking = ce_first ? "ce" : "supcon", other = ce_first ? "supcon" : "ce";
    const Claim c = CorrelationClaim({{blocking, Correlated({3})}, {other, Correlated(kFalling)}});
    CHECK(c.verdict == kI);
    CHECK(c.evidence->runs == 1);
    CHECK(c.evidence->interval.count == 1);
    CHECK(std::isnan(c.evidence->interval.high));
  }
}

// Replicates 0, 1, ... with T(0) = 100, T(1) = t1 and T(0.5) chosen for each kappa; T(1) censored at `censored`.
LossCurvature Curves(const std::string& loss, const std::vector<double>& kappas, double t1 = 500, int censored = -1) {
  std::vector<NoiseRunResult> runs;
  for (int i = 0; i < static_cast<int>(kappas.size()); ++i) {
    const double t_half = (t1 + 100 - kappas[i] * (t1 - 100) / 4) / 2;
    const std::pair<double, double> fractions[] = {{0.0, 100.0}, {0.5, t_half}, {1.0, t1}};
    for (const auto& [p, t] : fractions) {
      NoiseRunResult r;
      r.loss = loss;
      r.replicate = i;
      r.fraction = p;
      r.num_flipped = static_cast<std::int64_t>(1000 * p);
      r.iterations = t;
      r.censored = p == 1.0 && i == censored;
      runs.push_back(r);
    }
  }
  return AnalyzeCurvature(runs, loss, 0.95, 50);
}
const std::vector<double> kSuper = {2, 2.2, 1.8}, kLinear = {0.1, -0.1, 0}, kNegative = {-2, -2.2, -1.8},
                          kWide = {2, -1.5, 0.5};

std::vector<Verdict> Verdicts(const std::vector<Claim>& claims) {
  std::vector<Verdict> v;
  for (const Claim& c : claims) v.push_back(c.verdict);
  return v;
}
TEST_CASE("NoiseClaims: 4a, 4b, 4c give PASS, FAIL and INCONCLUSIVE") {
  const std::vector<Claim> pass = NoiseClaims(Curves("supcon", kSuper), Curves("ce", kLinear));
  REQUIRE(pass.size() == 3);
  CHECK(pass[0].id == "4a");
  CHECK(pass[1].id == "4b");
  CHECK(pass[2].id == "4c");
  CHECK(Verdicts(pass) == V{kP, kP, kP});
  // SC inside the about-linear band with no censored run fails 4a; CE curved fails 4b; SC below CE fails 4c.
  CHECK(Verdicts(NoiseClaims(Curves("supcon", kLinear), Curves("ce", kSuper))) == V{kF, kF, kF});
  CHECK(Verdicts(NoiseClaims(Curves("supcon", kNegative), Curves("ce", kLinear))) == V{kF, kP, kF});
  // Equal curvatures: every paired difference is 0, the point interval [0, 0] is not above 0.
  const std::vector<Claim> wide = NoiseClaims(Curves("supcon", kWide), Curves("ce", kWide));
  CHECK(Verdicts(wide) == V{kI, kI, kI});
  CHECK(wide[2].evidence->interval.low == 0.0);
  CHECK(wide[2].evidence->interval.high == 0.0);
  for (const Claim& c : wide) CHECK_FALSE(c.decides.empty());
  CHECK(Verdicts(NoiseClaims(Curves("supcon", kWide), Curves("ce", kLinear)))[2] == kI);
}

TEST_CASE("NoiseClaims: one seed, censored SC and CE runs, saturated CE") {
  const std::vector<Claim> one = NoiseClaims(Curves("supcon", {2}), Curves("ce", {0}));
  CHECK(Verdicts(one) == V{kI, kI, kI});
  for (const Claim& c : one) CHECK(Has(c.decides, "usable seed"));
  // A censored SC T(1): kappa is a lower bound, 4a may PASS but never FAIL.
  CHECK(Verdicts(NoiseClaims(Curves("supcon", kSuper, 500, 1), Curves("ce", kLinear))) == V{kP, kP, kP});
  const std::vector<Claim> low = NoiseClaims(Curves("supcon", kNegative, 500, 0), Curves("ce", kSuper));
  CHECK(Verdicts(low) == V{kI, kF, kI});
  CHECK(Has(low[0].decides, "budget"));
  CHECK(NoiseClaims(Curves("supcon", kLinear, 500, 2), Curves("ce", kLinear))[0].verdict == kI);
  // A censored CE run: 4b and 4c cannot decide.
  const std::vector<Claim> ce_censored = NoiseClaims(Curves("supcon", kSuper), Curves("ce", kLinear, 500, 1));
  CHECK(Verdicts(ce_censored) == V{kP, kI, kI});
  CHECK(Has(ce_censored[1].decides, "budget"));
  CHECK(Has(ce_censored[2].decides, "censored"));
  // CE saturated: T(1) / T(0) = 1.2 < 1.5.
  const std::vector<Claim> saturated = NoiseClaims(Curves("supcon", kSuper), Curves("ce", kLinear, 120));
  CHECK(saturated[1].verdict == kI);
  CHECK(Has(saturated[1].decides, "saturated"));
}

TEST_CASE("Theory claims: sweep, Figure 5, Figure 6 and Figure 1 give PASS and FAIL") {
  CHECK(SweepClaim({10, 8, 0, true, 1e-11, 1e-9, 1e-9, 1e-6}).verdict == kP);
  CHECK(SweepClaim({10, 8, 1, true, 1e-11, 1e-9, 1e-9, 1e-6}).verdict == kF);
  CHECK(SweepClaim({10, 8, 0, false, 1e-11, 1e-9, 1e-9, 1e-6}).verdict == kF);
  CHECK(SweepClaim({10, 0, 0, true, 0, 0, 1e-9, 1e-6}).verdict == kF);
  const double known = Figure5KnownAnswer();
  CHECK(dissect::test::RelativeError(known, 25205.688636803963) < 1e-12);  // docs/theory.md
  CHECK(Figure5Claim({known * (1 + 1e-11), 1e-9}, {known, known * 1.00001, 2002, 300}).verdict == kP);
  CHECK(Figure5Claim({known * (1 + 1e-6), 1e-9}, {known, known * 1.00001, 2002, 300}).verdict == kF);
  CHECK(Figure5Claim({known, 1e-9}, {known * (1 - 1e-6), known * 1.00001, 2002, 300}).verdict == kF);
  CHECK(Figure5Claim({known, 1e-9}, {known, known * (1 - 1e-9), 2002, 300}).verdict == kF);
  CHECK(Figure6Claim({10, 4, 0.1, 0}).verdict == kP);
  CHECK(Figure6Claim({10, 0, 0.0, 0}).verdict == kF);
  CHECK(Figure6Claim({10, 4, 0.1, 1}).verdict == kF);
  const Figure1Result flows{{{"supcon", 900, 1e-8, 1e-7, 1e-6}, {"ce", 700, 1e-8, 1e-7, 1e-6}}, 0, 1e-6, 1e-4};
  const Claim figure1 = Figure1Claim(flows);
  CHECK(figure1.verdict == kP);
  CHECK(Has(figure1.measured, "supcon: 900 steps"));
  CHECK(Figure1Claim({flows.flows, 1, 1e-6, 1e-4}).verdict == kF);
  CHECK(Figure1Claim({{}, 0, 1e-6, 1e-4}).verdict == kF);
}

TEST_CASE("ToJson: the claim's fields, the evidence, null for NaN") {
  Claim c{"2a", "a statement", "expected", "measured", kI, "more seeds", std::nullopt};
  // No evidence: exactly these fields, in this order.
  CHECK(ToJson(c) == nlohmann::ordered_json::parse(R"({"id": "2a", "statement": "a statement",
    "expected": "expected", "measured": "measured", "verdict": "INCONCLUSIVE", "decides": "more seeds"})"));
  c.verdict = kP;
  c.decides.clear();
  c.evidence = Evidence{"paired t", Interval{1.5, kNaN, 2.0, 0.95, 0.25, 3}, 3, "power text", {}};
  nlohmann::ordered_json j = ToJson(c);
  CHECK(j["id"] == "2a");
  CHECK(j["verdict"] == "PASS");
  CHECK_FALSE(j.contains("decides"));
  CHECK(j["test"] == "paired t");
  CHECK(j["estimate"] == 1.5);
  REQUIRE(j["interval"].size() == 2);
  CHECK(j["interval"][0].is_null());
  CHECK(j["interval"][1] == 2.0);
  CHECK(j["confidence"] == 0.95);
  CHECK(j["runs"] == 3);
  CHECK(j["power"] == "power text");
  CHECK(ToString(kF) == "FAIL");
  CHECK(NumberOrNull(-INFINITY).is_null());
}

Interval Bounds(double low, double high, int count = 3) { return {(low + high) / 2, low, high, 0.95, 0.1, count}; }

TEST_CASE("DecideAbove, DecideBelow, DecideWithin on hand-made intervals") {
  CHECK(DecideAbove(Bounds(0.2, 0.8), 0) == kP);
  CHECK(DecideAbove(Bounds(-0.8, -0.2), 0) == kF);
  CHECK(DecideAbove(Bounds(-0.2, 0.2), 0) == kI);
  CHECK(DecideAbove(Bounds(0.0, 0.5), 0) == kI);     // touching the threshold
  CHECK(DecideAbove(Bounds(0.2, 0.8, 1), 0) == kI);  // undecided: one value
  CHECK(DecideAbove(Bounds(kNaN, -5), 0) == kI);
  CHECK(DecideBelow(Bounds(-0.8, -0.2), 0) == kP);
  CHECK(DecideBelow(Bounds(0.2, 0.8), 0) == kF);
  CHECK(DecideBelow(Bounds(-0.2, 0.2), 0) == kI);
  CHECK(DecideBelow(Bounds(-0.8, -0.2, 0), 0) == kI);
  CHECK(DecideWithin(Bounds(-0.5, 0.5), 1) == kP);
  CHECK(DecideWithin(Bounds(1.2, 2.0), 1) == kF);
  CHECK(DecideWithin(Bounds(-3.0, -1.5), 1) == kF);
  CHECK(DecideWithin(Bounds(0.5, 1.5), 1) == kI);
  CHECK(DecideWithin(Bounds(-1.0, 0.5), 1) == kI);
  CHECK(DecideWithin(Bounds(1.0, 2.0), 1) == kI);
  CHECK(DecideWithin(Bounds(-0.5, kNaN), 1) == kI);
}

TEST_CASE("Profiles: names round-trip, the sizes the claims need") {
  for (const ProfileKind k : {ProfileKind::kQuick, ProfileKind::kCpu, ProfileKind::kPaper}) {
    CHECK(ParseProfileKind(ToString(k)) == k);
    const Profile p = MakeProfile(k, 5);
    CHECK(p.kind == k);
    CHECK(p.base_seed == 5);
    for (const double f : {0.0, 0.5, 1.0})
      CHECK(std::count(p.noise.fractions.begin(), p.noise.fractions.end(), f) == 1);
  }
  CHECK(ToString(ProfileKind::kCpu) == "cpu");
  CHECK_THROWS_MATCHES(ParseProfileKind("bogus"), std::invalid_argument, MessageContains("quick, cpu or paper"));
  const Profile quick = MakeProfile(ProfileKind::kQuick);
  CHECK(quick.noise.replicates >= 2);
  CHECK(quick.trained.claim_seeds >= 2);
  CHECK_FALSE(quick.needs_gpu);
  const Profile cpu = MakeProfile(ProfileKind::kCpu);
  CHECK(cpu.noise.replicates >= 3);
  CHECK(cpu.trained.claim_seeds >= 3);
  CHECK(MakeProfile(ProfileKind::kPaper).needs_gpu);
}

}  // namespace
}  // namespace dissect::verify
