#include "dissect/verify/part_results.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace dissect::verify {
namespace {

const Json& Field(const Json& json, std::string_view field, std::string_view part) {
  if (!json.is_object() || !json.contains(std::string(field))) {
    throw std::runtime_error(fmt::format("part '{}': field '{}' is missing", part, field));
  }
  return json.at(std::string(field));
}

[[noreturn]] void WrongType(std::string_view field, std::string_view part, const char* expected) {
  throw std::runtime_error(fmt::format("part '{}': field '{}' is not {}", part, field, expected));
}

}  // namespace

double RequireNumber(const Json& json, std::string_view field, std::string_view part) {
  const Json& value = Field(json, field, part);
  if (value.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!value.is_number()) WrongType(field, part, "a number");
  return value.get<double>();
}

std::int64_t RequireInteger(const Json& json, std::string_view field, std::string_view part) {
  const Json& value = Field(json, field, part);
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_float() && std::isfinite(value.get<double>()) &&
      value.get<double>() == std::floor(value.get<double>()) && std::abs(value.get<double>()) < 9.0e18) {
    return static_cast<std::int64_t>(value.get<double>());
  }
  WrongType(field, part, "an integer");
}

bool RequireBool(const Json& json, std::string_view field, std::string_view part) {
  const Json& value = Field(json, field, part);
  if (!value.is_boolean()) WrongType(field, part, "true or false");
  return value.get<bool>();
}

std::string RequireString(const Json& json, std::string_view field, std::string_view part) {
  const Json& value = Field(json, field, part);
  if (!value.is_string()) WrongType(field, part, "a string");
  return value.get<std::string>();
}

const Json& RequireArray(const Json& json, std::string_view field, std::string_view part) {
  const Json& value = Field(json, field, part);
  if (!value.is_array()) WrongType(field, part, "an array");
  return value;
}

SweepResult ReadSweep(const Json& json, std::string_view part) {
  SweepResult r;
  r.configurations = static_cast<int>(RequireInteger(json, "configurations", part));
  r.failures = static_cast<int>(RequireInteger(json, "failures", part));
  r.complete = RequireBool(json, "complete", part);
  r.gap_target = RequireNumber(json, "gap_target", part);
  r.gram_target = RequireNumber(json, "gram_target", part);
  for (const Json& row : RequireArray(json, "rows", part)) {
    // h < K-1: no simplex fits; the sweep judges those rows itself (failures).
    if (RequireNumber(row, "dim", part) + 1 < RequireNumber(row, "classes", part)) continue;
    ++r.simplex_configurations;
    r.max_rel_gap = std::max(r.max_rel_gap, RequireNumber(row, "max_rel_gap", part));
    r.max_gram_error = std::max(r.max_gram_error, RequireNumber(row, "max_gram_error", part));
  }
  return r;
}

MultisetMinimum ReadMultisetMinimum(const Json& json, std::string_view part) {
  return {RequireNumber(json, "final_loss", part), RequireNumber(json, "max_gram_error", part)};
}

Figure5Result ReadFigure5(const Json& json, std::string_view part) {
  Figure5Result r;
  r.simplex_total = RequireNumber(json, "simplex_total", part);
  r.trained_total = RequireNumber(json, "trained_total", part);
  r.compositions = static_cast<int>(RequireArray(json, "compositions", part).size());
  r.compositions_trained_below_simplex =
      static_cast<int>(RequireInteger(json, "compositions_trained_below_simplex", part));
  return r;
}

Figure6Result ReadFigure6(const Json& json, std::string_view part) {
  Figure6Result r;
  for (const Json& row : RequireArray(json, "compositions", part)) {
    ++r.compositions;
    const double difference = RequireNumber(row, "difference", part);
    if (difference < -1e-9 * std::abs(RequireNumber(row, "simplex_value", part))) ++r.strictly_below;
    r.largest_drop = std::max(r.largest_drop, -difference);
  }
  r.failures = static_cast<int>(RequireInteger(json, "failures", part));
  return r;
}

Figure1Result ReadFigure1(const Json& json, std::string_view part) {
  Figure1Result r;
  r.failures = static_cast<int>(RequireInteger(json, "failures", part));
  r.gap_target = RequireNumber(json, "gap_target", part);
  r.gram_target = RequireNumber(json, "gram_target", part);
  for (const Json& flow : RequireArray(json, "flows", part)) {
    r.flows.push_back({RequireString(flow, "loss", part),
                       RequireInteger(flow, "steps", part),
                       RequireNumber(flow, "rel_gap", part),
                       RequireNumber(flow, "max_gram_error", part),
                       RequireNumber(flow, "max_within_class_spread", part)});
  }
  return r;
}

TrainedRun ReadTrainedRun(const Json& json, std::string_view part, std::string loss, std::uint64_t seed) {
  TrainedRun r;
  r.part = std::string(part);
  r.loss = std::move(loss);
  r.seed = seed;
  r.encoder = RequireString(json, "encoder", part);
  r.post_relu = r.encoder.find("post-ReLU") != std::string::npos;
  r.iterations = RequireInteger(json, "iterations_done", part);
  r.train_images = RequireInteger(Field(json, "run", part), "train_images", part);
  r.test_accuracy_probe = RequireNumber(json, "test_accuracy_probe", part);
  r.test_accuracy_class_mean = RequireNumber(json, "test_accuracy_class_mean", part);
  r.class_mean_similarity = RequireNumber(json, "class_mean_similarity", part);
  r.simplex_similarity = RequireNumber(json, "simplex_similarity", part);
  r.loss_gap = RequireNumber(json, "loss_gap", part);
  return r;
}

std::vector<NoiseRunResult> ReadNoiseRuns(const Json& noise, std::string_view part) {
  std::vector<NoiseRunResult> runs;
  for (const Json& run : RequireArray(noise, "runs", part)) {
    NoiseRunResult r;
    r.loss = RequireString(run, "loss", part);
    r.replicate = static_cast<int>(RequireInteger(run, "replicate", part));
    r.fraction = RequireNumber(run, "fraction", part);
    r.num_flipped = RequireInteger(run, "num_flipped", part);
    r.censored = RequireBool(run, "censored", part);
    r.budget = RequireInteger(run, "budget", part);
    r.iterations = r.censored ? static_cast<double>(r.budget) : RequireNumber(run, "iterations_to_fit", part);
    r.cumulative_learning_rate = RequireNumber(run, "cumulative_learning_rate", part);
    r.criteria_disagree = RequireBool(run, "criteria_disagree", part);
    runs.push_back(r);
  }
  return runs;
}

}  // namespace dissect::verify
