#pragma once
// Training of an encoder with CE, CE-fix, CE-sphere or SC (docs/theory.md, Experiments of the paper: SGD with momentum
// and weight decay, i.i.d. batches, poly-5 or cosine schedule), with evaluation as the run goes, atomic checkpoints
// and exact resumption: a run stopped at any point (even by SIGKILL) and resumed from its last checkpoint ends with
// the metrics of an uninterrupted run with the same seed.

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dissect/theory/enum_names.hpp"
#include "dissect/train/batch_sampler.hpp"
#include "dissect/train/communicator.hpp"
#include "dissect/train/data_pipeline.hpp"
#include "dissect/train/encoder.hpp"
#include "dissect/train/evaluation.hpp"
#include "dissect/train/image_set.hpp"
#include "dissect/train/losses.hpp"

namespace dissect::train {

enum class Schedule {
  kPoly5,     // "poly5": lr_i = lr0 (1 - i/T)^5 (the paper; "exponential" in the reference code)
  kCosine,    // "cosine": lr_i = lr0 (1 + cos(pi i/T)) / 2
  kConstant,  // "constant": lr_i = lr0
};
// The names of Schedule, for ToString, ParseSchedule and the command line's choices.
inline constexpr std::array<theory::EnumName<Schedule>, 3> kScheduleNames = {
    {{Schedule::kPoly5, "poly5"}, {Schedule::kCosine, "cosine"}, {Schedule::kConstant, "constant"}}};

// The arithmetic of the training steps (evaluation and export always run in float32).
enum class Precision {
  kFloat32,   // "float32"
  kBfloat16,  // "bf16": the encoder's forward under autocast to bfloat16 (CUDA; the CPU has it too, slowly), the
              // loss and the optimizer in float32
};
// The names of Precision, for ToString, ParsePrecision and the command line's choices.
inline constexpr std::array<theory::EnumName<Precision>, 2> kPrecisionNames = {
    {{Precision::kFloat32, "float32"}, {Precision::kBfloat16, "bf16"}}};

std::string ToString(Precision precision);
// Throws std::invalid_argument listing the accepted names.
Precision ParsePrecision(std::string_view name);

std::string ToString(Schedule schedule);
// Throws std::invalid_argument listing the accepted names.
Schedule ParseSchedule(std::string_view name);
// The seed of the SC loss estimate of the evaluation after `iteration` steps of a run seeded `seed`:
// `dissect geometry --seed` with it, b and the run's SC evaluation batches draws the same batches.
std::uint64_t SupConEstimateSeed(std::uint64_t seed, std::int64_t iteration);

// The learning rate of step i (0-based) of T.
double LearningRate(Schedule schedule, double base_rate, std::int64_t iteration, std::int64_t iterations);

struct TrainOptions {
  // The network; channels, height and width are taken from the data.
  EncoderOptions encoder;
  // The loss; num_classes comes from the data and dim from the encoder.
  LossOptions loss;
  // Number of SGD steps T.
  std::int64_t iterations = 1000;
  // Batch size b.
  std::int64_t batch_size = 256;
  // SGD: lr0, momentum, weight decay (docs/theory.md: 0.1, 0.9, 1e-4).
  double learning_rate = 0.1;
  double momentum = 0.9;
  double weight_decay = 1e-4;
  Schedule schedule = Schedule::kPoly5;
  // The T of the schedule, lr_i = lr0 (1 - i/T)^5 for poly-5; 0: `iterations`. A horizon beyond `iterations` runs
  // the first steps of a longer schedule (the noise experiment: poly-5 over 100,000 steps, stopped at the fit, so
  // that a late fit does not happen at a vanishing learning rate). Must be 0 or >= iterations.
  std::int64_t schedule_horizon = 0;
  BatchSampling sampling = BatchSampling::kIidWithReplacement;
  Augmentation augmentation = Augmentation::kNone;
  // Seeds the initialization, the batches, the augmentation, the probe and the SC estimate.
  std::uint64_t seed = 0;
  // Evaluate after every this many steps (and after the last); 0: only after the last.
  std::int64_t eval_every = 0;
  // Write a checkpoint after every this many steps (and after the last); 0: only after the last and when stopped.
  std::int64_t checkpoint_every = 0;
  // The retrained linear probe (docs/theory.md: 5,000 batches; 0 disables it); its seed is derived from `seed`.
  LinearProbeOptions probe;
  // i.i.d. batches of the SC loss estimate at each evaluation.
  std::int64_t supcon_eval_batches = 32;
  // "auto" (CUDA when this LibTorch build has it and a GPU is present), "cpu", "cuda" or "cuda:N".
  std::string device = "auto";
  // Threads of LibTorch's CPU kernels; 0: all cores.
  int threads = 0;
  // Arithmetic of the training steps.
  Precision precision = Precision::kFloat32;
  // Convolution weights and image batches in channels-last memory order (NHWC; faster convolutions on CUDA with
  // bf16); the same numbers up to the order of sums.
  bool channels_last = false;
  // Checkpoint file; empty: no checkpoints.
  std::filesystem::path checkpoint_path;
  // Continue from checkpoint_path (which must exist and come from a run with the same options).
  bool resume = false;
  // The data-parallel group of this process (null, or one rank: this process alone). Each of its W ranks runs Train
  // with the same options and data; batch_size is the global b (divisible by W), each rank computes b / W images of
  // every batch, and the trajectory is that of one process up to the order of floating-point sums
  // (data_parallel.hpp). Rank 0 alone writes the checkpoint and reads it on resumption.
  std::shared_ptr<Communicator> communicator;
  // Batch-norm statistics of the global batch instead of each rank's part (SyncBatchNorm2d); no effect on one rank.
  bool sync_batch_norm = false;

  // Throws std::invalid_argument naming the first bad field.
  void Validate() const;
  // The T of the schedule: schedule_horizon, or iterations where it is 0.
  std::int64_t ScheduleHorizon() const { return schedule_horizon > 0 ? schedule_horizon : iterations; }
};

// What the progress callback sees after each step.
struct TrainProgress {
  std::int64_t iteration = 0;   // steps done
  std::int64_t iterations = 0;  // T
  double loss = 0.0;            // minibatch loss of this step
  double learning_rate = 0.0;
  double images_per_second = 0.0;  // since the start (or the resumption) of this process
  double seconds_left = 0.0;       // estimate from that rate
};

struct TrainCallbacks {
  // After every step; returning true stops the run as "cancelled" (a checkpoint is written first).
  std::function<bool(const TrainProgress&)> on_step;
  // After every evaluation, with the whole history so far (resumed runs include the records before the resumption);
  // returning true stops the run as "stopped" (e.g. the noise experiment once the labels are fitted; a checkpoint is
  // written first).
  std::function<bool(const std::vector<EvaluationRecord>&)> on_evaluation;
};

struct TrainResult {
  // "completed", "diverged" (a non-finite loss), "cancelled" (on_step), "stopped" (on_evaluation)
  std::string status = "not run";
  std::string message;  // what happened, in words
  std::int64_t iterations_done = 0;
  std::int64_t resumed_from = 0;  // step of the checkpoint the run continued from (0: fresh)
  std::vector<EvaluationRecord> history;
  Embeddings embeddings;  // of the last evaluation, or of the final model when resumed after the last step (undefined
                          // tensors when neither)
  std::string device;     // where it ran, e.g. "cpu"
  int threads = 0;
  std::string encoder;                                                  // EncoderOptions::Describe()
  double images_per_second = std::numeric_limits<double>::quiet_NaN();  // training throughput of this process
};

// Trains on data.train and evaluates on data.train and data.test. `train_labels`, when not empty, replaces the
// training labels (the noise experiment). Throws std::invalid_argument for bad options or data, std::runtime_error
// for an unreadable or mismatched checkpoint; divergence and cancellation are reported in the result. Distributed:
// ranks that run different options or data throw std::invalid_argument on every rank, and a lost peer or a timeout
// throws std::runtime_error on every surviving rank (the last checkpoint stays as it was).
TrainResult Train(const TrainOptions& options,
                  const DataSplit& data,
                  const TrainCallbacks& callbacks = {},
                  const std::vector<std::int64_t>& train_labels = {});

// Picks the device of a --device value. Throws std::invalid_argument for an unknown value or CUDA without CUDA.
torch::Device ResolveDevice(const std::string& device);

// Writes embeddings as .npy (float64, rows = samples) into `directory`: train_embeddings.npy, train_labels.npy,
// test_embeddings.npy, test_labels.npy, and classifier.npy (K x h) when there is a classifier. Each file is
// written atomically. Throws std::runtime_error naming a file that cannot be written.
void ExportEmbeddings(const Embeddings& embeddings, const std::filesystem::path& directory);

}  // namespace dissect::train
