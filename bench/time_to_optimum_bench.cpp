// Time to a certified optimum: SC over free points, K = 10, n = 100, h = 64, tau = 0.1, full batch, until the
// relative gap to the simplex value is below 1e-9. dissect (Ceres LBFGS) against PyTorch's torch.optim.LBFGS
// (strong Wolfe, points normalized onto the sphere) and projected gradient descent given the same time as dissect.
// Each minimizer runs --repeats times from the same start, alternately, and the medians are compared. The floor: one
// evaluation of the SC loss and its gradient at this size, timed alone, against the time of a whole run.
// Target (issue 22 "Speed on every machine"): at least 10x faster than torch.optim.LBFGS, on every machine kind.
//   time_to_optimum_bench [--threads 2] [--time-limit 120] [--repeats 3]

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <dissect/optim/minimize.hpp>
#include <dissect/theory/supcon_loss.hpp>
#include <random>
#include <string>
#include <vector>

#include "bench_support.hpp"

namespace {

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// One evaluation of the SC loss and its gradient at the benchmark's size (points on the sphere of radius rho), the
// median of 20 after a warm-up.
double OneEvaluation(const dissect::optim::MinimizeOptions& options) {
  const int n = options.num_classes * options.per_class;
  std::mt19937_64 engine(1);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd points(options.dim, n);
  for (Eigen::Index i = 0; i < points.size(); ++i) points.data()[i] = normal(engine);
  points.colwise().normalize();
  points *= options.temperature.radius();
  Eigen::VectorXi labels(n);
  for (int i = 0; i < n; ++i) labels[i] = i / options.per_class;
  std::vector<double> times;
  for (int r = 0; r <= 20; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const auto result = dissect::theory::SupConLoss(points, labels, dissect::theory::SupConOptions{}, true);
    if (r > 0 && std::isfinite(result.value)) times.push_back(dissect::bench::Seconds(start));
  }
  return Median(times);
}

}  // namespace

int main(int argc, char** argv) {
  double threads_flag = 2, time_limit = 120.0, repeats_flag = 3;
  if (!dissect::bench::ParseFlags(
          argc, argv, {{"--threads", &threads_flag}, {"--time-limit", &time_limit}, {"--repeats", &repeats_flag}})) {
    return 2;
  }
  const int threads = static_cast<int>(threads_flag);
  const int repeats = std::max(1, static_cast<int>(repeats_flag));
  dissect::bench::ConfigureProcess(threads);
  constexpr double kGap = 1e-9;
  dissect::optim::MinimizeOptions options;
  options.loss = dissect::optim::LossKind::kSupCon;
  options.mode = dissect::optim::Mode::kFull;
  options.num_classes = 10;
  options.per_class = 100;
  options.dim = 64;
  options.temperature = dissect::theory::Temperature::FromTemperature(0.1);
  options.seed = 1;
  options.relative_gap_tolerance = kGap;
  options.certificate = false;

  std::fprintf(stderr, "one SC evaluation...\n");
  const double evaluation = OneEvaluation(options);
  const std::string script = std::string(DISSECT_BENCH_DIR) + "/baselines/supcon_torch.py";
  std::vector<double> ours_times, lbfgs_times;
  dissect::optim::MinimizeResult ours;
  nlohmann::json lbfgs;
  for (int r = 0; r < repeats; ++r) {
    std::fprintf(stderr, "[%d/%d] dissect: minimizing...\n", r + 1, repeats);
    ours = dissect::optim::Minimize(options);
    ours_times.push_back(ours.seconds);
    std::fprintf(stderr, "[%d/%d] PyTorch LBFGS: minimizing (up to %g s)...\n", r + 1, repeats, time_limit);
    lbfgs = dissect::bench::RunJsonCommand(fmt::format(
        "/usr/bin/python3 '{}' optimum --classes 10 --per-class 100 --dim 64 --temperature 0.1 --threads {} "
        "--bound {:.17g} --gap {} --method lbfgs --time-limit {}",
        script,
        threads,
        ours.bound,
        kGap,
        time_limit));
    lbfgs_times.push_back(lbfgs["seconds"].get<double>());
  }
  const double ours_seconds = Median(ours_times), lbfgs_seconds = Median(lbfgs_times);
  std::fprintf(stderr, "PyTorch projected gradient descent: %.2f s...\n", ours_seconds);
  const auto pgd = dissect::bench::RunJsonCommand(
      fmt::format("/usr/bin/python3 '{}' optimum --classes 10 --per-class 100 --dim 64 --temperature 0.1 --threads {} "
                  "--bound {:.17g} --gap {} --method pgd --time-limit {:.6f}",
                  script,
                  threads,
                  ours.bound,
                  kGap,
                  ours_seconds));

  std::printf("CPU: %s; the SC kernel's exponentials: %s\n",
              dissect::bench::CpuDescription().c_str(),
              dissect::theory::SupConKernelInstructionSet());
  std::printf(
      "SC over free points, K = 10, n = 100, h = 64, tau = 0.1, full batch, %d threads; target relative gap %g "
      "(median of %d runs each)\n",
      threads,
      kGap,
      repeats);
  std::printf("  dissect (Ceres LBFGS)       %8.3f s   relative gap %.3g   %s, %d iterations\n",
              ours_seconds,
              ours.rel_gap,
              ours.converged ? "reached" : "NOT reached",
              ours.iterations);
  std::printf("  torch.optim.LBFGS           %8.3f s   relative gap %.3g   %s, %d evaluations\n",
              lbfgs_seconds,
              lbfgs["rel_gap"].get<double>(),
              lbfgs["reached"].get<bool>() ? "reached" : "NOT reached (time limit)",
              lbfgs["evaluations"].get<int>());
  std::printf("  projected gradient descent  %8.3f s   relative gap %.3g   (%d steps in dissect's time)\n",
              pgd["seconds"].get<double>(),
              pgd["rel_gap"].get<double>(),
              pgd["steps"].get<int>());
  std::printf(
      "  one SC loss + gradient (b = 1000)  %.2f ms: dissect's run takes %.0f of them, torch.optim.LBFGS's %.0f\n",
      evaluation * 1e3,
      ours_seconds / evaluation,
      lbfgs_seconds / evaluation);
  const double ratio = lbfgs_seconds / ours_seconds;
  std::printf("ratio torch.optim.LBFGS / dissect: %.1fx%s (target >= 10x: %s)\n",
              ratio,
              lbfgs["reached"].get<bool>() ? "" : " (a lower bound: LBFGS did not reach the gap)",
              ratio >= 10.0 ? "met" : "NOT met");
  return ours.converged ? 0 : 1;
}
