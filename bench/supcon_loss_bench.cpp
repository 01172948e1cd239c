// SC loss and gradient, N = 4096, h = 128, float64: dissect against a PyTorch autograd implementation of the same
// loss (run side by side as a child process on the same thread count and the same points), and as a fraction of a
// DGEMM measured in the same run. Targets (issue 22 "Speed on every machine"): at least 5x faster than PyTorch and
// at least 60% of the machine's DGEMM rate, with the default portable build. The floor analysis times the kernel's
// parts on their own, on the same tiles: its three GEMMs (the similarities Z^T Z_tile and the gradient's Z A_tile and
// Z_tile A_tile^T, through the same BLAS), its exponential pass (every entry of the similarity matrix once, through
// the kernel's own vector exponential), and leaves the rest (column maxima, the positives, scaling, threads).
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
#include "vector_exp.hpp"  // private to theory: the kernel's exponential, timed alone for the floor analysis

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

// The kernel's three GEMMs alone, tile by tile as theory::SupConLoss issues them (theory/src/supcon_loss.cpp).
double GemmsAlone(const Eigen::MatrixXd& z, Eigen::Index tile, int repeats) {
  const int h = static_cast<int>(z.rows()), b = static_cast<int>(z.cols());
  Eigen::MatrixXd sim(b, tile), gradient = Eigen::MatrixXd::Zero(h, b);
  const double alpha = 10.0, one = 1.0, zero = 0.0;
  std::vector<double> times;
  for (int r = 0; r <= repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (int first = 0; first < b; first += static_cast<int>(tile)) {
      const int w = std::min(static_cast<int>(tile), b - first);
      const double* z_tile = z.data() + static_cast<Eigen::Index>(first) * h;
      dgemm_("T", "N", &b, &w, &h, &alpha, z.data(), &h, z_tile, &h, &zero, sim.data(), &b, 1, 1);
      dgemm_("N",
             "N",
             &h,
             &w,
             &b,
             &one,
             z.data(),
             &h,
             sim.data(),
             &b,
             &one,
             gradient.data() + static_cast<Eigen::Index>(first) * h,
             &h,
             1,
             1);
      dgemm_("N", "T", &h, &b, &w, &one, z_tile, &h, sim.data(), &b, &one, gradient.data(), &h, 1, 1);
    }
    if (r > 0) times.push_back(Seconds(start));
  }
  return Median(times);
}

// The kernel's exponential pass alone: exp(x - shift) over every entry of the b x b similarity matrix, tile by tile,
// a column per call and the columns over the threads, as the kernel runs it. The tile is filled once with values in
// [-1, 0] and the pass maps [0, 1] to itself (exp(x - 1)); the vector exponential's cost does not depend on x.
double ExponentialsAlone(Eigen::Index b, Eigen::Index tile, int repeats) {
  using namespace dissect::theory::detail;
  const InstructionSet isa = DetectedInstructionSet();
  Eigen::MatrixXd sim = 0.5 * (Eigen::MatrixXd::Random(b, tile).array() + 1.0);
  std::vector<double> times;
  double checksum = 0.0;
  for (int r = 0; r <= repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (Eigen::Index first = 0; first < b; first += tile) {
      const Eigen::Index w = std::min(tile, b - first);
#pragma omp parallel for schedule(static) reduction(+ : checksum)
      for (Eigen::Index j = 0; j < w; ++j) checksum += ExpShiftedSum(isa, sim.col(j).data(), b, 1.0);
    }
    if (r > 0) times.push_back(Seconds(start));
  }
  if (!(checksum > 0.0)) std::fprintf(stderr, "warning: exponentials checksum %g\n", checksum);
  return Median(times);
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
  const Eigen::Index tile = options.TileColumns(num_points, 8, dim);
  std::fprintf(stderr, "measuring the kernel's GEMMs and exponentials alone...\n");
  const double gemms = GemmsAlone(points, tile, repeats);
  const double exponentials = ExponentialsAlone(num_points, tile, repeats);

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

  const double fraction = ours_gflops / dgemm_gflops;
  const double gemm_fraction = flops / gemms / 1e9 / dgemm_gflops;
  const double speedup = torch_seconds / ours;
  std::printf("CPU: %s; the kernel's exponentials: %s (picked at run time; portable build)\n",
              dissect::bench::CpuDescription().c_str(),
              dissect::theory::SupConKernelInstructionSet());
  std::printf(
      "SC loss + gradient, N = %d, h = %d, float64, tau = %g, %d threads, tiles of %ld anchors (median of %d)\n",
      num_points,
      dim,
      temperature,
      threads,
      static_cast<long>(tile),
      repeats);
  std::printf("  dissect                 %10.4f s   %7.1f GFLOP/s   value %.15g\n", ours, ours_gflops, value);
  std::printf("    its 3 GEMMs alone     %10.4f s   %7.1f GFLOP/s   %3.0f%% of dissect's time\n",
              gemms,
              flops / gemms / 1e9,
              100.0 * gemms / ours);
  std::printf("    its exponentials alone %9.4f s   %7.2f ns/entry  %3.0f%%\n",
              exponentials,
              exponentials * threads / (static_cast<double>(num_points) * num_points) * 1e9,
              100.0 * exponentials / ours);
  std::printf(
      "    the rest              %10.4f s                     %3.0f%%   (maxima, positives, scaling, threads)\n",
      ours - gemms - exponentials,
      100.0 * (ours - gemms - exponentials) / ours);
  std::printf("  PyTorch autograd        %10.4f s                     value %.15g (relative difference %.2g)\n",
              torch_seconds,
              torch_value,
              agreement);
  std::printf("  DGEMM (2048^3)                        %7.1f GFLOP/s\n", dgemm_gflops);
  std::printf("ratio PyTorch / dissect:  %.2fx   (target >= 5x: %s)\n", speedup, speedup >= 5.0 ? "met" : "NOT met");
  std::printf("fraction of DGEMM rate:   %.0f%%    (target >= 60%%: %s; the GEMMs alone reach %.0f%%)\n",
              100.0 * fraction,
              fraction >= 0.6 ? "met" : "NOT met",
              100.0 * gemm_fraction);
  return agreement < 1e-10 ? 0 : 1;
}
