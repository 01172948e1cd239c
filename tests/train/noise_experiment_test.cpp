// The noise experiment on a small Fashion-MNIST subset: fit detection at the evaluation cadence, early stop, the
// same flips for every loss, and bad options.

#include <torch/torch.h>

#include "catch.hpp"
#include "dissect/train/label_noise.hpp"
#include "dissect/train/noise_experiment.hpp"
#include "fashion_mnist.hpp"
#include "test_support.hpp"

namespace {

using dissect::test::MessageContains;
namespace train = dissect::train;

const train::DataSplit& SmallFashionMnist() { return dissect::test::FashionMnistSubset(200, 200); }

train::NoiseOptions SmallExperiment() {
  train::NoiseOptions options;
  options.train.iterations = 1500;
  options.train.batch_size = 64;
  options.train.eval_every = 25;
  options.train.probe.iterations = 0;
  options.train.supcon_eval_batches = 2;
  options.train.threads = 2;
  options.train.device = "cpu";
  options.fractions = {0.0, 0.5};
  options.losses = {train::LossKind::kCrossEntropy};
  options.criterion = train::FitCriterion::kAuto;  // the network's classifier: no probe, fast
  return options;
}

}  // namespace

TEST_CASE("RunNoiseExperiment: CE fits 200 images with 0% and 50% flipped labels and stops at the fit") {
  const train::NoiseResult result = train::RunNoiseExperiment(SmallExperiment(), SmallFashionMnist());
  REQUIRE(result.runs.size() == 2);
  for (const train::NoiseRun& run : result.runs) {
    INFO("p = " << run.fraction);
    CHECK(run.criterion == "classifier");
    REQUIRE(!std::isnan(run.iterations_to_fit));
    CHECK(std::fmod(run.iterations_to_fit, 25.0) == 0.0);  // detected at the evaluation cadence
    CHECK(run.status == "stopped");
    CHECK(run.history.back().iteration == run.iterations_to_fit);  // stopped at the fit
    CHECK(run.history.back().train_accuracy_classifier == 100.0);
    for (std::size_t i = 0; i + 1 < run.history.size(); ++i) CHECK(run.history[i].train_accuracy_classifier < 100.0);
  }
  CHECK(result.runs[0].num_flipped == 0);
  CHECK(result.runs[1].num_flipped == 100);
  // Fitting 100 flipped labels takes longer than fitting clean ones.
  CHECK(result.runs[1].iterations_to_fit > result.runs[0].iterations_to_fit);
  for (const train::NoiseRun& run : result.runs) {
    CHECK_FALSE(run.censored);
    // poly-5 over the 1,500-step budget: the sum of lr0 (1 - i/T)^5 over the steps before the fit.
    double sum = 0.0;
    for (int i = 0; i < run.iterations_to_fit; ++i) sum += 0.1 * std::pow(1.0 - i / 1500.0, 5.0);
    CHECK(run.cumulative_learning_rate == Approx(sum).epsilon(1e-12));
  }
}

TEST_CASE("RunNoiseExperiment: replicates flip and train independently, the same flips for both losses") {
  train::NoiseOptions options = SmallExperiment();
  options.fractions = {0.5};
  options.replicates = 2;
  options.noise_seed = 7;
  options.train.seed = 3;
  options.train.iterations = 50;
  options.stop_at_fit = false;
  options.train.schedule_horizon = 100000;  // the first 50 steps of a long poly-5 schedule
  options.losses = {train::LossKind::kCrossEntropy, train::LossKind::kCrossEntropyFixed};
  const train::NoiseResult result = train::RunNoiseExperiment(options, SmallFashionMnist());
  REQUIRE(result.runs.size() == 4);  // replicate-major, then fraction, then loss
  CHECK(result.runs[0].replicate == 0);
  CHECK(result.runs[1].replicate == 0);
  CHECK(result.runs[2].replicate == 1);
  CHECK(result.runs[0].flip_seed == 7);
  CHECK(result.runs[2].flip_seed == 8);
  CHECK(result.runs[0].train_seed == 3);
  CHECK(result.runs[3].train_seed == 4);
  // The other replicate trains on other flips with another seed.
  CHECK(result.runs[0].history.back().train_accuracy_classifier !=
        result.runs[2].history.back().train_accuracy_classifier);
  for (const train::NoiseRun& run : result.runs) {
    CHECK(run.censored);  // 100 random labels are not fitted in 50 steps
    double sum = 0.0;
    for (int i = 0; i < 50; ++i) sum += 0.1 * std::pow(1.0 - i / 100000.0, 5.0);
    CHECK(run.cumulative_learning_rate == Approx(sum).epsilon(1e-12));
  }
}

TEST_CASE("RunNoiseExperiment: without early stop a run uses its budget and a budget too small is not reached") {
  train::NoiseOptions options = SmallExperiment();
  options.fractions = {1.0};
  options.train.iterations = 50;
  options.stop_at_fit = false;
  const train::NoiseResult result = train::RunNoiseExperiment(options, SmallFashionMnist());
  REQUIRE(result.runs.size() == 1);
  CHECK(std::isnan(result.runs[0].iterations_to_fit));  // 200 random labels are not fitted in 50 steps
  CHECK(result.runs[0].censored);
  CHECK(result.runs[0].status == "completed");
  CHECK(result.runs[0].history.back().iteration == 50.0);
}

TEST_CASE("RunNoiseExperiment: a run cancelled by the progress callback ends the experiment") {
  train::NoiseCallbacks callbacks;
  callbacks.on_step = [](const train::TrainProgress& p) { return p.iteration == 10; };
  const train::NoiseResult result = train::RunNoiseExperiment(SmallExperiment(), SmallFashionMnist(), callbacks);
  CHECK(result.cancelled);
  CHECK(result.runs.size() == 1);
  CHECK(result.runs[0].status == "cancelled");
}

TEST_CASE("NoiseOptions: bad fractions, criteria and cadences are refused with the reason") {
  train::NoiseOptions options = SmallExperiment();
  options.fractions = {0.5, 1.2};
  REQUIRE_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("fractions in [0, 1], got 1.2"));
  options = SmallExperiment();
  options.train.eval_every = 0;
  REQUIRE_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("fit-detection cadence"));
  options = SmallExperiment();
  options.losses = {train::LossKind::kSupCon};
  options.criterion = train::FitCriterion::kClassifier;
  REQUIRE_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("no classifier of its own"));
  options = SmallExperiment();
  options.criterion = train::FitCriterion::kProbe;
  REQUIRE_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("probe iterations > 0"));
  CHECK(train::ResolveFitCriterion(train::FitCriterion::kAuto, train::LossKind::kSupCon) ==
        train::FitCriterion::kClassMean);
  REQUIRE_THROWS_MATCHES(train::ParseFitCriterion("loss"), std::invalid_argument, MessageContains("class-mean"));
  options = SmallExperiment();
  options.replicates = 0;
  REQUIRE_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("replicates"));
  options = SmallExperiment();
  options.train.schedule_horizon = 10;  // shorter than the 1,500-step budget
  REQUIRE_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("schedule_horizon"));
}
