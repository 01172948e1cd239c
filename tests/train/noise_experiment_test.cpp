// The noise experiment on a small Fashion-MNIST subset: fit detection at the evaluation cadence, early stop, the
// same flips for every loss, and bad options.

#include <torch/torch.h>

#include "catch.hpp"
#include "fashion_mnist.hpp"
#include "dissect/train/label_noise.hpp"
#include "dissect/train/noise_experiment.hpp"
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
  options.bootstrap = 100;
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
  CHECK(result.fits.size() == 1);
  CHECK(result.fits[0].verdict == "insufficient data");  // one point with x > 0
  // The fit is of the iterations above the clean run's: the p = 0 run is the offset, not a point.
  CHECK(result.fits[0].offset == result.runs[0].iterations_to_fit);
  CHECK(result.fits[0].num_points == 1);
  CHECK(result.fits[0].num_skipped == 1);
}

TEST_CASE("RunNoiseExperiment: without early stop a run uses its budget and a budget too small is not reached") {
  train::NoiseOptions options = SmallExperiment();
  options.fractions = {1.0};
  options.train.iterations = 50;
  options.stop_at_fit = false;
  const train::NoiseResult result = train::RunNoiseExperiment(options, SmallFashionMnist());
  REQUIRE(result.runs.size() == 1);
  CHECK(std::isnan(result.runs[0].iterations_to_fit));  // 200 random labels are not fitted in 50 steps
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
  CHECK(train::ResolveFitCriterion(train::FitCriterion::kAuto, train::LossKind::kSupCon) == train::FitCriterion::kClassMean);
  REQUIRE_THROWS_MATCHES(train::ParseFitCriterion("loss"), std::invalid_argument, MessageContains("class-mean"));
}
