#pragma once
// Paper: label noise (docs/theory.md, Experiments): for each fraction p, flip floor(p N) training labels, train CE and
// SC with the same budget and settings, and record "iterations to fit", the first evaluated step at which training
// accuracy on the noisy labels reaches 100%. The claim: it grows superlinearly in the number of flipped labels for
// SC and roughly linearly for CE. Replicates repeat the whole experiment with independent flips and seeds; the
// statistics that decide are dissect::verify's (label_noise_analysis.hpp), not this module's.

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "dissect/theory/enum_names.hpp"
#include "dissect/train/trainer.hpp"

namespace dissect::train {

enum class FitCriterion {
  kAuto,        // "auto": the class-mean classifier for supcon, the network's classifier for the CE variants
  kClassMean,   // "class-mean": argmax_k <mu_k, z>
  kClassifier,  // "classifier": the network's own classifier (CE variants only)
  kProbe,       // "probe": the retrained linear probe (needs probe iterations > 0)
};
// The names of FitCriterion, for ToString, ParseFitCriterion and the command line's choices.
inline constexpr std::array<theory::EnumName<FitCriterion>, 4> kFitCriterionNames = {
    {{FitCriterion::kAuto, "auto"},
     {FitCriterion::kClassMean, "class-mean"},
     {FitCriterion::kClassifier, "classifier"},
     {FitCriterion::kProbe, "probe"}}};

std::string ToString(FitCriterion criterion);
// Throws std::invalid_argument listing the accepted names.
FitCriterion ParseFitCriterion(std::string_view name);
// The criterion a run of `loss` uses: kAuto resolved. Throws std::invalid_argument for kClassifier with supcon.
FitCriterion ResolveFitCriterion(FitCriterion criterion, LossKind loss);

struct NoiseOptions {
  // Settings shared by every run (loss.kind is replaced per run; eval_every is the fit-detection cadence, >= 1).
  TrainOptions train;
  // Fractions p of flipped training labels, each in [0, 1].
  std::vector<double> fractions = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  // Losses compared.
  std::vector<LossKind> losses = {LossKind::kCrossEntropy, LossKind::kSupCon};
  // Which training accuracy decides "fitted": the retrained linear probe by default, one criterion for every loss,
  // as the authors plotted; the other accuracies are recorded too.
  FitCriterion criterion = FitCriterion::kProbe;
  // End a run at its fit (the budget is then an upper limit, not a fixed length).
  bool stop_at_fit = true;
  // Seed of the flips of replicate 0; replicate r flips with noise_seed + r and trains with train.seed + r
  // (independent across replicates; within one, nested over the fractions and the same for every loss).
  std::uint64_t noise_seed = 0;
  // Independent repetitions of the whole experiment, >= 1.
  int replicates = 1;

  // Throws std::invalid_argument naming the first bad field.
  void Validate() const;
};

struct NoiseRun {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  LossKind loss = LossKind::kCrossEntropy;
  int replicate = 0;
  std::uint64_t flip_seed = 0;      // noise_seed + replicate
  std::uint64_t train_seed = 0;     // train.seed + replicate
  double fraction = kNaN;           // p
  std::int64_t num_flipped = 0;     // floor(p N)
  std::string criterion;            // the deciding accuracy, e.g. "class-mean"
  double iterations_to_fit = kNaN;  // first evaluated step with 100% training accuracy by `criterion`; NaN: not reached
  bool censored = false;            // not reached within the budget: the budget is a lower bound of the fit
  std::int64_t budget = 0;          // the iteration budget T
  // Sum of the learning rates of the steps up to the fit (or the budget): how much training the fit took.
  double cumulative_learning_rate = kNaN;
  // First evaluated step at which each accuracy reached 100% (NaN: not within the run).
  double fit_class_mean = kNaN;
  double fit_classifier = kNaN;
  double fit_probe = kNaN;
  // Another recorded accuracy (class means; the classifier for CE) fitted at another step than `criterion`'s.
  bool criteria_disagree = false;
  std::string status;  // of the training run: "stopped" (at the fit), "completed", "diverged", "cancelled"
  std::vector<EvaluationRecord> history;
  double seconds = kNaN;  // wall time of the run, evaluations included
};

struct NoiseResult {
  std::vector<NoiseRun> runs;  // in the order replicate, fraction, loss
  bool cancelled = false;      // a run was cancelled (on_step); later runs were not started
};

struct NoiseCallbacks {
  // Before each run: (index, total, loss, fraction).
  std::function<void(int, int, LossKind, double)> on_run_start;
  // After each run.
  std::function<void(const NoiseRun&)> on_run_done;
  // Forwarded to each run's training (progress and cancellation).
  std::function<bool(const TrainProgress&)> on_step;
};

// Runs every (replicate, fraction, loss) on data (labels flipped per replicate and fraction, the same flips for
// every loss). Throws as Train() does for bad options or data.
NoiseResult RunNoiseExperiment(const NoiseOptions& options,
                               const DataSplit& data,
                               const NoiseCallbacks& callbacks = {});

}  // namespace dissect::train
