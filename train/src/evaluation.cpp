#include "dissect/train/evaluation.hpp"

#include <fmt/format.h>

#include <cmath>
#include <random>
#include <stdexcept>

#include "dissect/theory/bounds.hpp"
#include "dissect/theory/check.hpp"
#include "dissect/theory/cross_entropy_loss.hpp"
#include "dissect/theory/geometry.hpp"
#include "dissect/theory/iid_supcon_estimate.hpp"
#include "dissect/theory/learning_rate_schedule.hpp"
#include "dissect/theory/supcon_loss.hpp"
#include "dissect/train/data_parallel.hpp"
#include "dissect/train/tensor_bridge.hpp"

namespace dissect::train {
namespace {

using Field = double EvaluationRecord::*;

const std::vector<std::pair<const char*, Field>>& Fields() {
  static const std::vector<std::pair<const char*, Field>> fields = {
      {"iteration", &EvaluationRecord::iteration},
      {"seconds", &EvaluationRecord::seconds},
      {"images_per_second", &EvaluationRecord::images_per_second},
      {"learning_rate", &EvaluationRecord::learning_rate},
      {"train_loss", &EvaluationRecord::train_loss},
      {"loss", &EvaluationRecord::loss},
      {"loss_standard_error", &EvaluationRecord::loss_standard_error},
      {"loss_bound", &EvaluationRecord::loss_bound},
      {"loss_gap", &EvaluationRecord::loss_gap},
      {"loss_bound_applies", &EvaluationRecord::loss_bound_applies},
      {"train_accuracy_class_mean", &EvaluationRecord::train_accuracy_class_mean},
      {"test_accuracy_class_mean", &EvaluationRecord::test_accuracy_class_mean},
      {"train_accuracy_nearest_mean", &EvaluationRecord::train_accuracy_nearest_mean},
      {"test_accuracy_nearest_mean", &EvaluationRecord::test_accuracy_nearest_mean},
      {"train_accuracy_classifier", &EvaluationRecord::train_accuracy_classifier},
      {"test_accuracy_classifier", &EvaluationRecord::test_accuracy_classifier},
      {"train_accuracy_probe", &EvaluationRecord::train_accuracy_probe},
      {"test_accuracy_probe", &EvaluationRecord::test_accuracy_probe},
      {"class_mean_similarity", &EvaluationRecord::class_mean_similarity},
      {"classifier_similarity", &EvaluationRecord::classifier_similarity},
      {"sample_mean_similarity", &EvaluationRecord::sample_mean_similarity},
      {"simplex_similarity", &EvaluationRecord::simplex_similarity},
      {"class_mean_norm", &EvaluationRecord::class_mean_norm},
      {"class_mean_norm_spread", &EvaluationRecord::class_mean_norm_spread},
      {"within_class_spread", &EvaluationRecord::within_class_spread},
      {"gram_error", &EvaluationRecord::gram_error},
  };
  return fields;
}

double AccuracyPercent(const torch::Tensor& scores, const torch::Tensor& labels) {
  return 100.0 * scores.argmax(1).eq(labels).to(torch::kDouble).mean().item<double>();
}

// Mean over pairs k < l of the angular similarity of the columns (classes without points are skipped): the mean of
// the values `dissect geometry` summarizes.
double MeanPairSimilarity(const Eigen::MatrixXd& columns) {
  const std::vector<double> similarities = theory::PairAngularSimilarities(columns);
  double sum = 0.0;
  for (const double s : similarities) sum += s;
  return similarities.empty() ? EvaluationRecord::kNaN : sum / static_cast<double>(similarities.size());
}

void Require(bool condition, const std::string& message) {
  if (!condition) throw std::invalid_argument("Evaluate(): " + message);
}

// Paper: SC loss of i.i.d. batches of the training representations z/||z||, with reduction sum/b (docs/theory.md,
// floor): the batches and the estimate of theory/, as `dissect geometry --seed` draws them.
theory::IidSupConEstimate SupConEstimate(const Eigen::MatrixXd& points,
                                         const Eigen::VectorXi& labels,
                                         const EvaluationOptions& options) {
  const int b = static_cast<int>(options.batch_size);
  const int m = static_cast<int>(options.supcon_batches);
  const std::vector<Eigen::Index> drawn = theory::DrawIidBatchIndices(points.cols(), b, m, options.seed);
  Eigen::MatrixXd batches(points.rows(), static_cast<Eigen::Index>(drawn.size()));
  Eigen::VectorXi batch_labels(static_cast<Eigen::Index>(drawn.size()));
  for (std::size_t c = 0; c < drawn.size(); ++c) {
    // On the unit sphere in double precision (float32 normalization leaves norms 1 +- 1e-7), as `dissect geometry`.
    // A zero representation (every post-ReLU unit dead) stays zero, as the loss's normalization with its epsilon
    // leaves it: it has no direction, and 0/0 would stop the run.
    const double norm = points.col(drawn[c]).norm();
    batches.col(static_cast<Eigen::Index>(c)) =
        norm > 0.0 ? Eigen::VectorXd(points.col(drawn[c]) / norm) : Eigen::VectorXd(points.col(drawn[c]));
    batch_labels(static_cast<Eigen::Index>(c)) = labels(drawn[c]);
  }
  return theory::EstimateIidSupCon(
      batches, batch_labels, b, theory::Temperature::FromTemperature(options.loss.temperature));
}

}  // namespace

std::vector<std::pair<std::string, double>> EvaluationRecord::Columns() const {
  std::vector<std::pair<std::string, double>> columns;
  for (const auto& [name, field] : Fields()) columns.emplace_back(name, this->*field);
  return columns;
}

EvaluationRecord EvaluationRecord::FromColumns(const std::vector<std::pair<std::string, double>>& columns) {
  EvaluationRecord record;
  for (const auto& [name, value] : columns) {
    bool known = false;
    for (const auto& [field_name, field] : Fields()) {
      if (name == field_name) {
        record.*field = value;
        known = true;
      }
    }
    if (!known) throw std::invalid_argument(fmt::format("EvaluationRecord::FromColumns(): unknown column '{}'", name));
  }
  return record;
}

namespace {

torch::Tensor EmbedRange(Encoder& encoder,
                         LossHead& head,
                         const DataPipeline& data,
                         std::int64_t begin,
                         std::int64_t end,
                         std::int64_t chunk) {
  theory::RequireAtLeast("Embed", "chunk", chunk, 1);
  torch::NoGradGuard no_grad;
  const bool was_training = encoder->is_training();
  encoder->eval();
  std::vector<torch::Tensor> parts;
  for (std::int64_t start = begin; start < end; start += chunk) {
    const std::int64_t count = std::min(chunk, end - start);
    parts.push_back(head->Represent(encoder->forward(data.Slice(start, count))));
  }
  encoder->train(was_training);
  if (parts.empty()) return torch::Tensor();
  return torch::cat(parts, 0);
}

}  // namespace

torch::Tensor Embed(Encoder& encoder, LossHead& head, const DataPipeline& data, std::int64_t chunk) {
  return EmbedRange(encoder, head, data, 0, data.size(), chunk);
}

torch::Tensor EmbedSharded(
    Encoder& encoder, LossHead& head, const DataPipeline& data, Communicator& communicator, std::int64_t chunk) {
  if (!communicator.distributed()) return Embed(encoder, head, data, chunk);
  const auto [begin, end] = ShardRange(data.size(), communicator.rank(), communicator.world_size());
  // The all-gather takes equal shapes: every part is padded to the largest shard, and the padding cut out after.
  const std::int64_t shard = (data.size() + communicator.world_size() - 1) / communicator.world_size();
  const std::int64_t dim = encoder->options().dim;
  const torch::Tensor parameter = encoder->parameters().front();
  torch::Tensor part = torch::zeros({shard, dim}, parameter.options().requires_grad(false));
  if (end > begin) part.narrow(0, 0, end - begin).copy_(EmbedRange(encoder, head, data, begin, end, chunk));
  const torch::Tensor gathered = communicator.AllGather(part);
  std::vector<torch::Tensor> rows;
  for (int r = 0; r < communicator.world_size(); ++r) {
    const auto [b, e] = ShardRange(data.size(), r, communicator.world_size());
    rows.push_back(gathered.narrow(0, r * shard, e - b));
  }
  return torch::cat(rows, 0);
}

void LinearProbeOptions::Validate() const {
  const char* where = "LinearProbeOptions::Validate";
  theory::RequireAtLeast(where, "iterations", iterations, 0);
  theory::RequireAtLeast(where, "batch_size", batch_size, 1);
  theory::RequirePositive(where, "learning_rate", learning_rate);
  if (!(weight_decay >= 0.0) || !std::isfinite(weight_decay)) {
    throw std::invalid_argument(fmt::format("{}(): expected weight_decay >= 0, got {}", where, weight_decay));
  }
}

LinearProbeResult TrainLinearProbe(const Embeddings& embeddings,
                                   int num_classes,
                                   const LinearProbeOptions& options,
                                   Communicator* communicator) {
  options.Validate();
  LinearProbeResult result;
  if (options.iterations == 0) return result;
  const torch::Tensor& z = embeddings.train;
  Require(z.defined() && z.dim() == 2 && z.size(0) >= 1, "expected train representations N x h");
  torch::NoGradGuard no_grad;
  // The gradient of the mean CE of a bias-free linear map is (softmax - onehot)^T Z_b / b: written out, it costs
  // four small products a step instead of an autograd graph.
  torch::Tensor weights = torch::zeros({num_classes, z.size(1)}, z.options());
  std::mt19937_64 generator(options.seed);
  const auto n = static_cast<std::uint64_t>(z.size(0));
  std::vector<std::int64_t> indices(static_cast<std::size_t>(options.batch_size));
  const double b = static_cast<double>(options.batch_size);
  // Data-parallel: every rank draws the same batch and takes its share of the rows; the K x h sums are all-reduced.
  const bool sharded = communicator != nullptr && communicator->distributed();
  const auto [first, last] = sharded ? ShardRange(options.batch_size, communicator->rank(), communicator->world_size())
                                     : std::pair<std::int64_t, std::int64_t>(0, options.batch_size);
  for (std::int64_t i = 0; i < options.iterations; ++i) {
    for (auto& index : indices) index = static_cast<std::int64_t>(generator() % n);
    const torch::Tensor rows =
        torch::tensor(std::vector<std::int64_t>(indices.begin() + first, indices.begin() + last), torch::kLong)
            .to(z.device());
    const torch::Tensor batch = z.index_select(0, rows);
    const torch::Tensor labels = embeddings.train_labels.index_select(0, rows);
    torch::Tensor residual = torch::softmax(torch::matmul(batch, weights.t()), 1);
    residual.scatter_add_(1, labels.unsqueeze(1), torch::full({last - first, 1}, -1.0, residual.options()));
    torch::Tensor gradient = torch::matmul(residual.t(), batch);
    if (sharded) communicator->AllReduceSum(gradient);
    gradient.div_(b).add_(weights, options.weight_decay);
    const double lr = theory::Poly5LearningRate(options.learning_rate, i, options.iterations);
    weights.sub_(gradient, lr);
  }
  result.weights = weights;
  result.train_accuracy = AccuracyPercent(torch::matmul(z, weights.t()), embeddings.train_labels);
  result.test_accuracy = AccuracyPercent(torch::matmul(embeddings.test, weights.t()), embeddings.test_labels);
  return result;
}

EvaluationRecord Evaluate(const Embeddings& embeddings, const EvaluationOptions& options) {
  options.loss.Validate();
  const auto num_classes = static_cast<int>(options.loss.num_classes);
  const torch::Tensor& z = embeddings.train;
  const torch::Tensor& z_test = embeddings.test;
  Require(z.defined() && z.dim() == 2 && z.size(0) >= 1, "expected train representations N x h");
  Require(z_test.defined() && z_test.dim() == 2 && z_test.size(1) == z.size(1), "expected test representations N x h");
  Require(embeddings.train_labels.numel() == z.size(0) && embeddings.test_labels.numel() == z_test.size(0),
          "expected one label per representation");
  EvaluationRecord record;

  // Geometry and the SC estimate in double precision through the bridge (which also rejects non-finite entries).
  const Eigen::MatrixXd points = ToPoints(z);
  const Eigen::VectorXi labels = ToLabels(embeddings.train_labels);
  const theory::ClassMeans class_means = theory::ComputeClassMeans(points, labels, num_classes);
  const std::vector<std::int64_t> counts(class_means.counts.begin(), class_means.counts.end());
  const Eigen::MatrixXd& means = class_means.means;

  // Classifiers from the class means, on the device in float: <mu_k, z> and -||z - mu_k||^2 up to a per-row constant.
  Eigen::MatrixXf means_rows = means.transpose().cast<float>();  // K x h; empty classes stay NaN and never win
  for (Eigen::Index k = 0; k < means_rows.rows(); ++k) {
    if (!means_rows.row(k).allFinite()) means_rows.row(k).setConstant(0.0F);
  }
  const torch::Tensor mu = torch::from_blob(means_rows.data(), {means_rows.cols(), means_rows.rows()}, torch::kFloat)
                               .t()
                               .contiguous()
                               .to(z.device());
  const torch::Tensor mu_sq = mu.pow(2).sum(1);
  for (const bool test : {false, true}) {
    const torch::Tensor& r = test ? z_test : z;
    const torch::Tensor& y = test ? embeddings.test_labels : embeddings.train_labels;
    const torch::Tensor inner = torch::matmul(r.to(torch::kFloat), mu.t());
    (test ? record.test_accuracy_class_mean : record.train_accuracy_class_mean) = AccuracyPercent(inner, y);
    (test ? record.test_accuracy_nearest_mean : record.train_accuracy_nearest_mean) =
        AccuracyPercent(2.0 * inner - mu_sq.unsqueeze(0), y);
    if (embeddings.classifier.defined()) {
      (test ? record.test_accuracy_classifier : record.train_accuracy_classifier) =
          AccuracyPercent(torch::matmul(r, embeddings.classifier.to(r.dtype()).t()), y);
    }
  }

  const LinearProbeResult probe_result = TrainLinearProbe(embeddings, num_classes, options.probe, options.communicator);
  record.train_accuracy_probe = probe_result.train_accuracy;
  record.test_accuracy_probe = probe_result.test_accuracy;

  // The loss on the training representations against its bound.
  if (options.loss.kind == LossKind::kSupCon) {
    const theory::IidSupConEstimate estimate = SupConEstimate(points, labels, options);
    record.loss = estimate.mean;
    record.loss_standard_error = estimate.standard_error;
    // Paper: expected per-sample floor under i.i.d. sampling (docs/theory.md); features on the unit sphere.
    record.loss_bound_applies = theory::ClassesBalanced(counts);
    record.loss_bound = theory::SupConIidFloor(num_classes,
                                               static_cast<int>(options.batch_size),
                                               theory::Temperature::FromTemperature(options.loss.temperature));
  } else {
    const Eigen::MatrixXd weights = ToPoints(embeddings.classifier).transpose();  // K x h
    const theory::CrossEntropyResult ce = theory::CrossEntropyLoss(points, labels, weights, /*with_gradient=*/false);
    record.loss = ce.value;
    record.loss_standard_error = 0.0;
    // Paper: CE bound with rho = max ||z_i|| and r = max ||w_k||, which these points and rows satisfy.
    const double radius = points.colwise().norm().maxCoeff();
    const double weight_norm = weights.rowwise().norm().maxCoeff();
    record.loss_bound = theory::CrossEntropyBound(num_classes, radius, weight_norm);
    record.loss_bound_applies =
        theory::CrossEntropyBoundApplicability(counts, static_cast<int>(points.rows()), radius, weight_norm).applies;
    record.classifier_similarity = MeanPairSimilarity(weights.transpose());
  }
  record.loss_gap = record.loss - record.loss_bound;

  // Geometry basics of theory/ on the training representations.
  record.class_mean_similarity = MeanPairSimilarity(means);
  record.simplex_similarity = theory::SimplexAngularSimilarity(num_classes);
  double similarity_sum = 0.0;
  Eigen::Index similarity_count = 0;
  for (Eigen::Index i = 0; i < points.cols(); ++i) {
    if (points.col(i).norm() > 0.0 && means.col(labels(i)).norm() > 0.0) {
      similarity_sum += theory::AngularSimilarity(points.col(i), means.col(labels(i)));
      ++similarity_count;
    }
  }
  record.sample_mean_similarity = similarity_count > 0 ? similarity_sum / similarity_count : EvaluationRecord::kNaN;
  std::vector<double> present_norms;
  for (Eigen::Index k = 0; k < means.cols(); ++k) {
    if (class_means.counts(k) > 0) present_norms.push_back(means.col(k).norm());
  }
  const Eigen::VectorXd norms =
      Eigen::Map<const Eigen::VectorXd>(present_norms.data(), static_cast<Eigen::Index>(present_norms.size()));
  const double norm_mean = norms.size() > 0 ? norms.mean() : 0.0;
  record.class_mean_norm = norm_mean;
  record.class_mean_norm_spread = theory::RelativeSpread(norms);
  const Eigen::VectorXd spread = theory::WithinClassSpread(points, labels, num_classes);
  double spread_sum = 0.0;
  int spread_count = 0;
  for (Eigen::Index k = 0; k < spread.size(); ++k) {
    if (std::isfinite(spread(k))) {
      spread_sum += spread(k);
      ++spread_count;
    }
  }
  if (norm_mean > 0.0) {
    record.within_class_spread = spread_sum / spread_count / norm_mean;
    if (norms.size() == num_classes) {
      record.gram_error = theory::MaxGramErrorAgainstSimplex(means, norm_mean) / (norm_mean * norm_mean);
    }
  }
  return record;
}

}  // namespace dissect::train
