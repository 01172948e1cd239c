// Evaluation on representations with known answers: a collapsed simplex scores 100% everywhere, sits at the CE
// bound and at the simplex geometry; the probe separates separable data; records read back.

#include <torch/torch.h>

#include "catch.hpp"
#include "dissect/theory/bounds.hpp"
#include "dissect/theory/geometry.hpp"
#include "dissect/theory/regular_simplex.hpp"
#include "dissect/train/evaluation.hpp"
#include "test_support.hpp"

namespace {

using dissect::test::kTightTolerance;
using dissect::test::MessageContains;
namespace theory = dissect::theory;
namespace train = dissect::train;

torch::Tensor Rows(const Eigen::MatrixXd& points) {
  return torch::from_blob(const_cast<double*>(points.data()), {points.cols(), points.rows()}, torch::kDouble).clone();
}

torch::Tensor LabelTensor(const Eigen::VectorXi& labels) {
  return torch::tensor(std::vector<std::int64_t>(labels.data(), labels.data() + labels.size()), torch::kLong);
}

// Every sample at the simplex vertex of its class (radius rho, K classes, n per class, in R^h).
train::Embeddings Collapsed(int num_classes, int dim, double radius, int per_class) {
  const Eigen::MatrixXd vertices = theory::RegularSimplex(num_classes, dim, radius, 3);
  const Eigen::VectorXi labels = dissect::test::BalancedLabels(num_classes, per_class);
  const Eigen::MatrixXd points = dissect::test::PointsAtVertices(vertices, labels);
  train::Embeddings e;
  e.train = Rows(points);
  e.train_labels = LabelTensor(labels);
  e.test = e.train.clone();
  e.test_labels = e.train_labels.clone();
  e.classifier = Rows(vertices / radius);  // unit rows w_k = zeta_k / rho
  return e;
}

}  // namespace

TEST_CASE(
    "Evaluate: a collapsed simplex scores 100% with every classifier, sits at the CE bound and the simplex geometry") {
  const int K = 5;
  train::Embeddings e = Collapsed(K, 8, 2.0, 20);
  train::EvaluationOptions options;
  options.loss.kind = train::LossKind::kCrossEntropy;
  options.loss.num_classes = K;
  options.loss.dim = 8;
  options.probe.iterations = 300;
  const train::EvaluationRecord r = train::Evaluate(e, options);
  for (const double accuracy : {r.train_accuracy_class_mean,
                                r.test_accuracy_class_mean,
                                r.train_accuracy_nearest_mean,
                                r.test_accuracy_nearest_mean,
                                r.train_accuracy_classifier,
                                r.test_accuracy_classifier,
                                r.train_accuracy_probe,
                                r.test_accuracy_probe}) {
    CHECK(accuracy == 100.0);
  }
  // Paper: CE bound, attained at collapse with w_k = (r/rho) zeta_k: rho = 2, r = 1.
  CHECK(r.loss_bound == Approx(theory::CrossEntropyBound(K, 2.0, 1.0)).epsilon(kTightTolerance));
  CHECK(std::abs(r.loss_gap) < 1e-12);
  CHECK(r.class_mean_similarity == Approx(theory::SimplexAngularSimilarity(K)).epsilon(1e-12));
  CHECK(r.classifier_similarity == Approx(theory::SimplexAngularSimilarity(K)).epsilon(1e-12));
  CHECK(r.simplex_similarity == theory::SimplexAngularSimilarity(K));
  CHECK(r.sample_mean_similarity == Approx(1.0).margin(1e-7));
  CHECK(r.class_mean_norm == Approx(2.0).epsilon(1e-14));
  CHECK(r.class_mean_norm_spread == Approx(0.0).margin(1e-12));
  CHECK(r.within_class_spread == Approx(0.0).margin(1e-12));
  CHECK(r.gram_error == Approx(0.0).margin(1e-12));
}

TEST_CASE("Evaluate: SC at a collapsed unit simplex estimates the expected i.i.d. floor within its standard error") {
  const int K = 10;
  train::Embeddings e = Collapsed(K, 12, 1.0, 30);
  e.classifier = torch::Tensor();
  train::EvaluationOptions options;
  options.loss.kind = train::LossKind::kSupCon;
  options.loss.num_classes = K;
  options.loss.dim = 12;
  options.loss.temperature = 0.1;
  options.batch_size = 256;
  options.supcon_batches = 64;
  options.probe.iterations = 0;
  const train::EvaluationRecord r = train::Evaluate(e, options);
  CHECK(r.loss_bound == Approx(3.220563813319926).epsilon(kTightTolerance));  // docs/theory.md known answer
  CHECK(r.loss_standard_error > 0.0);
  CHECK(std::abs(r.loss - r.loss_bound) < 4.0 * r.loss_standard_error);
  CHECK(std::isnan(r.train_accuracy_classifier));
  CHECK(std::isnan(r.train_accuracy_probe));
  CHECK(r.test_accuracy_class_mean == 100.0);
}

TEST_CASE("Evaluate: SC with a zero representation (dead post-ReLU units) gives a finite estimate") {
  const int K = 3;
  train::Embeddings e = Collapsed(K, 4, 1.0, 20);
  e.classifier = torch::Tensor();
  e.train[7].zero_();  // a representation without a direction
  train::EvaluationOptions options;
  options.loss.kind = train::LossKind::kSupCon;
  options.loss.num_classes = K;
  options.loss.dim = 4;
  options.batch_size = 64;
  options.supcon_batches = 8;
  options.probe.iterations = 0;
  const train::EvaluationRecord r = train::Evaluate(e, options);
  CHECK(std::isfinite(r.loss));
  CHECK(std::isfinite(r.loss_standard_error));
}

TEST_CASE("TrainLinearProbe: separable classes are fitted, zero iterations leave the probe not run") {
  // Three Gaussian clusters far apart in R^4.
  Eigen::MatrixXd points = dissect::test::RandomGaussianPoints(4, 300, 5, 0.1);
  const Eigen::VectorXi labels = dissect::test::BalancedLabels(3, 100);
  for (Eigen::Index i = 0; i < 300; ++i) points(labels(i), i) += 3.0;
  train::Embeddings e;
  e.train = Rows(points).to(torch::kFloat);
  e.train_labels = LabelTensor(labels);
  e.test = e.train;
  e.test_labels = e.train_labels;
  train::LinearProbeOptions options;
  options.iterations = 500;
  const train::LinearProbeResult result = train::TrainLinearProbe(e, 3, options);
  CHECK(result.train_accuracy == 100.0);
  CHECK(result.weights.sizes() == torch::IntArrayRef({3, 4}));
  // Equal seeds give equal probes.
  CHECK(train::TrainLinearProbe(e, 3, options).weights.equal(result.weights));
  options.iterations = 0;
  CHECK(std::isnan(train::TrainLinearProbe(e, 3, options).test_accuracy));
  options.learning_rate = 0.0;
  REQUIRE_THROWS_MATCHES(
      train::TrainLinearProbe(e, 3, options), std::invalid_argument, MessageContains("learning_rate > 0"));
}

TEST_CASE("EvaluationRecord: Columns and FromColumns are inverse, unknown columns are refused") {
  train::EvaluationRecord record;
  double value = 1.0;
  std::vector<std::pair<std::string, double>> columns = record.Columns();
  for (auto& [name, v] : columns) v = (value *= 1.5);
  const train::EvaluationRecord back = train::EvaluationRecord::FromColumns(columns);
  CHECK(back.Columns() == columns);
  CHECK(columns.front().first == "iteration");
  REQUIRE_THROWS_MATCHES(train::EvaluationRecord::FromColumns({{"accuracy", 1.0}}),
                         std::invalid_argument,
                         MessageContains("unknown column 'accuracy'"));
}

TEST_CASE("Evaluate: mismatched shapes and non-finite representations are refused with the reason") {
  train::Embeddings e = Collapsed(3, 4, 1.0, 2);
  train::EvaluationOptions options;
  options.loss.num_classes = 3;
  options.loss.dim = 4;
  options.probe.iterations = 0;
  e.test_labels = e.test_labels.narrow(0, 0, 2);
  REQUIRE_THROWS_MATCHES(
      train::Evaluate(e, options), std::invalid_argument, MessageContains("one label per representation"));
  e = Collapsed(3, 4, 1.0, 2);
  e.train[1][2] = std::numeric_limits<double>::quiet_NaN();
  REQUIRE_THROWS_MATCHES(train::Evaluate(e, options), std::invalid_argument, MessageContains("entry (1, 2) is nan"));
}
