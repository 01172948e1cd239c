#include "dissect/train/noise_experiment.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "dissect/theory/check.hpp"
#include "dissect/train/label_noise.hpp"

namespace dissect::train {
namespace {

double Fitted(double accuracy, double iteration, double previous) {
  return std::isnan(previous) && accuracy == 100.0 ? iteration : previous;
}

}  // namespace

std::string ToString(FitCriterion value) { return theory::NameOf(kFitCriterionNames, value); }

FitCriterion ParseFitCriterion(std::string_view name) {
  return theory::ParseName(kFitCriterionNames, name, "ParseFitCriterion", "");
}

FitCriterion ResolveFitCriterion(FitCriterion criterion, LossKind loss) {
  if (criterion == FitCriterion::kAuto) {
    return HasClassifier(loss) ? FitCriterion::kClassifier : FitCriterion::kClassMean;
  }
  if (criterion == FitCriterion::kClassifier && !HasClassifier(loss)) {
    throw std::invalid_argument("ResolveFitCriterion(): supcon has no classifier of its own; use class-mean or probe");
  }
  return criterion;
}

void NoiseOptions::Validate() const {
  const char* where = "NoiseOptions::Validate";
  if (fractions.empty()) throw std::invalid_argument(fmt::format("{}(): expected at least one fraction", where));
  for (const double p : fractions) {
    if (!(p >= 0.0 && p <= 1.0)) {
      throw std::invalid_argument(fmt::format("{}(): expected fractions in [0, 1], got {}", where, p));
    }
  }
  if (losses.empty()) throw std::invalid_argument(fmt::format("{}(): expected at least one loss", where));
  for (const LossKind loss : losses) ResolveFitCriterion(criterion, loss);
  if (criterion == FitCriterion::kProbe && train.probe.iterations == 0) {
    throw std::invalid_argument(fmt::format("{}(): the probe criterion needs probe iterations > 0", where));
  }
  train.Validate();
  theory::RequireAtLeast(where, "train.eval_every (the fit-detection cadence)", train.eval_every, 1);
  theory::RequireAtLeast(where, "replicates", replicates, 1);
}

namespace {

// One training run of the experiment, stopped at its fit unless options.stop_at_fit is false.
NoiseRun RunOne(const NoiseOptions& options,
                const DataSplit& data,
                const NoiseCallbacks& callbacks,
                const FlippedLabels& flipped,
                LossKind loss,
                double fraction,
                std::uint64_t train_seed) {
  NoiseRun run;
  run.loss = loss;
  run.fraction = fraction;
  run.num_flipped = static_cast<std::int64_t>(flipped.flipped_indices.size());
  const FitCriterion criterion = ResolveFitCriterion(options.criterion, loss);
  run.criterion = ToString(criterion);
  run.budget = options.train.iterations;
  TrainOptions train_options = options.train;
  train_options.loss.kind = loss;
  train_options.seed = train_seed;
  train_options.checkpoint_path.clear();
  train_options.resume = false;
  TrainCallbacks train_callbacks;
  train_callbacks.on_step = callbacks.on_step;
  train_callbacks.on_evaluation = [&](const std::vector<EvaluationRecord>& history) {
    const EvaluationRecord& r = history.back();
    run.fit_class_mean = Fitted(r.train_accuracy_class_mean, r.iteration, run.fit_class_mean);
    run.fit_classifier = Fitted(r.train_accuracy_classifier, r.iteration, run.fit_classifier);
    run.fit_probe = Fitted(r.train_accuracy_probe, r.iteration, run.fit_probe);
    const double fit = criterion == FitCriterion::kClassMean    ? run.fit_class_mean
                       : criterion == FitCriterion::kClassifier ? run.fit_classifier
                                                                : run.fit_probe;
    run.iterations_to_fit = fit;
    return options.stop_at_fit && !std::isnan(fit);
  };
  const auto start = std::chrono::steady_clock::now();
  const TrainResult trained = Train(train_options, data, train_callbacks, flipped.labels);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.status = trained.status;
  run.history = trained.history;
  run.censored = std::isnan(run.iterations_to_fit) && trained.status != "cancelled";
  const double fit =
      std::isnan(run.iterations_to_fit) ? static_cast<double>(trained.iterations_done) : run.iterations_to_fit;
  run.cumulative_learning_rate = 0.0;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(fit); ++i) {
    run.cumulative_learning_rate +=
        LearningRate(options.train.schedule, options.train.learning_rate, i, options.train.ScheduleHorizon());
  }
  // The other accuracies this loss records, against the deciding one (at the cadence of the evaluations).
  const auto differs = [&](double other) {
    return !(other == run.iterations_to_fit) && !(std::isnan(other) && std::isnan(run.iterations_to_fit));
  };
  run.criteria_disagree =
      (criterion != FitCriterion::kClassMean && differs(run.fit_class_mean)) ||
      (HasClassifier(loss) && criterion != FitCriterion::kClassifier && differs(run.fit_classifier));
  return run;
}

}  // namespace

NoiseResult RunNoiseExperiment(const NoiseOptions& options, const DataSplit& data, const NoiseCallbacks& callbacks) {
  options.Validate();
  NoiseResult result;
  const int total = static_cast<int>(options.replicates * options.fractions.size() * options.losses.size());
  int index = 0;
  for (int replicate = 0; replicate < options.replicates && !result.cancelled; ++replicate) {
    const std::uint64_t flip_seed = options.noise_seed + static_cast<std::uint64_t>(replicate);
    const std::uint64_t train_seed = options.train.seed + static_cast<std::uint64_t>(replicate);
    for (const double fraction : options.fractions) {
      // Paper: the same flipped labels for every loss at this fraction (and nested over the fractions).
      const FlippedLabels flipped = FlipLabels(data.train.labels, data.train.num_classes, fraction, flip_seed);
      for (const LossKind loss : options.losses) {
        if (callbacks.on_run_start) callbacks.on_run_start(index, total, loss, fraction);
        ++index;
        NoiseRun run = RunOne(options, data, callbacks, flipped, loss, fraction, train_seed);
        run.replicate = replicate;
        run.flip_seed = flip_seed;
        run.train_seed = train_seed;
        result.runs.push_back(run);
        if (callbacks.on_run_done) callbacks.on_run_done(result.runs.back());
        if (run.status == "cancelled") {
          result.cancelled = true;
          break;
        }
      }
      if (result.cancelled) break;
    }
  }
  return result;
}

}  // namespace dissect::train
