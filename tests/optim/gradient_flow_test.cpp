// Tests of dissect/optim/gradient_flow.hpp: projected gradient descent of free points (the paper's Figure 1) ends at
// the simplex for SC and CE, stays on the constraint sets along the way, and is reproducible from its seed.

#include "dissect/optim/gradient_flow.hpp"

#include <cmath>
#include <stdexcept>

#include "catch.hpp"
#include "test_support.hpp"

namespace dissect::optim {
namespace {

using test::MessageContains;

TEST_CASE("RunGradientFlow: SC and CE paths of 4 classes in R^3 end at the tetrahedron and its bound") {
  for (const LossKind loss : {LossKind::kSupCon, LossKind::kCrossEntropy}) {
    GradientFlowOptions options;
    options.loss = loss;
    const GradientFlowResult r = RunGradientFlow(options);
    INFO(ToString(loss));
    // Paper: CE bound (K = 4, rho = r = 1): log(1 + 3 exp(-4/3)); SC: one balanced batch of 20 at the simplex.
    if (loss == LossKind::kCrossEntropy)
      CHECK(r.bound == Approx(std::log(1 + 3 * std::exp(-4.0 / 3.0))).epsilon(1e-14));
    CHECK(std::abs(r.rel_gap) <= 1e-9);
    CHECK(r.max_gram_error <= 1e-5);
    CHECK(r.max_within_class_spread <= 1e-6);
    // A snapshot at the start, every 5 steps, and at the end; the start is far from the bound.
    REQUIRE(r.snapshots.size() == 201);
    CHECK(r.snapshots.front().iteration == 0);
    CHECK(r.snapshots.back().iteration == 1000);
    CHECK(r.snapshots.front().loss > r.bound * 1.1);
    CHECK(r.snapshots.back().loss == r.final_loss);
    // Along the path: SC points on the unit sphere, CE points and classifier rows inside the unit ball.
    for (const GradientFlowSnapshot& s : r.snapshots) {
      const Eigen::VectorXd norms = s.points.colwise().norm();
      if (loss == LossKind::kSupCon) {
        CHECK((norms.array() - 1.0).abs().maxCoeff() <= 1e-12);
      } else {
        CHECK(norms.maxCoeff() <= 1.0 + 1e-12);
        CHECK(s.weights.rowwise().norm().maxCoeff() <= 1.0 + 1e-12);
      }
    }
  }
}

TEST_CASE("RunGradientFlow: the same seed gives the same path, another seed another start") {
  GradientFlowOptions options;
  options.steps = 50;
  const GradientFlowResult a = RunGradientFlow(options), b = RunGradientFlow(options);
  options.seed = 7;
  const GradientFlowResult c = RunGradientFlow(options);
  CHECK(a.snapshots.back().points == b.snapshots.back().points);
  CHECK((a.snapshots.front().points - c.snapshots.front().points).norm() > 0.1);
}

TEST_CASE("RunGradientFlow: a path too short to arrive is reported as such, not as the simplex") {
  GradientFlowOptions options;
  options.loss = LossKind::kCrossEntropy;
  options.steps = 20;
  const GradientFlowResult r = RunGradientFlow(options);
  CHECK(r.rel_gap > 1e-3);
  CHECK(r.max_gram_error > 1e-3);
}

TEST_CASE("RunGradientFlow: bad options name the field") {
  GradientFlowOptions options;
  options.num_classes = 1;
  CHECK_THROWS_MATCHES(RunGradientFlow(options), std::invalid_argument, MessageContains("num_classes"));
  options = {};
  options.step_size = 0.0;
  CHECK_THROWS_MATCHES(RunGradientFlow(options), std::invalid_argument, MessageContains("step_size"));
  options = {};
  options.step_size = std::nan("");
  CHECK_THROWS_MATCHES(RunGradientFlow(options), std::invalid_argument, MessageContains("step_size"));
  options = {};
  options.record_every = 0;
  CHECK_THROWS_MATCHES(RunGradientFlow(options), std::invalid_argument, MessageContains("record_every"));
  options = {};
  options.loss = LossKind::kCrossEntropy;
  options.weight_norm = -1.0;
  CHECK_THROWS_MATCHES(RunGradientFlow(options), std::invalid_argument, MessageContains("weight_norm"));
}

}  // namespace
}  // namespace dissect::optim
