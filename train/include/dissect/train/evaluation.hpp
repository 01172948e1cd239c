#pragma once
// Evaluation of a trained encoder in one forward pass over the train and test images (docs/theory.md, Experiments,
// Evaluation and Geometry): accuracies of the class-mean classifier, nearest class mean, the network's own
// classifier and a retrained bias-free linear probe; the loss on the training representations against its bound;
// the geometry basics of theory/.

#include <torch/torch.h>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "dissect/train/communicator.hpp"
#include "dissect/train/data_pipeline.hpp"
#include "dissect/train/encoder.hpp"
#include "dissect/train/losses.hpp"

namespace dissect::train {

// Representations (what the loss sees: z, or z / ||z|| for ce-sphere and supcon) of a whole data set.
struct Embeddings {
  torch::Tensor train;         // N_train x h float
  torch::Tensor train_labels;  // N_train int64 (the training labels, noisy ones included)
  torch::Tensor test;          // N_test x h float
  torch::Tensor test_labels;   // N_test int64
  torch::Tensor classifier;    // K x h rows of the network's classifier (undefined for supcon)
};

// Forward passes in evaluation mode (BatchNorm running statistics) without gradients, `chunk` images at a time.
// Returns the N x h representations on the pipeline's device.
torch::Tensor Embed(Encoder& encoder, LossHead& head, const DataPipeline& data, std::int64_t chunk = 1024);
// The same, sharded over the ranks: each embeds its ShardRange of the images, and every rank returns all N x h
// (gathered in image order). Every rank must hold the same model (data_parallel.hpp: AverageBuffers).
torch::Tensor EmbedSharded(
    Encoder& encoder, LossHead& head, const DataPipeline& data, Communicator& communicator, std::int64_t chunk = 1024);

// Paper: retrained linear probe (docs/theory.md): bias-free, SGD without momentum, poly-5 schedule, i.i.d. batches.
struct LinearProbeOptions {
  std::int64_t iterations = 5000;  // batches; 0 disables the probe
  std::int64_t batch_size = 256;   // b
  double learning_rate = 0.1;      // lr0 of lr_i = lr0 (1 - i/T)^5
  double weight_decay = 1e-3;      // L2 penalty (weight_decay / 2) ||W||_F^2, as torch's SGD
  std::uint64_t seed = 0;          // batch draws; equal seeds give equal probes

  // Throws std::invalid_argument naming the first bad field.
  void Validate() const;
};

struct LinearProbeResult {
  torch::Tensor weights;                                             // K x h, undefined when not run
  double train_accuracy = std::numeric_limits<double>::quiet_NaN();  // percent
  double test_accuracy = std::numeric_limits<double>::quiet_NaN();   // percent
};

// Trains the probe on frozen `train` representations (from zero weights; the problem is convex) and reports its
// accuracies. With a distributed communicator, every rank draws the same batches and computes the gradient of its
// share of each batch's rows (ShardRange), summed by an all-reduce: every rank ends with the same probe, that of one
// process up to the order of sums. Throws std::invalid_argument for mismatched shapes.
LinearProbeResult TrainLinearProbe(const Embeddings& embeddings,
                                   int num_classes,
                                   const LinearProbeOptions& options,
                                   Communicator* communicator = nullptr);

struct EvaluationOptions {
  LossOptions loss;                      // the training loss (kind, K, tau)
  std::int64_t batch_size = 256;         // b of the SC loss estimate and its bound
  std::int64_t supcon_batches = 32;      // i.i.d. batches drawn for the SC loss estimate
  LinearProbeOptions probe;              // the retrained probe
  std::uint64_t seed = 0;                // draws of the SC estimate
  Communicator* communicator = nullptr;  // shards the probe's batches over the ranks (null: this process); not owned
};

// One evaluation; every field NaN when not computed (e.g. no own classifier for supcon, probe disabled).
struct EvaluationRecord {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  double iteration = kNaN;          // training iterations done
  double seconds = kNaN;            // training time so far (evaluations excluded)
  double images_per_second = kNaN;  // training throughput since the previous evaluation
  double learning_rate = kNaN;      // lr of the last step
  double train_loss = kNaN;         // mean of the minibatch losses since the previous evaluation (train mode)
  // The loss on the training representations in evaluation mode: CE over all of them; SC as the mean over
  // `supcon_batches` i.i.d. batches of size b (with its standard error).
  double loss = kNaN;
  double loss_standard_error = kNaN;
  // Paper: CE bound at rho = max ||z_i||, r = max ||w_k|| (a valid bound for these norms); SC: the expected
  // per-sample floor under i.i.d. sampling (docs/theory.md). gap = loss - bound.
  double loss_bound = kNaN;
  double loss_gap = kNaN;
  // 1 where the bound's conditions hold for these representations, else 0 (the value is then a reference, not a
  // bound): CE theory::CrossEntropyBoundApplicability, SC balanced classes (the floor assumes class probability 1/K).
  double loss_bound_applies = kNaN;
  // Accuracies in percent on train (the training labels) and test.
  double train_accuracy_class_mean = kNaN;  // argmax_k <mu_k, z>, unnormalized train class means
  double test_accuracy_class_mean = kNaN;
  double train_accuracy_nearest_mean = kNaN;  // argmin_k ||z - mu_k||
  double test_accuracy_nearest_mean = kNaN;
  double train_accuracy_classifier = kNaN;  // argmax_k <w_k, z> of the network's classifier
  double test_accuracy_classifier = kNaN;
  double train_accuracy_probe = kNaN;  // retrained linear probe
  double test_accuracy_probe = kNaN;
  // Geometry of the training representations (theory/geometry.hpp); similarities are angular, 1 - arccos(cos)/pi.
  double class_mean_similarity = kNaN;   // mean over pairs k < l of s(mu_k, mu_l)
  double classifier_similarity = kNaN;   // mean over pairs k < l of s(w_k, w_l)
  double sample_mean_similarity = kNaN;  // mean over samples of s(z_i, mu_{y_i})
  double simplex_similarity = kNaN;      // the simplex value 1 - arccos(-1/(K-1))/pi
  double class_mean_norm = kNaN;         // mean of ||mu_k||
  double class_mean_norm_spread = kNaN;  // standard deviation of ||mu_k|| over its mean
  double within_class_spread = kNaN;  // mean over classes of the RMS distance to the class mean, over class_mean_norm
  double gram_error = kNaN;  // max |<mu_k, mu_l> - G_kl| against the simplex of radius class_mean_norm, over its square

  // The fields as (snake_case name, value) in the order above: the columns of metrics.csv and the keys of the JSON.
  std::vector<std::pair<std::string, double>> Columns() const;
  // The inverse of Columns() (missing names stay NaN; unknown names throw std::invalid_argument).
  static EvaluationRecord FromColumns(const std::vector<std::pair<std::string, double>>& columns);
};

// Computes every metric of EvaluationRecord except the timing fields (left NaN). Throws std::invalid_argument for
// inconsistent shapes or non-finite representations.
EvaluationRecord Evaluate(const Embeddings& embeddings, const EvaluationOptions& options);

}  // namespace dissect::train
