// SC loss and gradient, N = 4096, h = 128, float64: dissect against a PyTorch autograd implementation of the same
// loss (run side by side as a child process on the same thread count and the same points), and as a fraction of a
// DGEMM measured in the same run. Targets (issue "Free-point minimization"): at least 5x faster than PyTorch, at
// least 40% of the DGEMM rate.
//   supcon_loss_bench [--num-points 4096] [--dim 128] [--threads 2] [--repeats 5]

#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cstdio>
#include <dissect/theory/npy.hpp>
#include <dissect/theory/supcon_loss.hpp>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench_support.hpp"

extern "C" void dgemm_(const char*,
                       const char*,
                       const int*,
                       const int*,
                       const int*,
                       const double*,
                       const double*,
                       const int*,
                       const double*,
                       const int*,
                       const double*,
                       double*,
                       const int*,
                       std::size_t,
                       std::size_t);

namespace {

using dissect::bench::Seconds;

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double DgemmGflops(int repeats) {
  const int n = 2048;
  const Eigen::MatrixXd a = Eigen::MatrixXd::Random(n, n);
  const Eigen::MatrixXd b = Eigen::MatrixXd::Random(n, n);
  Eigen::MatrixXd c(n, n);
  const double one = 1.0, zero = 0.0;
  std::vector<double> times;
  for (int r = 0; r <= repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    dgemm_("N", "N", &n, &n, &n, &one, a.data(), &n, b.data(), &n, &zero, c.data(), &n, 1, 1);
    if (r > 0) times.push_back(Seconds(start));  // the first run warms up
  }
  return 2.0 * n * n * static_cast<double>(n) / Median(times) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  double num_points_flag = 4096, dim_flag = 128, threads_flag = 2, repeats_flag = 5;
  if (!dissect::bench::ParseFlags(argc,
                                  argv,
                                  {{"--num-points", &num_points_flag},
                                   {"--dim", &dim_flag},
                                   {"--threads", &threads_flag},
                                   {"--repeats", &repeats_flag}})) {
    return 2;
  }
  const int num_points = static_cast<int>(num_points_flag), dim = static_cast<int>(dim_flag);
  const int threads = static_cast<int>(threads_flag), repeats = static_cast<int>(repeats_flag);
  dissect::bench::ConfigureProcess(threads);
  const double temperature = 0.1;
  std::mt19937_64 engine(1);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd points(dim, num_points);
  for (Eigen::Index i = 0; i < points.size(); ++i) points.data()[i] = normal(engine);
  points.colwise().normalize();
  Eigen::VectorXi labels(num_points);
  for (int i = 0; i < num_points; ++i) labels[i] = i % 10;

  std::fprintf(stderr, "measuring DGEMM...\n");
  const double dgemm_gflops = DgemmGflops(repeats);

  std::fprintf(stderr, "measuring dissect's SC loss and gradient...\n");
  dissect::theory::SupConOptions options;
  options.temperature = dissect::theory::Temperature::FromTemperature(temperature);
  std::vector<double> times;
  double value = 0.0;
  for (int r = 0; r <= repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const auto result = dissect::theory::SupConLoss(points, labels, options, /*with_gradient=*/true);
    if (r > 0) times.push_back(Seconds(start));
    value = result.value;
  }
  const double ours = Median(times);
  // The Gram matrix and the two products of the gradient: 3 GEMMs of 2 b^2 h flops.
  const double flops = 3.0 * 2.0 * static_cast<double>(num_points) * num_points * dim;
  const double ours_gflops = flops / ours / 1e9;

  std::fprintf(stderr, "measuring PyTorch autograd on the same points...\n");
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / fmt::format("dissect_bench_{}", ::getpid());
  std::filesystem::create_directories(dir);
  dissect::theory::WriteNpyPoints(dir / "z.npy", points);
  dissect::theory::WriteNpyLabels(dir / "y.npy", labels);
  const std::string script = std::string(DISSECT_BENCH_DIR) + "/baselines/supcon_torch.py";
  const auto torch = dissect::bench::RunJsonCommand(
      fmt::format("/usr/bin/python3 '{}' loss --threads {} --repeats {} --temperature {} --points-file '{}' "
                  "--labels-file '{}'",
                  script,
                  threads,
                  repeats,
                  temperature,
                  (dir / "z.npy").string(),
                  (dir / "y.npy").string()));
  std::filesystem::remove_all(dir);
  const double torch_seconds = torch["seconds"].get<double>();
  const double torch_value = torch["value"].get<double>();
  const double agreement = std::abs(value - torch_value) / std::abs(torch_value);

  std::printf("SC loss + gradient, N = %d, h = %d, float64, tau = %g, %d threads (median of %d)\n",
              num_points,
              dim,
              temperature,
              threads,
              repeats);
  std::printf("  dissect                 %10.4f s   %7.1f GFLOP/s   value %.15g\n", ours, ours_gflops, value);
  std::printf("  PyTorch autograd        %10.4f s                     value %.15g (relative difference %.2g)\n",
              torch_seconds,
              torch_value,
              agreement);
  std::printf("  DGEMM (2048^3)                        %7.1f GFLOP/s\n", dgemm_gflops);
  const double speedup = torch_seconds / ours;
  const double fraction = ours_gflops / dgemm_gflops;
  std::printf("ratio PyTorch / dissect:  %.2fx   (target >= 5x: %s)\n", speedup, speedup >= 5.0 ? "met" : "NOT met");
  std::printf("fraction of DGEMM rate:   %.0f%%    (target >= 40%%: %s)\n",
              100.0 * fraction,
              fraction >= 0.4 ? "met" : "NOT met");
  return agreement < 1e-10 ? 0 : 1;
}
