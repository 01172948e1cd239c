// Tests of dissect/verify/part_results.hpp: each part's JSON read into its record from hand-written fixtures, and
// the errors naming the part and the field for a missing field or a wrong type (null reads as NaN).

#include "dissect/verify/part_results.hpp"

#include <cmath>
#include <stdexcept>

#include "catch.hpp"
#include "test_support.hpp"

namespace dissect::verify {
namespace {

using dissect::test::MessageContains;

Json SweepFixture() {
  return Json::parse(R"({
    "configurations": 4, "failures": 0, "complete": true, "gap_target": 1e-9, "gram_target": 1e-6,
    "rows": [
      {"classes": 3, "dim": 2, "max_rel_gap": 1e-11, "max_gram_error": 2e-8},
      {"classes": 3, "dim": 5, "max_rel_gap": 3e-10, "max_gram_error": 1e-9},
      {"classes": 5, "dim": 2, "max_rel_gap": 0.5, "max_gram_error": 0.9},
      {"classes": 2, "dim": 1, "max_rel_gap": 0.0, "max_gram_error": 0.0}
    ]})");
}

TEST_CASE("ReadSweep: counts, targets and maxima over the rows with h >= K - 1") {
  const SweepResult r = ReadSweep(SweepFixture(), "theory_sweep");
  CHECK(r.configurations == 4);
  CHECK(r.failures == 0);
  CHECK(r.complete);
  CHECK(r.gap_target == 1e-9);
  CHECK(r.gram_target == 1e-6);
  CHECK(r.simplex_configurations == 3);  // the row with K = 5 in R^2 has no simplex
  CHECK(r.max_rel_gap == 3e-10);
  CHECK(r.max_gram_error == 2e-8);
}

TEST_CASE("Part results: a missing field names the part and the field") {
  Json sweep = SweepFixture();
  sweep.erase("gap_target");
  REQUIRE_THROWS_MATCHES(ReadSweep(sweep, "theory_sweep"),
                         std::runtime_error,
                         MessageContains("part 'theory_sweep': field 'gap_target' is missing"));
  Json row_missing = SweepFixture();
  row_missing["rows"][1].erase("max_gram_error");
  CHECK_THROWS_MATCHES(ReadSweep(row_missing, "theory_sweep"),
                       std::runtime_error,
                       MessageContains("part 'theory_sweep': field 'max_gram_error' is missing"));
  CHECK_THROWS_MATCHES(ReadSweep(Json::array({1, 2}), "theory_sweep"),
                       std::runtime_error,
                       MessageContains("field 'configurations' is missing"));
  CHECK_THROWS_MATCHES(ReadMultisetMinimum(Json{{"final_loss", 1.0}}, "multiset"),
                       std::runtime_error,
                       MessageContains("part 'multiset': field 'max_gram_error' is missing"));
}

TEST_CASE("Part results: a wrong type is an error, null reads as NaN") {
  Json sweep = SweepFixture();
  sweep["gap_target"] = "1e-9";
  REQUIRE_THROWS_MATCHES(ReadSweep(sweep, "theory_sweep"),
                         std::runtime_error,
                         MessageContains("part 'theory_sweep': field 'gap_target' is not a number"));
  sweep = SweepFixture();
  sweep["gap_target"] = nullptr;
  CHECK(std::isnan(ReadSweep(sweep, "theory_sweep").gap_target));
  sweep["complete"] = "true";
  CHECK_THROWS_MATCHES(
      ReadSweep(sweep, "theory_sweep"), std::runtime_error, MessageContains("field 'complete' is not true or false"));
  sweep = SweepFixture();
  sweep["rows"] = Json::object();
  CHECK_THROWS_MATCHES(
      ReadSweep(sweep, "theory_sweep"), std::runtime_error, MessageContains("field 'rows' is not an array"));
  // Integers: a float with an integral value is accepted, a fraction or null is not.
  const Json j = {{"a", 4.0}, {"b", 4.5}, {"c", nullptr}, {"d", 7}, {"e", true}, {"s", 3}};
  CHECK(RequireInteger(j, "a", "p") == 4);
  CHECK(RequireInteger(j, "d", "p") == 7);
  CHECK_THROWS_MATCHES(
      RequireInteger(j, "b", "p"), std::runtime_error, MessageContains("part 'p': field 'b' is not an integer"));
  CHECK_THROWS_MATCHES(RequireInteger(j, "c", "p"), std::runtime_error, MessageContains("is not an integer"));
  CHECK_THROWS_MATCHES(RequireNumber(j, "e", "p"), std::runtime_error, MessageContains("field 'e' is not a number"));
  CHECK_THROWS_MATCHES(RequireString(j, "s", "p"), std::runtime_error, MessageContains("field 's' is not a string"));
  CHECK(RequireNumber(j, "d", "p") == 7.0);
  CHECK(std::isnan(RequireNumber(j, "c", "p")));
}

TEST_CASE("ReadMultisetMinimum and ReadFigure5 read their numbers") {
  const MultisetMinimum m =
      ReadMultisetMinimum(Json{{"final_loss", 25205.5}, {"max_gram_error", 1.5e-8}, {"extra", "ignored"}}, "multiset");
  CHECK(m.final_loss == 25205.5);
  CHECK(m.max_gram_error == 1.5e-8);
  const Json f5 = Json::parse(R"({"simplex_total": 100.25, "trained_total": 101.5,
    "compositions": [{"k": 1}, {"k": 2}, {"k": 3}], "compositions_trained_below_simplex": 2})");
  const Figure5Result r = ReadFigure5(f5, "figure5");
  CHECK(r.simplex_total == 100.25);
  CHECK(r.trained_total == 101.5);
  CHECK(r.compositions == 3);
  CHECK(r.compositions_trained_below_simplex == 2);
  Json broken = f5;
  broken.erase("compositions_trained_below_simplex");
  CHECK_THROWS_MATCHES(ReadFigure5(broken, "figure5"),
                       std::runtime_error,
                       MessageContains("part 'figure5': field 'compositions_trained_below_simplex' is missing"));
}

TEST_CASE("ReadFigure6: strictly below is beyond 1e-9 relative, the largest drop") {
  const Json f6 = Json::parse(R"({"failures": 1, "compositions": [
    {"difference": 0.0, "simplex_value": 10.0},
    {"difference": -1e-12, "simplex_value": 10.0},
    {"difference": -0.25, "simplex_value": 10.0},
    {"difference": -0.125, "simplex_value": 12.0},
    {"difference": 0.001, "simplex_value": 10.0}]})");
  const Figure6Result r = ReadFigure6(f6, "figure6");
  CHECK(r.compositions == 5);
  CHECK(r.strictly_below == 2);
  CHECK(r.largest_drop == 0.25);
  CHECK(r.failures == 1);
  Json broken = f6;
  broken["compositions"][2].erase("simplex_value");
  CHECK_THROWS_MATCHES(ReadFigure6(broken, "figure6"),
                       std::runtime_error,
                       MessageContains("part 'figure6': field 'simplex_value' is missing"));
}

TEST_CASE("ReadFigure1: every flow in order, with the targets") {
  const Json f1 = Json::parse(R"({"failures": 0, "gap_target": 1e-6, "gram_target": 1e-4, "flows": [
    {"loss": "supcon", "steps": 1200, "rel_gap": 2e-7, "max_gram_error": 3e-5, "max_within_class_spread": 1e-6},
    {"loss": "ce", "steps": 800.0, "rel_gap": null, "max_gram_error": 4e-5, "max_within_class_spread": 2e-6}]})");
  const Figure1Result r = ReadFigure1(f1, "figure1");
  CHECK(r.failures == 0);
  CHECK(r.gap_target == 1e-6);
  CHECK(r.gram_target == 1e-4);
  REQUIRE(r.flows.size() == 2);
  CHECK(r.flows[0].loss == "supcon");
  CHECK(r.flows[0].steps == 1200);
  CHECK(r.flows[0].rel_gap == 2e-7);
  CHECK(r.flows[0].max_gram_error == 3e-5);
  CHECK(r.flows[0].max_within_class_spread == 1e-6);
  CHECK(r.flows[1].loss == "ce");
  CHECK(r.flows[1].steps == 800);
  CHECK(std::isnan(r.flows[1].rel_gap));
  Json broken = f1;
  broken["flows"][1]["loss"] = 3;
  CHECK_THROWS_MATCHES(ReadFigure1(broken, "figure1"),
                       std::runtime_error,
                       MessageContains("part 'figure1': field 'loss' is not a string"));
}

Json TrainFixture(const std::string& encoder) {
  Json j = Json::parse(R"({"iterations_done": 1000, "run": {"train_images": 6000}, "test_accuracy_probe": 84.5,
    "test_accuracy_class_mean": 83.25, "class_mean_similarity": 0.5625, "simplex_similarity": -0.111,
    "loss_gap": null})");
  j["encoder"] = encoder;
  return j;
}

TEST_CASE("ReadTrainedRun: the evaluation, the encoder kind, and what the caller asked for") {
  const TrainedRun r = ReadTrainedRun(TrainFixture("MLP 784-256-128, post-ReLU features"), "train_sc_0", "supcon", 7);
  CHECK(r.part == "train_sc_0");
  CHECK(r.loss == "supcon");
  CHECK(r.seed == 7);
  CHECK(r.encoder == "MLP 784-256-128, post-ReLU features");
  CHECK(r.post_relu);
  CHECK(r.iterations == 1000);
  CHECK(r.train_images == 6000);
  CHECK(r.test_accuracy_probe == 84.5);
  CHECK(r.test_accuracy_class_mean == 83.25);
  CHECK(r.class_mean_similarity == 0.5625);
  CHECK(r.simplex_similarity == -0.111);
  CHECK(std::isnan(r.loss_gap));
  CHECK_FALSE(ReadTrainedRun(TrainFixture("MLP 784-256-128 + final linear"), "p", "ce", 0).post_relu);
  Json broken = TrainFixture("post-ReLU");
  broken["run"].erase("train_images");
  CHECK_THROWS_MATCHES(ReadTrainedRun(broken, "train_ce_1", "ce", 1),
                       std::runtime_error,
                       MessageContains("part 'train_ce_1': field 'train_images' is missing"));
  broken.erase("run");
  CHECK_THROWS_MATCHES(
      ReadTrainedRun(broken, "train_ce_1", "ce", 1), std::runtime_error, MessageContains("field 'run' is missing"));
}

TEST_CASE("ReadNoiseRuns: fitted and censored runs, a censored run reads the budget") {
  const Json noise = Json::parse(R"({"runs": [
    {"loss": "supcon", "replicate": 0, "fraction": 0.5, "num_flipped": 500, "censored": false, "budget": 10000,
     "iterations_to_fit": 1234, "cumulative_learning_rate": 12.5, "criteria_disagree": false},
    {"loss": "ce", "replicate": 2, "fraction": 1.0, "num_flipped": 1000, "censored": true, "budget": 8000,
     "iterations_to_fit": null, "cumulative_learning_rate": 50.0, "criteria_disagree": true},
    {"loss": "ce", "replicate": 1, "fraction": 0.0, "num_flipped": 0, "censored": true, "budget": 9000,
     "cumulative_learning_rate": 49.0, "criteria_disagree": false}]})");
  const std::vector<NoiseRunResult> runs = ReadNoiseRuns(noise, "noise");
  REQUIRE(runs.size() == 3);
  CHECK(runs[0].loss == "supcon");
  CHECK(runs[0].replicate == 0);
  CHECK(runs[0].fraction == 0.5);
  CHECK(runs[0].num_flipped == 500);
  CHECK_FALSE(runs[0].censored);
  CHECK(runs[0].budget == 10000);
  CHECK(runs[0].iterations == 1234.0);
  CHECK(runs[0].cumulative_learning_rate == 12.5);
  CHECK_FALSE(runs[0].criteria_disagree);
  CHECK(runs[1].loss == "ce");
  CHECK(runs[1].replicate == 2);
  CHECK(runs[1].censored);
  CHECK(runs[1].iterations == 8000.0);  // the budget: a lower bound, not NaN
  CHECK(runs[1].criteria_disagree);
  CHECK(runs[2].iterations == 9000.0);  // censored runs need no iterations_to_fit
  Json broken = noise;
  broken["runs"][0].erase("iterations_to_fit");
  CHECK_THROWS_MATCHES(ReadNoiseRuns(broken, "noise"),
                       std::runtime_error,
                       MessageContains("part 'noise': field 'iterations_to_fit' is missing"));
  CHECK_THROWS_MATCHES(ReadNoiseRuns(Json::object(), "noise"),
                       std::runtime_error,
                       MessageContains("part 'noise': field 'runs' is missing"));
}

}  // namespace
}  // namespace dissect::verify
