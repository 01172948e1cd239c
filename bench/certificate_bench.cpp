// The matrix-free second-order certificate at scale (issue 22): time and peak memory of
// optim::CertifyLocalMinimumMatrixFree at the SC optimum, the collapsed regular simplex (docs/theory.md: equality in
// the SC bound exactly when each class collapses onto a vertex of a regular simplex of radius rho; h >= K-1, so no
// minimization is needed), against the number of points N. Rows of --full-per-class run the whole certificate;
// rows of --sample-points, where the whole would take too long, time its pieces: the set-up (a gradient, S = Z Z^T
// and its eigendecomposition), one Hessian-vector product (two gradients) and one orbit projection, so that the
// growth in N is visible. Every row runs in its own process; its peak memory is that process's VmHWM.
//   certificate_bench [--classes 1000] [--dim 1024] [--temperature 0.1] [--threads 2] [--full-per-class 2,5]
//                     [--sample-points 2000,5000,10000,20000,50000] [--max-iterations 600]
// N below 2K is skipped: with one point per class SC has no positives and is 0 everywhere.

#include <fmt/format.h>
#include <unistd.h>

#include <Eigen/Core>
#include <chrono>
#include <cstdio>
#include <dissect/optim/block_parametrization.hpp>
#include <dissect/optim/matrix_free_certificate.hpp>
#include <dissect/optim/point_objectives.hpp>
#include <dissect/optim/riemannian_hessian_operator.hpp>
#include <dissect/optim/rotation_orbit.hpp>
#include <dissect/theory/regular_simplex.hpp>
#include <dissect/theory/temperature.hpp>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.hpp"

namespace {

namespace optim = dissect::optim;
namespace theory = dissect::theory;
using dissect::bench::Seconds;

struct Problem {
  int num_classes = 1000;
  int dim = 1024;
  double temperature = 0.1;
  int threads = 2;
  int max_iterations = 600;
};

// The peak resident set of this process (VmHWM of /proc/self/status), in bytes.
double PeakResidentBytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) * 1024.0;
  }
  return 0.0;
}

// SC over one full batch of num_points points, class k = i mod K (balanced where K divides N), collapsed onto a
// seeded regular simplex of radius rho: the problem Minimize certifies, at its optimum.
struct Optimum {
  Eigen::VectorXi labels;
  Eigen::VectorXd z;
  std::vector<optim::Block> blocks;
};

Optimum CollapsedSimplex(const Problem& problem, int num_points) {
  const double rho = theory::Temperature::FromTemperature(problem.temperature).radius();
  const Eigen::MatrixXd simplex = theory::RegularSimplex(problem.num_classes, problem.dim, rho, 1);
  Optimum optimum;
  optimum.labels.resize(num_points);
  optimum.z.resize(static_cast<Eigen::Index>(problem.dim) * num_points);
  for (int i = 0; i < num_points; ++i) {
    optimum.labels[i] = i % problem.num_classes;
    optimum.z.segment(static_cast<Eigen::Index>(problem.dim) * i, problem.dim) = simplex.col(optimum.labels[i]);
    optimum.blocks.push_back(optim::Block{static_cast<Eigen::Index>(problem.dim) * i, problem.dim, rho});
  }
  return optimum;
}

optim::SupConPointObjective FullBatch(const Problem& problem, const Eigen::VectorXi& labels) {
  optim::WeightedBatch all;
  all.indices.resize(labels.size());
  std::iota(all.indices.begin(), all.indices.end(), 0);
  return optim::SupConPointObjective(problem.dim, labels, {all}, optim::SupConValue::kExcess);
}

// A child: the whole certificate at N points; one JSON line.
int RunFull(const Problem& problem, int num_points) {
  const Optimum optimum = CollapsedSimplex(problem, num_points);
  const optim::SupConPointObjective objective = FullBatch(problem, optimum.labels);
  optim::MatrixFreeCertificateOptions options;
  options.dim = problem.dim;
  options.max_iterations = problem.max_iterations;
  options.callback = [](const optim::MatrixFreeCertificateProgress& p) {
    std::fprintf(stderr,
                 "  iteration %d, %lld products, eigenvalues %.6g (residual %.2g) to %.6g (residual %.2g), %.1f s\n",
                 p.iteration,
                 static_cast<long long>(p.hessian_vector_products),
                 p.extremes.lowest,
                 p.extremes.lowest_residual,
                 p.extremes.highest,
                 p.extremes.highest_residual,
                 p.seconds);
    return false;
  };
  const auto start = std::chrono::steady_clock::now();
  const optim::HessianCertificate c =
      optim::CertifyLocalMinimumMatrixFree(objective, optimum.z, optimum.blocks, options);
  const double seconds = Seconds(start);
  std::printf("%s\n",
              nlohmann::json{{"seconds", seconds},
                             {"peak_bytes", PeakResidentBytes()},
                             {"tangent_dim", c.tangent_dim},
                             {"expected_flat", c.expected_flat},
                             {"products", c.hessian_vector_products},
                             {"iterations", c.iterations},
                             {"converged", c.converged},
                             {"min_eigenvalue", c.min_eigenvalue},
                             {"min_residual", c.min_eigenvalue_residual},
                             {"max_eigenvalue", c.max_eigenvalue},
                             {"max_residual", c.max_eigenvalue_residual},
                             {"zero_tolerance", c.zero_tolerance},
                             {"strict", c.strict_local_minimum_up_to_rotation},
                             {"message", c.message}}
                  .dump()
                  .c_str());
  return 0;
}

// A child: the pieces of the certificate at N points, each timed once; one JSON line.
int RunPieces(const Problem& problem, int num_points) {
  const Optimum optimum = CollapsedSimplex(problem, num_points);
  const optim::SupConPointObjective objective = FullBatch(problem, optimum.labels);
  auto start = std::chrono::steady_clock::now();
  const optim::RiemannianHessianOperator hessian(objective, optimum.z, optimum.blocks);
  const double gradient_seconds = Seconds(start);
  start = std::chrono::steady_clock::now();
  const optim::RotationOrbitProjection orbit(
      Eigen::Map<const Eigen::MatrixXd>(optimum.z.data(), problem.dim, num_points));
  const double orbit_seconds = Seconds(start);
  std::mt19937_64 engine(2);
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::VectorXd v(optimum.z.size());
  for (Eigen::Index i = 0; i < v.size(); ++i) v[i] = normal(engine);
  hessian.ProjectToTangent(v);
  start = std::chrono::steady_clock::now();
  orbit.ProjectOut(v);
  const double projection_seconds = Seconds(start);
  start = std::chrono::steady_clock::now();
  const Eigen::VectorXd product = hessian.Apply(v);
  const double product_seconds = Seconds(start);
  std::printf("%s\n",
              nlohmann::json{{"gradient_seconds", gradient_seconds},
                             {"orbit_seconds", orbit_seconds},
                             {"projection_seconds", projection_seconds},
                             {"product_seconds", product_seconds},
                             {"rayleigh", v.dot(product) / v.squaredNorm()},
                             {"peak_bytes", PeakResidentBytes()},
                             {"tangent_dim", hessian.tangent_dim()},
                             {"expected_flat", orbit.orbit_dimension()}}
                  .dump()
                  .c_str());
  return 0;
}

std::vector<int> ParseList(const std::string& text) {
  std::vector<int> values;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    if (!item.empty()) values.push_back(std::stoi(item));
  }
  return values;
}

std::string ChildCommand(const Problem& problem, const char* kind, int num_points) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  return fmt::format(
      "'{}' --child {} --points {} --classes {} --dim {} --temperature {} --threads {} --max-iterations {}",
      self,
      kind,
      num_points,
      problem.num_classes,
      problem.dim,
      problem.temperature,
      problem.threads,
      problem.max_iterations);
}

}  // namespace

int main(int argc, char** argv) {
  std::string full_text = "2,5";
  std::string sample_text = "2000,5000,10000,20000,50000";
  std::string child;
  std::vector<char*> numeric_args = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--full-per-class" && i + 1 < argc) {
      full_text = argv[++i];
    } else if (flag == "--sample-points" && i + 1 < argc) {
      sample_text = argv[++i];
    } else if (flag == "--child" && i + 1 < argc) {
      child = argv[++i];
    } else {
      numeric_args.push_back(argv[i]);
    }
  }
  double classes = 1000, dim = 1024, temperature = 0.1, threads = 2, max_iterations = 600, points = 0;
  if (!dissect::bench::ParseFlags(static_cast<int>(numeric_args.size()),
                                  numeric_args.data(),
                                  {{"--classes", &classes},
                                   {"--dim", &dim},
                                   {"--temperature", &temperature},
                                   {"--threads", &threads},
                                   {"--max-iterations", &max_iterations},
                                   {"--points", &points}})) {
    return 2;
  }
  Problem problem;
  problem.num_classes = static_cast<int>(classes);
  problem.dim = static_cast<int>(dim);
  problem.temperature = temperature;
  problem.threads = static_cast<int>(threads);
  problem.max_iterations = static_cast<int>(max_iterations);
  dissect::bench::ConfigureProcess(problem.threads);
  if (child == "full") return RunFull(problem, static_cast<int>(points));
  if (child == "pieces") return RunPieces(problem, static_cast<int>(points));

  std::printf("%s, %d threads\n", dissect::bench::CpuDescription().c_str(), problem.threads);
  std::printf(
      "matrix-free certificate of SC at the collapsed simplex: K = %d, h = %d, tau = %g, each row in its own "
      "process (peak = its VmHWM)\n",
      problem.num_classes,
      problem.dim,
      problem.temperature);
  std::printf("\nwhole certificate\n%8s %10s %9s %6s %6s %10s %9s %12s %9s %12s %9s  %s\n",
              "N",
              "tangent",
              "orbit",
              "iters",
              "H v",
              "seconds",
              "peak MB",
              "smallest",
              "residual",
              "largest",
              "residual",
              "verdict");
  const auto too_few = [&](int n) {
    if (n >= 2 * problem.num_classes) return false;
    std::printf("%8d skipped: fewer than 2 points per class (SC has no positives)\n", n);
    return true;
  };
  for (const int per_class : ParseList(full_text)) {
    const int n = per_class * problem.num_classes;
    if (too_few(n)) continue;
    std::fprintf(stderr, "N = %d: whole certificate...\n", n);
    try {
      const nlohmann::json j = dissect::bench::RunJsonCommand(ChildCommand(problem, "full", n));
      std::printf("%8d %10lld %9lld %6d %6lld %10.1f %9.0f %12.6g %9.2g %12.6g %9.2g  %s\n",
                  n,
                  j["tangent_dim"].get<long long>(),
                  j["expected_flat"].get<long long>(),
                  j["iterations"].get<int>(),
                  j["products"].get<long long>(),
                  j["seconds"].get<double>(),
                  j["peak_bytes"].get<double>() / 1e6,
                  j["min_eigenvalue"].get<double>(),
                  j["min_residual"].get<double>(),
                  j["max_eigenvalue"].get<double>(),
                  j["max_residual"].get<double>(),
                  j["strict"].get<bool>()      ? "strict local minimum up to rotation"
                  : j["converged"].get<bool>() ? "no"
                                               : "not converged");
    } catch (const std::exception& error) {
      std::printf("%8d failed: %s\n", n, error.what());
    }
    std::fflush(stdout);
  }
  std::printf(
      "\nits pieces, each once: set-up (a gradient; S = Z Z^T and its eigenvectors), one orbit projection, one "
      "Hessian-vector product (two gradients)\n%8s %10s %9s %11s %11s %12s %12s %9s\n",
      "N",
      "tangent",
      "orbit",
      "gradient s",
      "S eigen s",
      "projection s",
      "H v s",
      "peak MB");
  for (const int n : ParseList(sample_text)) {
    if (too_few(n)) continue;
    std::fprintf(stderr, "N = %d: pieces...\n", n);
    try {
      const nlohmann::json j = dissect::bench::RunJsonCommand(ChildCommand(problem, "pieces", n));
      std::printf("%8d %10lld %9lld %11.3f %11.3f %12.3f %12.3f %9.0f\n",
                  n,
                  j["tangent_dim"].get<long long>(),
                  j["expected_flat"].get<long long>(),
                  j["gradient_seconds"].get<double>(),
                  j["orbit_seconds"].get<double>(),
                  j["projection_seconds"].get<double>(),
                  j["product_seconds"].get<double>(),
                  j["peak_bytes"].get<double>() / 1e6);
    } catch (const std::exception& error) {
      std::printf("%8d failed: %s\n", n, error.what());
    }
    std::fflush(stdout);
  }
  return 0;
}
