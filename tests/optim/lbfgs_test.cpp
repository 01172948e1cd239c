// Tests of dissect/optim/lbfgs.hpp: LBFGS over an Objective (Ceres behind a non-template function), on objectives
// with known minima written here, with progress, cancellation and exceptions crossing the solver.

#include "dissect/optim/lbfgs.hpp"

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"
#include "dissect/optim/objective.hpp"
#include "test_support.hpp"

namespace dissect::optim {
namespace {

using test::kGradientTolerance;
using test::kTightTolerance;
using test::MaxVectorGradientError;
using test::MessageContains;
using test::RandomGaussianPoints;
using test::RandomRotation;
using test::SameBits;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Distance of an LBFGS result to the known minimizer: the gradient tolerance over the smallest curvature, or the
// precision floor (1.5e-8 * max(1, |f|)) where no step changes the loss any more.
constexpr double kMinimizerTolerance = 1e-6;
// One stationarity measure evaluated at the same point agrees far better than this; the value of the previous
// iterate differed by more (a regression test below).
constexpr double kSameMeasureTolerance = 0.01;

// f(x) = 0.5 (x - m)^T A (x - m) + c with A = Q diag(1, ..., 10) Q^T: minimum c at m.
class QuadraticObjective : public Objective {
 public:
  QuadraticObjective(int dim, std::uint64_t seed, double minimum_value) : minimum_value_(minimum_value) {
    const Eigen::MatrixXd q = RandomRotation(dim, seed);
    const Eigen::VectorXd eigenvalues = Eigen::VectorXd::LinSpaced(dim, 1.0, 10.0);
    curvature_ = q * eigenvalues.asDiagonal() * q.transpose();
    minimizer_ = RandomGaussianPoints(dim, 1, seed + 1).col(0);
  }
  Eigen::Index NumParameters() const override { return minimizer_.size(); }
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& x, Eigen::VectorXd* gradient) const override {
    const Eigen::VectorXd delta = x - minimizer_;
    if (gradient != nullptr) *gradient = curvature_ * delta;
    return 0.5 * delta.dot(curvature_ * delta) + minimum_value_;
  }
  const Eigen::VectorXd& minimizer() const { return minimizer_; }
  double minimum_value() const { return minimum_value_; }

 private:
  Eigen::MatrixXd curvature_;
  Eigen::VectorXd minimizer_;
  double minimum_value_;
};

// The extended Rosenbrock function sum_i 100 (x_{2i+1} - x_{2i}^2)^2 + (1 - x_{2i})^2: minimum 0 at (1, ..., 1).
class RosenbrockObjective : public Objective {
 public:
  explicit RosenbrockObjective(int dim) : dim_(dim) {}
  Eigen::Index NumParameters() const override { return dim_; }
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& x, Eigen::VectorXd* gradient) const override {
    if (gradient != nullptr) gradient->setZero(dim_);
    double value = 0.0;
    for (int i = 0; i + 1 < dim_; i += 2) {
      const double valley = x[i + 1] - x[i] * x[i];
      const double offset = 1.0 - x[i];
      value += 100.0 * valley * valley + offset * offset;
      if (gradient != nullptr) {
        (*gradient)[i] = -400.0 * x[i] * valley - 2.0 * offset;
        (*gradient)[i + 1] = 200.0 * valley;
      }
    }
    return value;
  }

 private:
  int dim_;
};

// The classic start (-1.2, 1, -1.2, 1, ...).
Eigen::VectorXd RosenbrockStart(int dim) {
  Eigen::VectorXd x(dim);
  for (int i = 0; i < dim; ++i) x[i] = i % 2 == 0 ? -1.2 : 1.0;
  return x;
}

// Wraps an objective and throws std::domain_error at evaluation number `fail_at` (1-based).
class FailingObjective : public Objective {
 public:
  FailingObjective(const Objective& inner, int fail_at) : inner_(inner), fail_at_(fail_at) {}
  Eigen::Index NumParameters() const override { return inner_.NumParameters(); }
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& x, Eigen::VectorXd* gradient) const override {
    if (++evaluations_ == fail_at_)
      throw std::domain_error("objective failed at evaluation " + std::to_string(fail_at_));
    return inner_.Evaluate(x, gradient);
  }

 private:
  const Objective& inner_;
  int fail_at_;
  mutable int evaluations_ = 0;
};

// NaN everywhere: a numerical failure, not an error.
class NanObjective : public Objective {
 public:
  Eigen::Index NumParameters() const override { return 2; }
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>&, Eigen::VectorXd* gradient) const override {
    if (gradient != nullptr) *gradient = Eigen::VectorXd::Constant(2, kNaN);
    return kNaN;
  }
};

TEST_CASE("Test objectives: the quadratic and Rosenbrock gradients match central finite differences", "[lbfgs]") {
  const QuadraticObjective quadratic(6, 3, 2.5);
  const RosenbrockObjective rosenbrock(4);
  for (const Objective* objective :
       {static_cast<const Objective*>(&quadratic), static_cast<const Objective*>(&rosenbrock)}) {
    const Eigen::VectorXd x = RandomGaussianPoints(static_cast<int>(objective->NumParameters()), 1, 5).col(0);
    Eigen::VectorXd gradient;
    objective->Evaluate(x, &gradient);
    const auto value = [&](const Eigen::VectorXd& at) { return objective->Evaluate(at, nullptr); };
    REQUIRE(MaxVectorGradientError(value, x, gradient) < kGradientTolerance);
  }
}

TEST_CASE("MinimizeLbfgs: minimizes a convex quadratic to its known minimum", "[lbfgs]") {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    const QuadraticObjective objective(8, seed, 2.5);
    Eigen::VectorXd x = Eigen::VectorXd::Zero(8);
    const LbfgsSummary summary = MinimizeLbfgs(objective, &x, LbfgsOptions{});
    CAPTURE(summary.message);
    REQUIRE(summary.converged);
    REQUIRE_FALSE(summary.cancelled);
    REQUIRE(summary.iterations > 0);
    REQUIRE(summary.seconds >= 0.0);
    REQUIRE(summary.final_loss == Approx(objective.minimum_value()).epsilon(kTightTolerance));
    REQUIRE((x - objective.minimizer()).cwiseAbs().maxCoeff() == Approx(0.0).margin(kMinimizerTolerance));
    REQUIRE(summary.message.rfind("converged", 0) == 0);
  }
}

TEST_CASE("MinimizeLbfgs: minimizes the Rosenbrock function to (1, ..., 1) with value 0", "[lbfgs]") {
  for (const int dim : {2, 10}) {
    CAPTURE(dim);
    const RosenbrockObjective objective(dim);
    Eigen::VectorXd x = RosenbrockStart(dim);
    const LbfgsSummary summary = MinimizeLbfgs(objective, &x, LbfgsOptions{});
    CAPTURE(summary.message, summary.grad_norm, summary.iterations);
    REQUIRE(summary.converged);
    REQUIRE(summary.final_loss == Approx(0.0).margin(kTightTolerance));
    REQUIRE((x - Eigen::VectorXd::Ones(dim)).cwiseAbs().maxCoeff() == Approx(0.0).margin(kMinimizerTolerance));
  }
}

TEST_CASE("MinimizeLbfgs: LBFGS of rank 1 still minimizes the quadratic", "[lbfgs]") {
  const QuadraticObjective objective(5, 9, 0.0);
  Eigen::VectorXd x = Eigen::VectorXd::Ones(5);
  LbfgsOptions options;
  options.memory = 1;
  const LbfgsSummary summary = MinimizeLbfgs(objective, &x, options);
  CAPTURE(summary.message, summary.iterations, summary.grad_norm, summary.final_loss);
  REQUIRE(summary.converged);
  REQUIRE((x - objective.minimizer()).cwiseAbs().maxCoeff() == Approx(0.0).margin(kMinimizerTolerance));
}

TEST_CASE("MinimizeLbfgs: the callback sees iterations 0, 1, 2, ... with non-increasing losses", "[lbfgs]") {
  const RosenbrockObjective objective(2);
  Eigen::VectorXd x = RosenbrockStart(2);
  std::vector<IterationInfo> seen;
  LbfgsOptions options;
  options.callback = [&](const IterationInfo& info) {
    seen.push_back(info);
    return false;
  };
  const LbfgsSummary summary = MinimizeLbfgs(objective, &x, options);
  REQUIRE(summary.converged);
  REQUIRE(seen.size() >= 2);
  REQUIRE(seen.front().iteration == 0);
  REQUIRE(seen.front().loss == Approx(objective.Evaluate(RosenbrockStart(2), nullptr)).epsilon(kTightTolerance));
  for (std::size_t i = 1; i < seen.size(); ++i) {
    CAPTURE(i);
    REQUIRE(seen[i].iteration == seen[i - 1].iteration + 1);
    REQUIRE(seen[i].loss <= seen[i - 1].loss);
    REQUIRE(seen[i].seconds >= seen[i - 1].seconds);
  }
  REQUIRE(seen.back().iteration == summary.iterations);
  REQUIRE(seen.back().grad_norm == Approx(summary.grad_norm).epsilon(kTightTolerance));
  REQUIRE(seen.back().grad_norm <= options.gradient_tolerance);
}

// A run whose callback stops it at iteration `stop_at`, on the Rosenbrock function from the classic start.
struct CancelledRun {
  LbfgsSummary summary;
  Eigen::VectorXd x;
  int calls = 0;
};
CancelledRun CancelAt(int stop_at) {
  const RosenbrockObjective objective(2);
  CancelledRun run;
  run.x = RosenbrockStart(2);
  LbfgsOptions options;
  options.callback = [&](const IterationInfo& info) {
    ++run.calls;
    return info.iteration >= stop_at;
  };
  run.summary = MinimizeLbfgs(objective, &run.x, options);
  return run;
}

TEST_CASE("MinimizeLbfgs: a callback that returns true cancels the run", "[lbfgs]") {
  for (const int stop_at : {0, 3}) {
    CAPTURE(stop_at);
    const CancelledRun run = CancelAt(stop_at);
    REQUIRE(run.summary.cancelled);
    REQUIRE_FALSE(run.summary.converged);
    REQUIRE(run.summary.message == "cancelled by the callback");
    REQUIRE(run.calls == stop_at + 1);
    REQUIRE(run.summary.iterations == stop_at);
  }
  // Cancelled after some progress: x holds the last accepted iterate, below the start.
  const CancelledRun run = CancelAt(3);
  REQUIRE(RosenbrockObjective(2).Evaluate(run.x, nullptr) < 24.2);
}

// Regression test (optim/src/lbfgs.cpp:145, summary.final_loss = ceres_summary.final_cost): when the callback cancels
// the run (SOLVER_ABORT, Ceres' USER_FAILURE), Ceres' GradientProblemSolver does not fill final_cost and leaves its
// default -1, so final_loss is -1, a value the objective never took. Expected: the loss at the returned x (the start,
// 24.2, when cancelled at iteration 0; 4.12015... when cancelled at iteration 3).
TEST_CASE("MinimizeLbfgs: a cancelled run reports the loss at the returned parameters", "[lbfgs]") {
  for (const int stop_at : {0, 3}) {
    CAPTURE(stop_at);
    const CancelledRun run = CancelAt(stop_at);
    REQUIRE(run.summary.cancelled);
    if (stop_at == 0) REQUIRE(SameBits(run.x, RosenbrockStart(2)));
    REQUIRE(run.summary.final_loss == Approx(RosenbrockObjective(2).Evaluate(run.x, nullptr)).epsilon(kTightTolerance));
  }
}

// Regression test (optim/src/lbfgs.cpp, ProgressAdapter / MinimizeLbfgs): Ceres' line search minimizer checks its
// function and parameter tolerances after counting an iteration and before the callbacks of the next pass, so when it
// stops there (the precision-floor path) the last iteration never reaches the callback: the callback's last iteration
// is summary.iterations - 1, and summary.grad_norm, set only in the callback, is the stationarity at the previous
// iterate instead of at the returned x. Here (rank-1 LBFGS on a quadratic with minimum -1, which stops on Ceres'
// function tolerance) the callback sees iterations 0..29 of 30.
TEST_CASE("MinimizeLbfgs: when the loss stops changing, the last iterate is reported", "[lbfgs]") {
  const QuadraticObjective objective(5, 9, -1.0);
  Eigen::VectorXd x = Eigen::VectorXd::Ones(5);
  int last_seen = -1;
  LbfgsOptions options;
  options.memory = 1;
  options.callback = [&](const IterationInfo& info) {
    last_seen = info.iteration;
    return false;
  };
  const LbfgsSummary summary = MinimizeLbfgs(objective, &x, options);
  CAPTURE(summary.message, summary.iterations);
  Eigen::VectorXd gradient;
  objective.Evaluate(x, &gradient);
  CHECK(last_seen == summary.iterations);
  CHECK(summary.grad_norm == Approx(gradient.norm()).epsilon(kSameMeasureTolerance));
}

TEST_CASE("MinimizeLbfgs: the stationarity measure decides convergence and is reported as grad_norm", "[lbfgs]") {
  const QuadraticObjective objective(4, 21, 0.0);
  // The distance to the known minimizer as a custom stationarity measure.
  LbfgsOptions options;
  options.gradient_tolerance = 1e-6;
  options.stationarity = [&](const Eigen::Ref<const Eigen::VectorXd>& at) {
    return (at - objective.minimizer()).norm();
  };
  Eigen::VectorXd x = Eigen::VectorXd::Zero(4);
  const LbfgsSummary summary = MinimizeLbfgs(objective, &x, options);
  REQUIRE(summary.converged);
  REQUIRE(summary.grad_norm <= options.gradient_tolerance);
  REQUIRE(summary.grad_norm == Approx((x - objective.minimizer()).norm()).epsilon(kTightTolerance));
}

TEST_CASE("MinimizeLbfgs: running out of iterations is reported, not thrown", "[lbfgs]") {
  const RosenbrockObjective objective(2);
  Eigen::VectorXd x = RosenbrockStart(2);
  LbfgsOptions options;
  options.max_iterations = 3;
  const LbfgsSummary summary = MinimizeLbfgs(objective, &x, options);
  REQUIRE_FALSE(summary.converged);
  REQUIRE_FALSE(summary.cancelled);
  REQUIRE(summary.iterations <= 3);
  REQUIRE(summary.message.rfind("not converged", 0) == 0);
  REQUIRE(summary.final_loss == Approx(objective.Evaluate(x, nullptr)).epsilon(kTightTolerance));
}

TEST_CASE("MinimizeLbfgs: an objective that is NaN is reported as not converged, not thrown", "[lbfgs]") {
  const NanObjective objective;
  Eigen::VectorXd x = Eigen::VectorXd::Ones(2);
  LbfgsSummary summary;
  REQUIRE_NOTHROW(summary = MinimizeLbfgs(objective, &x, LbfgsOptions{}));
  CAPTURE(summary.message, summary.final_loss);
  REQUIRE_FALSE(summary.converged);
  REQUIRE(summary.message.rfind("not converged", 0) == 0);
}

// The same bug on a numerical failure (Ceres' FAILURE termination): final_loss is -1, not the NaN the objective
// returned.
TEST_CASE("MinimizeLbfgs: a run whose objective is NaN at the start reports a NaN final loss", "[lbfgs]") {
  const NanObjective objective;
  Eigen::VectorXd x = Eigen::VectorXd::Ones(2);
  const LbfgsSummary summary = MinimizeLbfgs(objective, &x, LbfgsOptions{});
  REQUIRE(std::isnan(summary.final_loss));
}

TEST_CASE("MinimizeLbfgs: an exception of the objective is rethrown with its type and message", "[lbfgs]") {
  const RosenbrockObjective inner(2);
  for (const int fail_at : {1, 2, 6}) {
    CAPTURE(fail_at);
    const FailingObjective objective(inner, fail_at);
    Eigen::VectorXd x = RosenbrockStart(2);
    REQUIRE_THROWS_MATCHES(MinimizeLbfgs(objective, &x, LbfgsOptions{}),
                           std::domain_error,
                           Catch::Message("objective failed at evaluation " + std::to_string(fail_at)));
  }
}

TEST_CASE("MinimizeLbfgs: an exception of the callback or the stationarity measure is rethrown", "[lbfgs]") {
  const RosenbrockObjective objective(2);
  Eigen::VectorXd x = RosenbrockStart(2);
  LbfgsOptions with_callback;
  with_callback.callback = [](const IterationInfo& info) -> bool {
    if (info.iteration == 2) throw std::runtime_error("callback failed at iteration 2");
    return false;
  };
  REQUIRE_THROWS_MATCHES(MinimizeLbfgs(objective, &x, with_callback),
                         std::runtime_error,
                         Catch::Message("callback failed at iteration 2"));
  LbfgsOptions with_stationarity;
  with_stationarity.stationarity = [](const Eigen::Ref<const Eigen::VectorXd>&) -> double {
    throw std::logic_error("stationarity failed");
  };
  x = RosenbrockStart(2);
  REQUIRE_THROWS_MATCHES(
      MinimizeLbfgs(objective, &x, with_stationarity), std::logic_error, Catch::Message("stationarity failed"));
}

TEST_CASE("LbfgsOptions: memory < 1, max_iterations < 0 and tolerances that are negative or NaN throw", "[lbfgs]") {
  REQUIRE_NOTHROW(LbfgsOptions{}.Validate());
  const auto with = [](auto change) {
    LbfgsOptions options;
    change(options);
    return options;
  };
  REQUIRE_THROWS_MATCHES(with([](LbfgsOptions& o) { o.memory = 0; }).Validate(),
                         std::invalid_argument,
                         Catch::Message("LbfgsOptions::Validate(): expected memory >= 1, got 0"));
  REQUIRE_THROWS_MATCHES(with([](LbfgsOptions& o) { o.max_iterations = -1; }).Validate(),
                         std::invalid_argument,
                         Catch::Message("LbfgsOptions::Validate(): expected max_iterations >= 0, got -1"));
  REQUIRE_THROWS_MATCHES(with([](LbfgsOptions& o) { o.gradient_tolerance = -1.0; }).Validate(),
                         std::invalid_argument,
                         Catch::Message("LbfgsOptions::Validate(): expected gradient_tolerance >= 0, got -1"));
  REQUIRE_THROWS_MATCHES(with([](LbfgsOptions& o) { o.gradient_tolerance = kNaN; }).Validate(),
                         std::invalid_argument,
                         Catch::Message("LbfgsOptions::Validate(): expected gradient_tolerance >= 0, got nan"));
  REQUIRE_THROWS_MATCHES(with([](LbfgsOptions& o) { o.precision_floor_tolerance = -0.5; }).Validate(),
                         std::invalid_argument,
                         Catch::Message("LbfgsOptions::Validate(): expected precision_floor_tolerance >= 0, got -0.5"));
  REQUIRE_THROWS_MATCHES(with([](LbfgsOptions& o) { o.precision_floor_tolerance = kNaN; }).Validate(),
                         std::invalid_argument,
                         MessageContains("expected precision_floor_tolerance >= 0, got nan"));
}

TEST_CASE("MinimizeLbfgs: validates its options and rejects a start of the wrong length", "[lbfgs]") {
  const QuadraticObjective objective(4, 1, 0.0);
  Eigen::VectorXd x = Eigen::VectorXd::Zero(4);
  LbfgsOptions bad;
  bad.memory = 0;
  REQUIRE_THROWS_MATCHES(MinimizeLbfgs(objective, &x, bad),
                         std::invalid_argument,
                         Catch::Message("LbfgsOptions::Validate(): expected memory >= 1, got 0"));
  Eigen::VectorXd short_start = Eigen::VectorXd::Zero(3);
  REQUIRE_THROWS_MATCHES(MinimizeLbfgs(objective, &short_start, LbfgsOptions{}),
                         std::invalid_argument,
                         Catch::Message("MinimizeLbfgs(): expected a start of length 4, got 3"));
  REQUIRE_THROWS_MATCHES(MinimizeLbfgs(objective, nullptr, LbfgsOptions{}),
                         std::invalid_argument,
                         Catch::Message("MinimizeLbfgs(): expected a start of length 4, got 0"));
}

}  // namespace
}  // namespace dissect::optim
