// The LibTorch losses against theory/ (float64): values, autograd gradients against the analytic ones, the
// reductions, the ce-fix simplex and the known answer of docs/theory.md.

#include <torch/torch.h>

#include "catch.hpp"
#include "dissect/theory/bounds.hpp"
#include "dissect/theory/cross_entropy_loss.hpp"
#include "dissect/theory/regular_simplex.hpp"
#include "dissect/theory/supcon_loss.hpp"
#include "dissect/train/losses.hpp"
#include "dissect/train/tensor_bridge.hpp"
#include "test_support.hpp"

namespace {

using dissect::test::kTightTolerance;
using dissect::test::MessageContains;
using dissect::test::RelativeError;
namespace theory = dissect::theory;
namespace train = dissect::train;

// dim x N Eigen points -> N x dim double tensor (a copy).
torch::Tensor Rows(const Eigen::MatrixXd& points) {
  return torch::from_blob(const_cast<double*>(points.data()), {points.cols(), points.rows()}, torch::kDouble).clone();
}

torch::Tensor LabelTensor(const Eigen::VectorXi& labels) {
  std::vector<std::int64_t> values(labels.data(), labels.data() + labels.size());
  return torch::tensor(values, torch::kLong);
}

double MaxAbsDifference(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) { return (a - b).cwiseAbs().maxCoeff(); }

}  // namespace

TEST_CASE("SupConLoss: the LibTorch value equals theory's in float64 for every reduction") {
  // Labels with a class of one sample (an anchor without positives) and a repeated class.
  const Eigen::MatrixXd points = dissect::test::RandomGaussianPoints(5, 12, 11);
  Eigen::VectorXi labels(12);
  labels << 0, 1, 2, 1, 0, 0, 3, 1, 2, 0, 1, 2;
  for (const double tau : {0.1, 0.5, 2.0}) {
    for (const auto reduction :
         {theory::SupConReduction::kSum, theory::SupConReduction::kBatchMean, theory::SupConReduction::kReference}) {
      theory::SupConOptions options;
      options.temperature = theory::Temperature::FromTemperature(tau);
      options.reduction = reduction;
      const double expected = theory::SupConLoss(points, labels, options, false).value;
      const double got =
          train::SupConLoss(Rows(points), LabelTensor(labels), options.temperature, reduction).item<double>();
      INFO("tau " << tau << " reduction " << theory::ToString(reduction));
      CHECK(RelativeError(got, expected) < kTightTolerance);
    }
  }
}

TEST_CASE("SupConLoss: the autograd gradient equals theory's analytic gradient") {
  const Eigen::MatrixXd points = dissect::test::RandomSpherePoints(4, 10, 1.0, 3);
  const Eigen::VectorXi labels = dissect::test::RandomLabels(10, 3, 5);
  theory::SupConOptions options;
  options.temperature = theory::Temperature::FromTemperature(0.2);
  options.reduction = theory::SupConReduction::kBatchMean;
  const theory::SupConResult expected = theory::SupConLoss(points, labels, options, true);
  torch::Tensor z = Rows(points).requires_grad_(true);
  train::SupConLoss(z, LabelTensor(labels), options.temperature, options.reduction).backward();
  CHECK(MaxAbsDifference(train::ToPoints(z.grad()), expected.gradient) < kTightTolerance);
}

TEST_CASE("SupConLoss: at a collapsed simplex the batch 5,4,0 of K=3, rho=1 has the value 13.597726095124795") {
  // docs/theory.md, "A single batch is NOT minimized by the simplex": the simplex value of the composition [5,4,0].
  const Eigen::MatrixXd vertices = theory::RegularSimplex(3, 3, 1.0, 17);
  Eigen::VectorXi labels(9);
  labels << 0, 0, 0, 0, 0, 1, 1, 1, 1;
  const Eigen::MatrixXd points = dissect::test::PointsAtVertices(vertices, labels);
  const double got =
      train::SupConLoss(
          Rows(points), LabelTensor(labels), theory::Temperature::FromRadius(1.0), theory::SupConReduction::kSum)
          .item<double>();
  CHECK(got == Approx(13.597726095124795).epsilon(kTightTolerance));
}

TEST_CASE("SupConLoss: sum and batch_mean differ exactly by the batch size") {
  const Eigen::MatrixXd points = dissect::test::RandomGaussianPoints(3, 16, 8);
  const torch::Tensor z = Rows(points);
  const torch::Tensor y = LabelTensor(dissect::test::RandomLabels(16, 4, 9));
  const auto tau = theory::Temperature::FromTemperature(0.3);
  const double sum = train::SupConLoss(z, y, tau, theory::SupConReduction::kSum).item<double>();
  const double mean = train::SupConLoss(z, y, tau, theory::SupConReduction::kBatchMean).item<double>();
  CHECK(RelativeError(sum, 16.0 * mean) < kTightTolerance);
}

TEST_CASE("CrossEntropyLoss: the LibTorch value and both gradients equal theory's in float64") {
  const Eigen::MatrixXd points = dissect::test::RandomGaussianPoints(6, 20, 21);
  const Eigen::VectorXi labels = dissect::test::RandomLabels(20, 4, 22);
  const Eigen::MatrixXd weights = dissect::test::RandomGaussianPoints(4, 6, 23);  // K x h
  const theory::CrossEntropyResult expected = theory::CrossEntropyLoss(points, labels, weights, true);
  torch::Tensor z = Rows(points).requires_grad_(true);
  // weights is K x h column-major: as a row-major tensor its transpose; Rows() gives h x K -> transpose back.
  torch::Tensor w = Rows(weights).t().contiguous().requires_grad_(true);
  const torch::Tensor loss = train::CrossEntropyLoss(z, LabelTensor(labels), w);
  loss.backward();
  CHECK(RelativeError(loss.item<double>(), expected.value) < kTightTolerance);
  CHECK(MaxAbsDifference(train::ToPoints(z.grad()), expected.points_gradient) < kTightTolerance);
  CHECK(MaxAbsDifference(train::ToPoints(w.grad()).transpose(), expected.weights_gradient) < kTightTolerance);
}

TEST_CASE("LossHead: ce-fix rows are a regular simplex of unit rows and are not trained") {
  train::LossOptions options;
  options.kind = train::LossKind::kCrossEntropyFixed;
  options.num_classes = 10;
  options.dim = 16;
  options.simplex_seed = 4;
  train::LossHead head(options);
  CHECK(head->parameters().empty());
  const Eigen::MatrixXd rows = train::ToPoints(head->classifier()).transpose();  // K x h
  const Eigen::MatrixXd gram = rows * rows.transpose();
  // The rows are stored in float32: the Gram matrix agrees to float precision.
  CHECK(MaxAbsDifference(gram, theory::SimplexGram(10, 1.0)) < 1e-6);
}

TEST_CASE("LossHead: ce-sphere and supcon see unit-norm representations, ce sees the features as they are") {
  const torch::Tensor features = torch::randn({7, 5}, torch::kDouble) * 3.0;
  for (const auto kind : {train::LossKind::kSupCon, train::LossKind::kCrossEntropySphere}) {
    train::LossOptions options;
    options.kind = kind;
    options.dim = 5;
    train::LossHead head(options);
    const torch::Tensor norms = head->Represent(features).norm(2, 1);
    CHECK(torch::allclose(norms, torch::ones_like(norms), 1e-14, 1e-14));
  }
  train::LossOptions ce;
  ce.dim = 5;
  CHECK(torch::equal(train::LossHead(ce)->Represent(features), features));
}

TEST_CASE("LossOptions and the losses refuse bad input with the reason") {
  train::LossOptions options;
  options.kind = train::LossKind::kCrossEntropyFixed;
  options.num_classes = 10;
  options.dim = 8;
  REQUIRE_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("needs h >= K-1"));
  options.kind = train::LossKind::kSupCon;
  options.temperature = -1.0;
  REQUIRE_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("temperature > 0"));
  options.temperature = 0.1;
  options.num_classes = 1;
  REQUIRE_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("num_classes"));
  REQUIRE_THROWS_MATCHES(
      train::ParseLossKind("sc"), std::invalid_argument, MessageContains("ce, ce-fix, ce-sphere or supcon"));
  const torch::Tensor z = torch::randn({4, 3}, torch::kDouble);
  REQUIRE_THROWS_MATCHES(
      train::SupConLoss(z, torch::zeros({3}, torch::kLong), theory::Temperature::FromTemperature(1.0)),
      std::invalid_argument,
      MessageContains("expected 4 labels, got 3"));
  REQUIRE_THROWS_MATCHES(
      train::CrossEntropyLoss(z, torch::zeros({4}, torch::kLong), torch::zeros({3, 2}, torch::kDouble)),
      std::invalid_argument,
      MessageContains("weights of shape K x 3"));
}
