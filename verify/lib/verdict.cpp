#include "dissect/verify/verdict.hpp"

#include <cmath>

namespace dissect::verify {

std::string ToString(Verdict value) { return theory::NameOf(kVerdictNames, value); }

nlohmann::ordered_json NumberOrNull(double value) {
  return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}

namespace {

nlohmann::ordered_json IntervalJson(const Interval& interval) {
  return nlohmann::ordered_json::array({NumberOrNull(interval.low), NumberOrNull(interval.high)});
}

}  // namespace

nlohmann::ordered_json ToJson(const Claim& claim) {
  nlohmann::ordered_json json = {{"id", claim.id},
                                 {"statement", claim.statement},
                                 {"expected", claim.expected},
                                 {"measured", claim.measured},
                                 {"verdict", ToString(claim.verdict)}};
  if (claim.evidence) {
    const Evidence& e = *claim.evidence;
    json["test"] = e.test;
    json["estimate"] = NumberOrNull(e.interval.estimate);
    json["interval"] = IntervalJson(e.interval);
    json["confidence"] = NumberOrNull(e.interval.confidence);
    json["runs"] = e.runs;
    json["power"] = e.power;
    if (!e.arms.empty()) {
      nlohmann::ordered_json arms = nlohmann::ordered_json::array();
      for (const Arm& arm : e.arms) {
        arms.push_back({{"name", arm.name},
                        {"estimate", NumberOrNull(arm.interval.estimate)},
                        {"interval", IntervalJson(arm.interval)},
                        {"count", arm.interval.count},
                        {"note", arm.note}});
      }
      json["arms"] = arms;
    }
  }
  if (!claim.decides.empty()) json["decides"] = claim.decides;
  return json;
}

Verdict DecideAbove(const Interval& interval, double threshold) {
  if (!interval.decided()) return Verdict::kInconclusive;
  if (interval.low > threshold) return Verdict::kPass;
  if (interval.high < threshold) return Verdict::kFail;
  return Verdict::kInconclusive;
}

Verdict DecideBelow(const Interval& interval, double threshold) {
  if (!interval.decided()) return Verdict::kInconclusive;
  if (interval.high < threshold) return Verdict::kPass;
  if (interval.low > threshold) return Verdict::kFail;
  return Verdict::kInconclusive;
}

Verdict DecideWithin(const Interval& interval, double margin) {
  if (!interval.decided()) return Verdict::kInconclusive;
  if (interval.low > -margin && interval.high < margin) return Verdict::kPass;
  if (interval.high < -margin || interval.low > margin) return Verdict::kFail;
  return Verdict::kInconclusive;
}

}  // namespace dissect::verify
