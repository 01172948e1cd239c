// TiledSupConLoss (issue "Exact SC loss at any batch size"): the autograd function and its torch-operations path
// against the dense LibTorch loss of losses.hpp, in tiles of 64 anchors: value and gradient to 1e-12 relative in
// float64 and 1e-5 in float32, every reduction, anchors without positives, one class, classes of one sample.

#include "dissect/train/tiled_supcon_loss.hpp"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "catch.hpp"
#include "dissect/train/losses.hpp"
#include "test_support.hpp"

namespace {

using dissect::test::MessageContains;
namespace theory = dissect::theory;
namespace train = dissect::train;

constexpr double kOneTile64Budget = 1.0;  // a budget below one column: tiles of 64 anchors

struct ValueAndGradient {
  double value = 0.0;
  torch::Tensor gradient;
};

// A loss of rows, differentiated by autograd.
template <typename Loss>
ValueAndGradient Differentiate(const torch::Tensor& rows, Loss loss) {
  const torch::Tensor z = rows.detach().clone().requires_grad_(true);
  const torch::Tensor value = loss(z);
  value.backward();
  return {value.item<double>(), z.grad().detach().to(torch::kDouble)};
}

double RelativeGradientError(const torch::Tensor& got, const torch::Tensor& expected) {
  const double scale = std::max(1e-300, expected.abs().max().item<double>());
  return (got - expected).abs().max().item<double>() / scale;
}

// 400 points on the unit sphere of R^16, 7 classes cycling, one class of a single sample.
struct Batch {
  torch::Tensor rows;
  torch::Tensor labels;
};

Batch TestBatch(torch::Tensor labels) {
  torch::manual_seed(5);
  const torch::Tensor rows = torch::nn::functional::normalize(torch::randn({labels.size(0), 16}, torch::kDouble),
                                                              torch::nn::functional::NormalizeFuncOptions().dim(1));
  return {rows, labels};
}

torch::Tensor CyclicLabels(std::int64_t size) {
  torch::Tensor labels = torch::arange(size, torch::kLong).remainder(7);
  labels[5] = 40;  // an anchor without positives
  return labels;
}

std::vector<train::TiledSupConOptions> OptionsOfEveryReduction() {
  std::vector<train::TiledSupConOptions> all;
  for (const auto reduction : {theory::SupConReduction::kSum,
                               theory::SupConReduction::kBatchMean,
                               theory::SupConReduction::kReference,
                               theory::SupConReduction::kPositiveMean}) {
    train::TiledSupConOptions options;
    options.temperature = theory::Temperature::FromTemperature(0.1);
    options.reduction = reduction;
    options.memory_budget_bytes = kOneTile64Budget;
    all.push_back(options);
  }
  return all;
}

// The dense float64 loss against the tiled one in `dtype` through `tiled` (the autograd function or the torch ops).
template <typename Tiled>
void RequireTiledEqualsDense(const Batch& batch,
                             const train::TiledSupConOptions& options,
                             torch::ScalarType dtype,
                             double tolerance,
                             Tiled tiled) {
  const torch::Tensor rows = batch.rows.to(dtype).to(torch::kDouble);  // the same rounded points for both
  const ValueAndGradient dense = Differentiate(rows, [&](const torch::Tensor& z) {
    return train::SupConLoss(z, batch.labels, options.temperature, options.reduction);
  });
  const ValueAndGradient got = tiled(rows.to(dtype));
  CHECK(got.value == Approx(dense.value).epsilon(tolerance).margin(1e-300));
  CHECK(RelativeGradientError(got.gradient, dense.gradient) <= tolerance);
}

ValueAndGradient ByAutogradFunction(const torch::Tensor& rows,
                                    const torch::Tensor& labels,
                                    const train::TiledSupConOptions& options) {
  return Differentiate(rows, [&](const torch::Tensor& z) { return train::TiledSupConLoss(z, labels, options); });
}

ValueAndGradient ByTorchOps(const torch::Tensor& rows,
                            const torch::Tensor& labels,
                            const train::TiledSupConOptions& options) {
  const auto [value, gradient] = train::TiledSupConLossByTorchOps(rows, labels, options, true);
  return {value.item<double>(), gradient.to(torch::kDouble)};
}

void RequireBothPathsEqualDense(const Batch& batch, const train::TiledSupConOptions& options) {
  for (const auto& [dtype, tolerance] : {std::pair{torch::kDouble, 1e-12}, std::pair{torch::kFloat, 1e-5}}) {
    CAPTURE(c10::toString(dtype));
    {
      INFO("autograd function (theory kernel on the CPU)");
      RequireTiledEqualsDense(batch, options, dtype, tolerance, [&](const torch::Tensor& rows) {
        return ByAutogradFunction(rows, batch.labels, options);
      });
    }
    {
      INFO("torch operations (the path of other devices)");
      RequireTiledEqualsDense(batch, options, dtype, tolerance, [&](const torch::Tensor& rows) {
        return ByTorchOps(rows, batch.labels, options);
      });
    }
  }
}

}  // namespace

TEST_CASE(
    "TiledSupConLoss: tiles of 64 anchors give the dense loss and gradient, every reduction, float64 and float32") {
  const Batch batch = TestBatch(CyclicLabels(400));
  for (const train::TiledSupConOptions& options : OptionsOfEveryReduction()) {
    CAPTURE(theory::ToString(options.reduction));
    RequireBothPathsEqualDense(batch, options);
  }
  SECTION("one class") {
    RequireBothPathsEqualDense(TestBatch(torch::zeros({400}, torch::kLong)), OptionsOfEveryReduction()[1]);
  }
  SECTION("a temperature of 0.01 (logits up to 100)") {
    train::TiledSupConOptions options = OptionsOfEveryReduction()[1];
    options.temperature = theory::Temperature::FromTemperature(0.01);
    RequireBothPathsEqualDense(batch, options);
  }
  SECTION("the default budget: one tile") {
    train::TiledSupConOptions options = OptionsOfEveryReduction()[0];
    options.memory_budget_bytes = 256.0 * 1024 * 1024;
    RequireBothPathsEqualDense(batch, options);
  }
}

TEST_CASE("TiledSupConLoss: a base temperature scales the reference reduction by tau/base_tau on both paths") {
  const Batch batch = TestBatch(CyclicLabels(300));
  train::TiledSupConOptions options = OptionsOfEveryReduction()[2];  // reference, base_tau = tau
  const ValueAndGradient unscaled = ByAutogradFunction(batch.rows, batch.labels, options);
  options.base_temperature = 0.07;
  const double factor = 0.1 / 0.07;
  for (const ValueAndGradient& got :
       {ByAutogradFunction(batch.rows, batch.labels, options), ByTorchOps(batch.rows, batch.labels, options)}) {
    CHECK(got.value == Approx(factor * unscaled.value).epsilon(1e-12));
    CHECK(RelativeGradientError(got.gradient, factor * unscaled.gradient) <= 1e-12);
  }
  const auto [value, gradient] = train::TiledSupConLossAndGradient(batch.rows, batch.labels, options, false);
  CHECK(value.item<double>() == Approx(factor * unscaled.value).epsilon(1e-12));
  CHECK_FALSE(gradient.defined());
  options.base_temperature = 0.0;
  CHECK_THROWS_WITH(train::TiledSupConLoss(batch.rows, batch.labels, options),
                    Catch::Contains("expected base_temperature > 0"));
}

TEST_CASE("TiledSupConLoss: classes of one sample give 0 with a zero gradient, also for a batch of one") {
  for (const std::int64_t size : {1, 3, 130}) {
    CAPTURE(size);
    const Batch batch = TestBatch(torch::arange(size, torch::kLong));
    const train::TiledSupConOptions options = OptionsOfEveryReduction()[0];
    for (const ValueAndGradient& result :
         {ByAutogradFunction(batch.rows, batch.labels, options), ByTorchOps(batch.rows, batch.labels, options)}) {
      CHECK(result.value == 0.0);
      CHECK(result.gradient.abs().max().item<double>() == 0.0);
    }
  }
}

TEST_CASE("TiledSupConLoss: backward scales by the incoming gradient, without grad mode no graph is built") {
  const Batch batch = TestBatch(CyclicLabels(100));
  const train::TiledSupConOptions options = OptionsOfEveryReduction()[1];
  const ValueAndGradient once = ByAutogradFunction(batch.rows, batch.labels, options);
  const ValueAndGradient thrice = Differentiate(
      batch.rows, [&](const torch::Tensor& z) { return 3.0 * train::TiledSupConLoss(z, batch.labels, options); });
  CHECK(RelativeGradientError(thrice.gradient, 3.0 * once.gradient) <= 1e-15);
  torch::NoGradGuard no_grad;
  const torch::Tensor value = train::TiledSupConLoss(batch.rows.clone().requires_grad_(true), batch.labels, options);
  CHECK_FALSE(value.requires_grad());
  CHECK(value.item<double>() == Approx(once.value).epsilon(1e-15));
}

TEST_CASE("LossHead: supcon runs dense or tiled as asked, auto switching at the memory budget, same loss") {
  train::LossOptions options;
  options.kind = train::LossKind::kSupCon;
  options.dim = 16;
  const Batch batch = TestBatch(CyclicLabels(300));
  const torch::Tensor rows = batch.rows.to(torch::kFloat);
  struct Case {
    train::SupConAlgorithm algorithm;
    double budget;
    bool tiled;
  };
  // 300^2 * 18 bytes = 1.6 MB of dense matrices: over a 1 MB budget, within 1 GB; B = 300 < 2,048.
  std::vector<double> values;
  for (const Case& c : {Case{train::SupConAlgorithm::kDense, 1e6, false},
                        Case{train::SupConAlgorithm::kTiled, 1e9, true},
                        Case{train::SupConAlgorithm::kAuto, 1e6, true},
                        Case{train::SupConAlgorithm::kAuto, 1e9, false}}) {
    options.supcon_algorithm = c.algorithm;
    options.supcon_memory_budget_bytes = c.budget;
    train::LossHead head(options);
    const ValueAndGradient result =
        Differentiate(rows, [&](const torch::Tensor& z) { return head->forward(z, batch.labels); });
    values.push_back(result.value);
    // The tiled function's node in the graph tells which path ran.
    const torch::Tensor z = rows.clone().requires_grad_(true);
    const std::string node = head->forward(z, batch.labels).grad_fn()->name();
    CAPTURE(train::ToString(c.algorithm), c.budget, node);
    CHECK((node.find("TiledSupConFunction") != std::string::npos) == c.tiled);
  }
  CHECK(values[1] == Approx(values[0]).epsilon(1e-5));
  CHECK(values[2] == values[1]);
  CHECK(values[3] == values[0]);
  CHECK(train::DenseSupConBytes(300, torch::kFloat) == 300.0 * 300.0 * 18.0);
}

TEST_CASE("TiledSupConLoss: bad input is refused with a message naming it") {
  const Batch batch = TestBatch(CyclicLabels(20));
  const train::TiledSupConOptions options;
  torch::Tensor nan_rows = batch.rows.clone();
  nan_rows[3][2] = std::numeric_limits<double>::quiet_NaN();
  REQUIRE_THROWS_MATCHES(train::TiledSupConLoss(nan_rows, batch.labels, options),
                         std::invalid_argument,
                         MessageContains("expected finite representations"));
  torch::Tensor negative = batch.labels.clone();
  negative[0] = -1;
  REQUIRE_THROWS_MATCHES(
      train::TiledSupConLoss(batch.rows, negative, options), std::invalid_argument, MessageContains("labels >= 0"));
  REQUIRE_THROWS_MATCHES(train::TiledSupConLoss(batch.rows, batch.labels.narrow(0, 0, 19), options),
                         std::invalid_argument,
                         MessageContains("expected 20 int64 labels, got 19"));
  REQUIRE_THROWS_MATCHES(train::TiledSupConLoss(batch.rows.to(torch::kLong), batch.labels, options),
                         std::invalid_argument,
                         MessageContains("floating representations"));
  train::TiledSupConOptions no_memory;
  no_memory.memory_budget_bytes = 0.0;
  REQUIRE_THROWS_MATCHES(train::TiledSupConLoss(batch.rows, batch.labels, no_memory),
                         std::invalid_argument,
                         MessageContains("memory_budget_bytes > 0"));
  REQUIRE_THROWS_MATCHES(
      train::ParseSupConAlgorithm("fast"), std::invalid_argument, MessageContains("auto, dense or tiled, got 'fast'"));
  CHECK(train::ParseSupConAlgorithm("tiled") == train::SupConAlgorithm::kTiled);
}
