// Training on the real Fashion-MNIST (Debian's dataset-fashion-mnist): accuracy reached by short CE and SC runs,
// determinism, exact resumption after a stop, divergence, checkpoints of another run, the export.

#include <torch/torch.h>

#include <fmt/format.h>

#include <fstream>

#include "catch.hpp"
#include "dissect/theory/npy.hpp"
#include "dissect/train/tensor_bridge.hpp"
#include "dissect/train/trainer.hpp"
#include "fashion_mnist.hpp"
#include "test_support.hpp"

namespace {

using dissect::test::MessageContains;
using dissect::test::TemporaryDirectory;
namespace train = dissect::train;

// Fashion-MNIST: the first 20,000 training images and 2,000 test images keep every run short.
const train::DataSplit& FashionMnist() { return dissect::test::FashionMnistSubset(20000, 2000); }

train::TrainOptions ShortRun(train::LossKind loss, std::int64_t iterations) {
  train::TrainOptions options;
  options.loss.kind = loss;
  options.iterations = iterations;
  options.eval_every = iterations / 2;
  options.probe.iterations = 300;
  options.supcon_eval_batches = 4;
  options.threads = 2;
  options.device = "cpu";
  options.seed = 3;
  return options;
}

std::vector<std::vector<std::pair<std::string, double>>> MetricsWithoutTimings(const train::TrainResult& result) {
  std::vector<std::vector<std::pair<std::string, double>>> rows;
  for (train::EvaluationRecord record : result.history) {
    record.seconds = 0.0;
    record.images_per_second = 0.0;
    rows.push_back(record.Columns());
  }
  return rows;
}

}  // namespace

TEST_CASE("Train: 400 SC steps of the MLP on Fashion-MNIST reach 78% test accuracy with the class-mean classifier") {
  const train::TrainResult result = train::Train(ShortRun(train::LossKind::kSupCon, 400), FashionMnist());
  REQUIRE(result.status == "completed");
  REQUIRE(result.history.size() == 2);
  const train::EvaluationRecord& last = result.history.back();
  CHECK(last.iteration == 400.0);
  CHECK(last.test_accuracy_class_mean >= 78.0);
  CHECK(last.test_accuracy_probe >= 75.0);
  CHECK(std::isnan(last.test_accuracy_classifier));  // SC has no classifier of its own
  // Paper: the SC loss stays above its i.i.d. floor (3.2206 for K=10, b=256, tau=0.1), here by a wide margin.
  CHECK(last.loss_bound == Approx(3.220563813319926));
  CHECK(last.loss_gap > 0.0);
  CHECK(result.encoder == "mlp 784-256-256-128 post-ReLU (features >= 0)");
}

TEST_CASE("Train: 400 CE steps reach 78% test accuracy with the network's classifier and 50% with the class means") {
  // Post-ReLU CE features are far from collapse after 400 steps: class means of unequal norms make argmax <mu_k, z>
  // a weak classifier early in training (measured 61.5% at 400 steps on all 60,000 images), nearest mean ~80%.
  const train::TrainResult result = train::Train(ShortRun(train::LossKind::kCrossEntropy, 400), FashionMnist());
  REQUIRE(result.status == "completed");
  const train::EvaluationRecord& last = result.history.back();
  CHECK(last.test_accuracy_classifier >= 78.0);
  CHECK(last.test_accuracy_class_mean >= 50.0);
  CHECK(last.test_accuracy_nearest_mean >= 75.0);
  CHECK(last.loss_gap >= 0.0);  // the CE bound at the run's own norms holds
  CHECK(result.embeddings.classifier.sizes() == torch::IntArrayRef({10, 128}));
}

TEST_CASE("Train: equal seeds give identical metrics, a stopped and resumed run equals an uninterrupted one") {
  TemporaryDirectory dir;
  train::TrainOptions options = ShortRun(train::LossKind::kCrossEntropyFixed, 120);
  options.eval_every = 40;
  options.augmentation = train::Augmentation::kCropFlip;
  options.sampling = train::BatchSampling::kShuffledEpochs;
  const train::TrainResult whole = train::Train(options, FashionMnist());
  CHECK(MetricsWithoutTimings(train::Train(options, FashionMnist())) == MetricsWithoutTimings(whole));

  options.checkpoint_path = dir.path() / "checkpoint.pt";
  train::TrainCallbacks stop_at_70;
  stop_at_70.on_step = [](const train::TrainProgress& p) { return p.iteration == 70; };
  const train::TrainResult stopped = train::Train(options, FashionMnist(), stop_at_70);
  REQUIRE(stopped.status == "cancelled");
  CHECK(stopped.iterations_done == 70);
  options.resume = true;
  const train::TrainResult resumed = train::Train(options, FashionMnist());
  CHECK(resumed.resumed_from == 70);
  CHECK(resumed.status == "completed");
  CHECK(MetricsWithoutTimings(resumed) == MetricsWithoutTimings(whole));
  CHECK(resumed.embeddings.train.equal(whole.embeddings.train));
}

TEST_CASE("Train: a non-finite loss ends the run as diverged and keeps the last checkpoint") {
  TemporaryDirectory dir;
  train::TrainOptions options = ShortRun(train::LossKind::kCrossEntropy, 200);
  options.learning_rate = 1e8;
  options.schedule = train::Schedule::kConstant;
  options.eval_every = 0;
  options.checkpoint_path = dir.path() / "checkpoint.pt";
  options.checkpoint_every = 1;
  const train::TrainResult result = train::Train(options, FashionMnist());
  REQUIRE(result.status == "diverged");
  CHECK(result.iterations_done < 200);
  CHECK_THAT(result.message, Catch::Contains(fmt::format("step {}", result.iterations_done + 1)));
  CHECK(std::filesystem::exists(options.checkpoint_path));
}

TEST_CASE("Train: resuming from a missing checkpoint or one of another run is refused with the reason") {
  TemporaryDirectory dir;
  train::TrainOptions options = ShortRun(train::LossKind::kCrossEntropy, 20);
  options.probe.iterations = 0;
  options.checkpoint_path = dir.path() / "checkpoint.pt";
  options.resume = true;
  REQUIRE_THROWS_MATCHES(train::Train(options, FashionMnist()), std::runtime_error, MessageContains("no checkpoint"));
  options.resume = false;
  REQUIRE(train::Train(options, FashionMnist()).status == "completed");
  options.resume = true;
  options.seed = 4;
  REQUIRE_THROWS_MATCHES(train::Train(options, FashionMnist()), std::runtime_error, MessageContains("of another run"));
  std::ofstream(options.checkpoint_path) << "not a checkpoint";
  options.seed = 3;
  REQUIRE_THROWS_MATCHES(train::Train(options, FashionMnist()), std::runtime_error, MessageContains("corrupt"));
}

TEST_CASE("Train: bad options and devices are refused before any work, naming the problem") {
  train::TrainOptions options = ShortRun(train::LossKind::kSupCon, 10);
  options.loss.temperature = 0.0;
  REQUIRE_THROWS_MATCHES(
      train::Train(options, FashionMnist()), std::invalid_argument, MessageContains("temperature > 0"));
  options = ShortRun(train::LossKind::kCrossEntropy, 0);
  REQUIRE_THROWS_MATCHES(
      train::Train(options, FashionMnist()), std::invalid_argument, MessageContains("iterations >= 1"));
  options = ShortRun(train::LossKind::kCrossEntropy, 10);
  options.momentum = 1.0;
  REQUIRE_THROWS_MATCHES(
      train::Train(options, FashionMnist()), std::invalid_argument, MessageContains("momentum in [0, 1)"));
  REQUIRE_THROWS_MATCHES(train::ResolveDevice("tpu"), std::invalid_argument, MessageContains("auto, cpu, cuda"));
  if (!torch::cuda::is_available()) {
    REQUIRE_THROWS_MATCHES(train::ResolveDevice("cuda"), std::invalid_argument, MessageContains("no CUDA"));
  }
}

TEST_CASE("LearningRate: poly-5 and cosine follow their formulas") {
  CHECK(train::LearningRate(train::Schedule::kPoly5, 0.1, 0, 100) == 0.1);
  CHECK(train::LearningRate(train::Schedule::kPoly5, 0.1, 50, 100) == Approx(0.1 / 32.0).epsilon(1e-15));
  CHECK(train::LearningRate(train::Schedule::kCosine, 0.1, 50, 100) == Approx(0.05).epsilon(1e-15));
  CHECK(train::LearningRate(train::Schedule::kConstant, 0.1, 99, 100) == 0.1);
}

TEST_CASE("ExportEmbeddings: the .npy files hold the representations, labels and classifier") {
  TemporaryDirectory dir;
  train::TrainOptions options = ShortRun(train::LossKind::kCrossEntropy, 10);
  options.probe.iterations = 0;
  const train::TrainResult result = train::Train(options, FashionMnist());
  train::ExportEmbeddings(result.embeddings, dir.path());
  const Eigen::MatrixXd train_points = dissect::theory::ReadNpyPoints(dir.path() / "train_embeddings.npy");
  CHECK(train_points.cols() == 20000);
  CHECK(train_points.isApprox(train::ToPoints(result.embeddings.train)));
  CHECK(dissect::theory::ReadNpyLabels(dir.path() / "test_labels.npy").size() == 2000);
  CHECK(dissect::theory::ReadNpyMatrix(dir.path() / "classifier.npy").rows() == 10);
}

TEST_CASE("Train: LibTorch's thread count and random generator are as they were after the run, and after a failure") {
  torch::set_num_threads(1);
  torch::manual_seed(12345);
  const torch::Tensor expected = torch::rand({4}, torch::kFloat64);  // the draw after seeding with 12345
  torch::manual_seed(12345);
  train::TrainOptions options = ShortRun(train::LossKind::kCrossEntropy, 4);
  options.threads = 2;
  options.probe.iterations = 0;
  const train::TrainResult result = train::Train(options, FashionMnist());
  REQUIRE(result.status == "completed");
  CHECK(result.threads == 2);
  CHECK(torch::get_num_threads() == 1);
  CHECK(torch::rand({4}, torch::kFloat64).equal(expected));

  torch::manual_seed(12345);
  options.resume = true;  // no checkpoint: refused after the guard took the state
  options.checkpoint_path = "/nonexistent/dissect/checkpoint.pt";
  CHECK_THROWS(train::Train(options, FashionMnist()));
  CHECK(torch::get_num_threads() == 1);
  CHECK(torch::rand({4}, torch::kFloat64).equal(expected));
}
