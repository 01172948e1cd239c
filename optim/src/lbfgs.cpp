// The one file of optim that includes Ceres (docs/development.md: Ceres stays private).
#include "dissect/optim/lbfgs.hpp"

#include <ceres/ceres.h>

#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <dissect/theory/check.hpp>
#include <dissect/theory/scoped_assignment.hpp>
#include <exception>

namespace dissect::optim {
namespace {

// No exception crosses Ceres: the adapter stores the first one and reports failure; MinimizeLbfgs rethrows it.
class FirstOrderAdapter : public ceres::FirstOrderFunction {
 public:
  FirstOrderAdapter(const Objective& objective, std::exception_ptr* error) : objective_(objective), error_(error) {}

  bool Evaluate(const double* parameters, double* cost, double* gradient) const override {
    try {
      const Eigen::Map<const Eigen::VectorXd> x(parameters, objective_.NumParameters());
      if (gradient == nullptr) {
        *cost = objective_.Evaluate(x, nullptr);
      } else {
        *cost = objective_.Evaluate(x, &gradient_);
        Eigen::Map<Eigen::VectorXd>(gradient, gradient_.size()) = gradient_;
      }
      return std::isfinite(*cost);
    } catch (...) {
      if (!*error_) *error_ = std::current_exception();
      return false;
    }
  }
  int NumParameters() const override { return static_cast<int>(objective_.NumParameters()); }

 private:
  const Objective& objective_;
  std::exception_ptr* error_;
  mutable Eigen::VectorXd gradient_;
};

class ProgressAdapter : public ceres::IterationCallback {
 public:
  ProgressAdapter(const LbfgsOptions& options,
                  const double* parameters,
                  Eigen::Index size,
                  std::chrono::steady_clock::time_point start,
                  LbfgsSummary* summary,
                  std::exception_ptr* error)
      : options_(options), parameters_(parameters), size_(size), start_(start), summary_(summary), error_(error) {}

  int last_reported() const { return last_reported_; }

  ceres::CallbackReturnType operator()(const ceres::IterationSummary& iteration) override {
    try {
      IterationInfo info;
      info.iteration = iteration.iteration;
      info.loss = iteration.cost;
      info.step_size = iteration.step_size;
      info.grad_norm = options_.stationarity
                           ? options_.stationarity(Eigen::Map<const Eigen::VectorXd>(parameters_, size_))
                           : iteration.gradient_norm;
      info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      summary_->grad_norm = info.grad_norm;
      summary_->iterations = iteration.iteration;
      last_reported_ = iteration.iteration;
      if (options_.callback && options_.callback(info)) {
        summary_->cancelled = true;
        return ceres::SOLVER_ABORT;
      }
      if (info.grad_norm <= options_.gradient_tolerance) {
        summary_->converged = true;
        return ceres::SOLVER_TERMINATE_SUCCESSFULLY;
      }
      return ceres::SOLVER_CONTINUE;
    } catch (...) {
      if (!*error_) *error_ = std::current_exception();
      return ceres::SOLVER_ABORT;
    }
  }

 private:
  const LbfgsOptions& options_;
  const double* parameters_;
  Eigen::Index size_;
  std::chrono::steady_clock::time_point start_;
  LbfgsSummary* summary_;
  std::exception_ptr* error_;
  int last_reported_ = -1;
};

}  // namespace

void LbfgsOptions::Validate() const {
  constexpr const char* kFunction = "LbfgsOptions::Validate";
  theory::RequireAtLeast(kFunction, "max_iterations", max_iterations, 0);
  theory::RequireAtLeast(kFunction, "memory", memory, 1);
  if (!(gradient_tolerance >= 0.0)) {
    theory::ThrowInvalidArgument(kFunction,
                                 fmt::format("expected gradient_tolerance >= 0, got {}", gradient_tolerance));
  }
  if (!(precision_floor_tolerance >= 0.0)) {
    theory::ThrowInvalidArgument(
        kFunction, fmt::format("expected precision_floor_tolerance >= 0, got {}", precision_floor_tolerance));
  }
}

LbfgsSummary MinimizeLbfgs(const Objective& objective, Eigen::VectorXd* x, const LbfgsOptions& options) {
  options.Validate();
  if (x == nullptr || x->size() != objective.NumParameters()) {
    theory::ThrowInvalidArgument(
        "MinimizeLbfgs",
        fmt::format("expected a start of length {}, got {}", objective.NumParameters(), x == nullptr ? 0 : x->size()));
  }
  const auto start = std::chrono::steady_clock::now();
  std::exception_ptr error;
  LbfgsSummary summary;
  ProgressAdapter progress(options, x->data(), x->size(), start, &summary, &error);

  ceres::GradientProblem problem(new FirstOrderAdapter(objective, &error));  // takes ownership
  ceres::GradientProblemSolver::Options solver_options;
  solver_options.line_search_direction_type = ceres::LBFGS;
  solver_options.max_lbfgs_rank = options.memory;
  solver_options.max_num_iterations = options.max_iterations;
  // Our stationarity test decides convergence; Ceres' own tests only stop where no progress is possible.
  solver_options.gradient_tolerance = 0.0;
  solver_options.function_tolerance = 1e-16;
  solver_options.parameter_tolerance = 1e-16;
  solver_options.logging_type = ceres::SILENT;
  solver_options.minimizer_progress_to_stdout = false;
  solver_options.update_state_every_iteration = true;
  // Scales the initial inverse Hessian by the curvature seen: essential when within-class and between-class
  // curvatures differ by orders of magnitude (SC at small tau).
  solver_options.use_approximate_eigenvalue_bfgs_scaling = true;
  solver_options.callbacks.push_back(&progress);

  ceres::GradientProblemSolver::Summary ceres_summary;
  {
    // Library code never prints: Ceres' glog warnings (line-search diagnostics) are silenced during the solve.
    const theory::ScopedAssignment<int> quiet(FLAGS_minloglevel, std::max(FLAGS_minloglevel, google::GLOG_ERROR));
    ceres::Solve(solver_options, problem, x->data(), &ceres_summary);
  }
  if (error) std::rethrow_exception(error);

  // The returned point is measured afresh: Ceres leaves final_cost unset when a callback stops it, and does not call
  // the callbacks for the iterate at which its own tolerances stop it.
  summary.iterations = std::max(0, static_cast<int>(ceres_summary.iterations.size()) - 1);
  summary.final_loss = objective.Evaluate(*x, nullptr);
  if (options.stationarity) {
    summary.grad_norm = options.stationarity(*x);
  } else {
    Eigen::VectorXd gradient;
    objective.Evaluate(*x, &gradient);
    summary.grad_norm = gradient.norm();
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!summary.cancelled && progress.last_reported() < summary.iterations && options.callback) {
    IterationInfo info;
    info.iteration = summary.iterations;
    info.loss = summary.final_loss;
    info.grad_norm = summary.grad_norm;
    info.step_size = ceres_summary.iterations.empty() ? 0.0 : ceres_summary.iterations.back().step_size;
    info.seconds = summary.seconds;
    options.callback(info);  // the final iterate, for the trace; the solver has already stopped
  }
  if (!summary.cancelled && summary.grad_norm <= options.gradient_tolerance) summary.converged = true;
  // Ceres stops on its function or parameter tolerance when no step changes the loss any more: the precision floor.
  const bool stalled = ceres_summary.termination_type == ceres::CONVERGENCE;
  const double floor = options.precision_floor_tolerance * std::max(1.0, std::abs(summary.final_loss));
  if (summary.cancelled) {
    summary.message = "cancelled by the callback";
  } else if (summary.converged) {
    summary.message =
        fmt::format("converged: gradient norm {:.3g} <= {:.3g}", summary.grad_norm, options.gradient_tolerance);
  } else if (stalled && summary.grad_norm <= floor) {
    summary.converged = true;
    summary.message = fmt::format(
        "converged to the precision floor: no step changes the loss in double precision, "
        "gradient norm {:.3g} <= {:.3g} * max(1, |loss|)",
        summary.grad_norm,
        options.precision_floor_tolerance);
  } else {
    summary.message = fmt::format("not converged: {} (gradient norm {:.3g} > {:.3g})",
                                  ceres_summary.message,
                                  summary.grad_norm,
                                  options.gradient_tolerance);
  }
  return summary;
}

}  // namespace dissect::optim
