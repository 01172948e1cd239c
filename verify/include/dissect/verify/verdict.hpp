#pragma once
// A claim of the paper checked by numbers: what it says, what was expected and measured, and a verdict with three
// values. PASS and FAIL need a named test over independent runs and an interval; where the data cannot decide, the
// verdict is INCONCLUSIVE and `decides` says what would (docs/claims.md).

#include <array>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dissect/theory/enum_names.hpp"
#include "dissect/verify/statistics.hpp"

namespace dissect::verify {

enum class Verdict {
  kPass,          // the data support the claim at the stated confidence
  kFail,          // the data contradict it at the stated confidence
  kInconclusive,  // the test lacks the power to decide
};
// The names of Verdict, for ToString, reports and the command line's choices.
inline constexpr std::array<theory::EnumName<Verdict>, 3> kVerdictNames = {
    {{Verdict::kPass, "PASS"}, {Verdict::kFail, "FAIL"}, {Verdict::kInconclusive, "INCONCLUSIVE"}}};

// "PASS", "FAIL", "INCONCLUSIVE".
std::string ToString(Verdict verdict);

// One arm of an empirical claim (a loss, an encoder), with its own interval.
struct Arm {
  std::string name;
  Interval interval;
  std::string note;  // e.g. "2 of 3 values are lower bounds (censored)"
};

// The statistics behind an empirical claim.
struct Evidence {
  std::string test;       // the named procedure, e.g. "paired Student t over seeds"
  Interval interval;      // of the deciding statistic (estimate, low, high, confidence, count)
  int runs = 0;           // independent runs per arm
  std::string power;      // a sentence on what the test can and cannot resolve at this size
  std::vector<Arm> arms;  // per-arm intervals where the claim has several
};

struct Claim {
  std::string id;
  std::string statement;
  std::string expected;
  std::string measured;
  Verdict verdict = Verdict::kInconclusive;
  std::string decides;               // INCONCLUSIVE: what would decide it; empty otherwise
  std::optional<Evidence> evidence;  // every empirical claim (2x, 3, 4x) has one
};

// The claim as claims.json holds it: id, statement, expected, measured, verdict, and for empirical claims test,
// estimate, interval [low, high], confidence, runs, power (and arms); decides where INCONCLUSIVE. Non-finite
// numbers are null.
nlohmann::ordered_json ToJson(const Claim& claim);

// The decision rules, from an interval of a statistic theta (INCONCLUSIVE whenever the interval is not decided):
// "theta > threshold": PASS when low > threshold, FAIL when high < threshold.
Verdict DecideAbove(const Interval& interval, double threshold);
// "theta < threshold": PASS when high < threshold, FAIL when low > threshold.
Verdict DecideBelow(const Interval& interval, double threshold);
// "|theta| < margin" (equivalence): PASS when [low, high] lies inside (-margin, margin), FAIL when it lies outside
// [-margin, margin] entirely.
Verdict DecideWithin(const Interval& interval, double margin);

// A number or null (JSON has no NaN or infinity).
nlohmann::ordered_json NumberOrNull(double value);

}  // namespace dissect::verify
