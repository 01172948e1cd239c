// Training options for CUDA that the CPU runs too: bf16 autocast of the encoder's forward and channels-last
// convolutions, against the float32 trajectory on real Fashion-MNIST (stated tolerances), and their bad input.

#include <torch/torch.h>

#include <cmath>

#include "catch.hpp"
#include "dissect/train/trainer.hpp"
#include "fashion_mnist.hpp"
#include "test_support.hpp"

namespace {

using dissect::test::MessageContains;
using dissect::test::TemporaryDirectory;
namespace train = dissect::train;

const train::DataSplit& SmallFashionMnist() { return dissect::test::FashionMnistSubset(2000, 500); }

train::TrainOptions CnnRun(train::LossKind loss) {
  train::TrainOptions options;
  options.encoder.architecture = train::Architecture::kCnn;
  options.encoder.dim = 64;
  options.loss.kind = loss;
  options.iterations = 40;
  options.eval_every = 40;
  options.batch_size = 64;
  options.probe.iterations = 0;
  options.supcon_eval_batches = 2;
  options.threads = 2;
  options.device = "cpu";
  options.seed = 5;
  return options;
}

double FinalTrainLoss(const train::TrainResult& result) {
  REQUIRE(result.status == "completed");
  REQUIRE_FALSE(result.history.empty());
  return result.history.back().train_loss;
}

}  // namespace

TEST_CASE("Precision: bf16 autocast trains the CNN to within 1% of the float32 training loss, CE and SC") {
  for (const train::LossKind loss : {train::LossKind::kCrossEntropy, train::LossKind::kSupCon}) {
    train::TrainOptions options = CnnRun(loss);
    const double float32 = FinalTrainLoss(train::Train(options, SmallFashionMnist()));
    options.precision = train::Precision::kBfloat16;
    const double bf16 = FinalTrainLoss(train::Train(options, SmallFashionMnist()));
    INFO("loss " << train::ToString(loss) << ": float32 " << float32 << ", bf16 " << bf16);
    CHECK(std::isfinite(bf16));
    // bf16 keeps 8 bits of mantissa: the trajectory differs (autocast took effect) but stays close.
    CHECK(bf16 != float32);
    CHECK(std::abs(bf16 - float32) <= 0.01 * std::abs(float32));
  }
}

TEST_CASE("Precision: channels-last convolutions follow the float32 trajectory up to the order of sums (1e-4)") {
  train::TrainOptions options = CnnRun(train::LossKind::kCrossEntropy);
  const double contiguous = FinalTrainLoss(train::Train(options, SmallFashionMnist()));
  options.channels_last = true;
  const double channels_last = FinalTrainLoss(train::Train(options, SmallFashionMnist()));
  INFO("contiguous " << contiguous << ", channels-last " << channels_last);
  CHECK(std::abs(channels_last - contiguous) <= 1e-4 * std::abs(contiguous));
}

TEST_CASE("Precision: names parse, an unknown one is refused with the accepted names") {
  CHECK(train::ParsePrecision("float32") == train::Precision::kFloat32);
  CHECK(train::ParsePrecision("bf16") == train::Precision::kBfloat16);
  CHECK(train::ToString(train::Precision::kBfloat16) == "bf16");
  REQUIRE_THROWS_MATCHES(train::ParsePrecision("fp16"), std::invalid_argument, MessageContains("float32 or bf16"));
}

TEST_CASE("Precision: a float32 checkpoint does not resume a bf16 run (the precision shapes the trajectory)") {
  TemporaryDirectory dir;
  train::TrainOptions options = CnnRun(train::LossKind::kCrossEntropy);
  options.iterations = 4;
  options.eval_every = 4;
  options.checkpoint_path = dir.path() / "run.ckpt";
  REQUIRE(train::Train(options, SmallFashionMnist()).status == "completed");
  options.precision = train::Precision::kBfloat16;
  options.resume = true;
  REQUIRE_THROWS_MATCHES(
      train::Train(options, SmallFashionMnist()), std::runtime_error, MessageContains("precision=bf16"));
}
