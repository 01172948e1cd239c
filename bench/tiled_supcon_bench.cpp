// SC loss + gradient at large batches, h = 128, float32: peak resident memory and time per evaluation of dissect's
// tiled loss (train::TiledSupConLoss, the autograd function training uses) against the dense formulation in C++
// (train::SupConLoss through LibTorch autograd) and in PyTorch (bench/baselines/supcon_torch.py, /usr/bin/python3).
// Every (implementation, b) runs in its own process under a virtual-memory limit, so peak RSS is its own and a
// dense run that does not fit fails on allocation instead of exhausting the machine.
// Targets (issue "Exact SC loss at any batch size"): b = 65,536 within 1.5 GB; at b = 4,096 no slower than dense C++.
//   tiled_supcon_bench [--sizes 4096,8192,16384,32768,65536] [--dim 128] [--threads 2] [--limit-gb 16]

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <dissect/train/losses.hpp>
#include <dissect/train/tiled_supcon_loss.hpp>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.hpp"

namespace {

using dissect::bench::Seconds;
namespace theory = dissect::theory;
namespace train = dissect::train;

constexpr double kTemperature = 0.1;
constexpr int kClasses = 10;
constexpr int kSeed = 1;

double PeakRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0;  // Linux reports KiB
}

// Warm-up plus three timed runs up to b = 8,192; one run beyond (each takes seconds to minutes).
int Repeats(std::int64_t batch) { return batch <= 8192 ? 3 : 1; }

// A child: one implementation at one batch size; prints one JSON line.
int RunChild(const std::string& implementation, std::int64_t batch, std::int64_t dim, int threads) {
  dissect::bench::ConfigureProcess(threads);
  torch::set_num_threads(threads);
  // The points of supcon_torch.py's make_points: the same generator and seed give the same numbers.
  torch::manual_seed(kSeed);
  torch::Tensor columns = torch::randn({dim, batch}, torch::kDouble);
  columns = columns / columns.norm(2, 0, true);
  const torch::Tensor rows = columns.t().contiguous().to(torch::kFloat);
  const torch::Tensor labels = torch::arange(batch, torch::kLong).remainder(kClasses);
  const double setup_rss = PeakRssBytes();
  const theory::Temperature temperature = theory::Temperature::FromTemperature(kTemperature);
  train::TiledSupConOptions options;
  options.temperature = temperature;
  options.reduction = theory::SupConReduction::kSum;
  std::vector<double> times;
  double value = 0.0;
  try {
    const int runs = Repeats(batch) + (Repeats(batch) > 1 ? 1 : 0);
    for (int r = 0; r < runs; ++r) {
      const torch::Tensor z = rows.clone().requires_grad_(true);
      const auto start = std::chrono::steady_clock::now();
      const torch::Tensor loss = implementation == "tiled"
                                     ? train::TiledSupConLoss(z, labels, options)
                                     : train::SupConLoss(z, labels, temperature, options.reduction);
      loss.backward();
      times.push_back(Seconds(start));
      value = loss.item<double>();
    }
  } catch (const std::exception& error) {
    std::string message = error.what();
    message = message.substr(0, std::min(message.find('\n'), std::size_t{200}));
    std::printf("%s\n", nlohmann::json{{"error", message}}.dump().c_str());
    return 0;
  }
  if (times.size() > 1) times.erase(times.begin());  // the warm-up
  std::sort(times.begin(), times.end());
  std::printf("%s\n",
              nlohmann::json{{"seconds", times[times.size() / 2]},
                             {"value", value},
                             {"setup_rss_bytes", setup_rss},
                             {"peak_rss_bytes", PeakRssBytes()}}
                  .dump()
                  .c_str());
  return 0;
}

struct Measurement {
  std::optional<double> seconds, peak_rss, value;
  std::string error;
};

Measurement Measure(const std::string& command, double limit_gb) {
  const long long limit_kb = static_cast<long long>(limit_gb * 1024 * 1024);
  Measurement m;
  try {
    const nlohmann::json j = dissect::bench::RunJsonCommand(fmt::format("ulimit -v {} && exec {}", limit_kb, command));
    if (j.contains("error")) {
      m.error = j["error"].get<std::string>();
    } else {
      m.seconds = j["seconds"].get<double>();
      m.peak_rss = j["peak_rss_bytes"].get<double>();
      m.value = j["value"].get<double>();
    }
  } catch (const std::exception& error) {
    m.error = error.what();
  }
  return m;
}

std::string Cell(const Measurement& m) {
  if (!m.seconds) {
    const bool memory = m.error.find("allocate") != std::string::npos || m.error.find("memory") != std::string::npos;
    return memory ? "does not fit" : "failed";
  }
  return fmt::format("{:8.4f} s {:5.2f} GB", *m.seconds, *m.peak_rss / 1e9);
}

std::vector<std::int64_t> ParseSizes(const std::string& text) {
  std::vector<std::int64_t> sizes;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) sizes.push_back(std::stoll(item));
  return sizes;
}

}  // namespace

int main(int argc, char** argv) {
  std::string sizes_text = "4096,8192,16384,32768,65536";
  std::string child;
  double dim = 128, threads = 2, limit_gb = 16, batch = 0;
  std::vector<char*> numeric_args = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--sizes" && i + 1 < argc) {
      sizes_text = argv[++i];
    } else if (flag == "--child" && i + 1 < argc) {
      child = argv[++i];
    } else {
      numeric_args.push_back(argv[i]);
    }
  }
  if (!dissect::bench::ParseFlags(
          static_cast<int>(numeric_args.size()),
          numeric_args.data(),
          {{"--dim", &dim}, {"--threads", &threads}, {"--limit-gb", &limit_gb}, {"--batch", &batch}})) {
    return 2;
  }
  if (!child.empty())
    return RunChild(child, static_cast<std::int64_t>(batch), static_cast<std::int64_t>(dim), static_cast<int>(threads));

  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string script = std::string(DISSECT_BENCH_DIR) + "/baselines/supcon_torch.py";
  std::printf(
      "SC loss + gradient, h = %d, float32, tau = %g, %d threads, each run in its own process limited to %g GB "
      "of virtual memory (time: median of 3 after a warm-up up to b = 8192, one run beyond)\n",
      static_cast<int>(dim),
      kTemperature,
      static_cast<int>(threads),
      limit_gb);
  std::printf("%8s  %-22s %-22s %-22s %s\n",
              "b",
              "dissect tiled",
              "dense C++ (LibTorch)",
              "dense PyTorch",
              "dense vs tiled value");
  std::optional<double> tiled_4096, dense_4096, tiled_largest_rss;
  std::int64_t largest = 0;
  for (const std::int64_t b : ParseSizes(sizes_text)) {
    std::vector<Measurement> row;
    for (const std::string implementation : {"tiled", "dense"}) {
      std::fprintf(stderr, "b = %lld: %s...\n", static_cast<long long>(b), implementation.c_str());
      row.push_back(Measure(
          fmt::format("'{}' --child {} --batch {} --dim {} --threads {}", self, implementation, b, dim, threads),
          limit_gb));
    }
    std::fprintf(stderr, "b = %lld: PyTorch...\n", static_cast<long long>(b));
    row.push_back(
        Measure(fmt::format("/usr/bin/python3 '{}' scale --num-points {} --dim {} --classes {} --temperature {} "
                            "--threads {} --seed {} --repeats {}{}",
                            script,
                            b,
                            dim,
                            kClasses,
                            kTemperature,
                            threads,
                            kSeed,
                            Repeats(b),
                            Repeats(b) > 1 ? " --warm-up" : ""),
                limit_gb));
    // Relative difference of the dense values from the tiled one ("-" when no dense run fit).
    std::optional<double> difference;
    for (std::size_t i = 1; i < row.size(); ++i) {
      if (!row[i].value || !row[0].value) continue;
      difference =
          std::max(difference.value_or(0.0), std::abs(*row[i].value - *row[0].value) / std::abs(*row[0].value));
    }
    std::printf("%8lld  %-22s %-22s %-22s %s\n",
                static_cast<long long>(b),
                Cell(row[0]).c_str(),
                Cell(row[1]).c_str(),
                Cell(row[2]).c_str(),
                difference ? fmt::format("{:.1e}", *difference).c_str() : "-");
    std::fflush(stdout);
    for (const Measurement& m : row) {
      if (!m.error.empty() && Cell(m) == "failed") std::fprintf(stderr, "  failure: %s\n", m.error.c_str());
    }
    if (b == 4096) {
      tiled_4096 = row[0].seconds;
      dense_4096 = row[1].seconds;
    }
    if (b >= largest && row[0].peak_rss) {
      largest = b;
      tiled_largest_rss = row[0].peak_rss;
    }
  }
  bool met = true;
  if (largest == 65536 && tiled_largest_rss) {
    const bool ok = *tiled_largest_rss <= 1.5e9;
    met = met && ok;
    std::printf(
        "b = 65536 in %.2f GB peak RSS (target <= 1.5 GB: %s)\n", *tiled_largest_rss / 1e9, ok ? "met" : "NOT met");
  }
  if (tiled_4096 && dense_4096) {
    const bool ok = *tiled_4096 <= *dense_4096;
    met = met && ok;
    std::printf("b = 4096: dense C++ / tiled time = %.2fx (target >= 1: %s)\n",
                *dense_4096 / *tiled_4096,
                ok ? "met" : "NOT met");
  }
  return met ? 0 : 1;
}
