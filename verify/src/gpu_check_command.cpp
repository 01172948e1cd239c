// `dissect gpu-check`: the checks of the GPU half on one device (scripts/gpu-check runs it on a GPU machine with
// --size full, and on the CPU with --size small so that the checks themselves are tested):
//   loss_parity      CE, SC dense and tiled SC on the device against the CPU in float64 (value and gradient);
//   data_parallel    two ranks (threads) over Gloo with tensors on the device against one process on the whole
//                    batch, in float64 (loss and gradients of the embeddings and the classifier);
//   throughput       CIFAR ResNet-18 training steps (3x32x32, CE) against the same model and step in the machine's
//                    PyTorch (bench/baselines/resnet18_torch.py, eager), same precision, same device, as a ratio;
//   tiled_batch      the largest SC batch the tiled loss computes (loss + gradient) within a time per step, with
//                    the memory it needs, against the largest batch the dense formulation fits in the memory budget;
//   label_noise      the label-noise experiment of `dissect noise` (the same library call) at ResNet-18 scale on
//                    the GPU (an MLP on the CPU), p in {0, 0.5, 1}, both losses, two seeds.
// Exit 1 when a parity check exceeds its tolerance.
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <dissect/train/communicator.hpp>
#include <dissect/train/data_parallel.hpp>
#include <dissect/train/device.hpp>
#include <dissect/train/image_set.hpp>
#include <dissect/train/losses.hpp>
#include <dissect/train/noise_experiment.hpp>
#include <dissect/train/tiled_supcon_loss.hpp>
#include <dissect/train/trainer.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "commands.hpp"
#include "loopback_port.hpp"
#include "output.hpp"
#include "output_files.hpp"
#include "progress.hpp"
#include "train_flags.hpp"

namespace dissect::cli {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// Tolerances of the float64 parity checks (relative): the device and the CPU sum in different orders.
constexpr double kValueTolerance = 1e-10;
constexpr double kGradientTolerance = 1e-9;

struct GpuCheckFlags {
  std::string device = "auto";
  std::string size = "full";
  std::string data = "fashion-mnist";
  std::string data_dir;
  std::string python = "python3";
  std::string baseline = std::string(DISSECT_SOURCE_DIR) + "/bench/baselines/resnet18_torch.py";
  std::string checks = "loss_parity,data_parallel,throughput,tiled_batch,label_noise";
  double memory_gb = 100.0;
  double step_seconds = 10.0;
  double noise_seconds = 150.0;
  std::string out;
  bool force = false;
  bool json = false;
};

// The sizes of one run: `full` for an H200-class GPU, `small` for the CPU test of the checks.
struct Sizes {
  std::int64_t parity_batch, parity_dim, parity_classes;
  std::int64_t throughput_batch, throughput_warmup, throughput_steps;
  std::int64_t tiled_first_batch, tiled_dim;
  std::int64_t noise_train, noise_test, noise_iterations, noise_eval_every, noise_batch;
  std::string noise_model;
};

Sizes SizesFor(const std::string& size) {
  if (size == "full") return {4096, 128, 10, 256, 10, 50, 16384, 128, 2000, 1000, 1500, 50, 256, "resnet18"};
  return {96, 16, 5, 8, 1, 2, 256, 16, 100, 100, 400, 25, 32, "mlp"};
}

double RelativeDifference(const torch::Tensor& a, const torch::Tensor& reference) {
  const double scale = reference.abs().max().item<double>();
  const double difference = (a.cpu() - reference.cpu()).abs().max().item<double>();
  return scale > 0 ? difference / scale : difference;
}

// The value and the gradient with respect to `z` of loss(z) on `device`, in float64.
template <typename Loss>
std::pair<double, torch::Tensor> ValueAndGradient(const torch::Tensor& z, torch::Device device, Loss loss) {
  torch::Tensor x = z.to(device).detach().requires_grad_(true);
  torch::Tensor value = loss(x);
  value.backward();
  return {value.item<double>(), x.grad().cpu()};
}

Json CheckLossParity(torch::Device device, const Sizes& s, bool* failed) {
  torch::manual_seed(7);
  torch::Tensor z = torch::randn({s.parity_batch, s.parity_dim}, torch::kDouble);
  z = z / z.norm(2, 1, true);
  const torch::Tensor labels = torch::randint(0, s.parity_classes, {s.parity_batch}, torch::kLong);
  const torch::Tensor weights = torch::randn({s.parity_classes, s.parity_dim}, torch::kDouble);
  const auto tau = theory::Temperature::FromTemperature(0.1);
  train::TiledSupConOptions tiled;
  tiled.temperature = tau;
  tiled.reduction = theory::SupConReduction::kSum;
  tiled.memory_budget_bytes = static_cast<double>(s.parity_batch) * 64 * 8;  // 64-column tiles: many of them

  const auto ce = [&](const torch::Tensor& x) {
    return train::CrossEntropyLoss(x, labels.to(x.device()), weights.to(x.device()));
  };
  const auto dense = [&](const torch::Tensor& x) {
    return train::SupConLoss(x, labels.to(x.device()), tau, theory::SupConReduction::kSum);
  };
  const auto tiled_loss = [&](const torch::Tensor& x) {
    return train::TiledSupConLoss(x, labels.to(x.device()), tiled);
  };
  const auto [ce_cpu, ce_cpu_gradient] = ValueAndGradient(z, torch::kCPU, ce);
  const auto [sc_cpu, sc_cpu_gradient] = ValueAndGradient(z, torch::kCPU, dense);
  Json rows = Json::array();
  const auto add = [&](const std::string& name,
                       double reference,
                       const torch::Tensor& reference_gradient,
                       const std::pair<double, torch::Tensor>& measured) {
    const double value_difference = std::abs(measured.first - reference) / std::abs(reference);
    const double gradient_difference = RelativeDifference(measured.second, reference_gradient);
    const bool passed = value_difference <= kValueTolerance && gradient_difference <= kGradientTolerance;
    *failed = *failed || !passed;
    rows.push_back({{"loss", name},
                    {"value", measured.first},
                    {"cpu_value", reference},
                    {"value_relative_difference", value_difference},
                    {"gradient_relative_difference", gradient_difference},
                    {"passed", passed}});
  };
  add("ce", ce_cpu, ce_cpu_gradient, ValueAndGradient(z, device, ce));
  add("supcon_dense", sc_cpu, sc_cpu_gradient, ValueAndGradient(z, device, dense));
  add("supcon_tiled", sc_cpu, sc_cpu_gradient, ValueAndGradient(z, device, tiled_loss));
  return {{"batch", s.parity_batch},
          {"dim", s.parity_dim},
          {"classes", s.parity_classes},
          {"dtype", "float64"},
          {"value_tolerance", kValueTolerance},
          {"gradient_tolerance", kGradientTolerance},
          {"reference", "the same loss on the CPU"},
          {"losses", rows}};
}

struct RankOutput {
  double loss = 0.0;
  torch::Tensor embedding_gradient;   // this rank's rows
  torch::Tensor classifier_gradient;  // summed over the ranks (CE)
  std::string error;
};

Json CheckDataParallel(torch::Device device, const Sizes& s, bool* failed) {
  constexpr int kRanks = 2;
  torch::manual_seed(11);
  const std::int64_t batch = s.parity_batch - s.parity_batch % kRanks;
  torch::Tensor z = torch::randn({batch, s.parity_dim}, torch::kDouble);
  const torch::Tensor labels = torch::randint(0, s.parity_classes, {batch}, torch::kLong);
  Json rows = Json::array();
  for (const train::LossKind kind : {train::LossKind::kCrossEntropy, train::LossKind::kSupCon}) {
    train::LossOptions options;
    options.kind = kind;
    options.num_classes = s.parity_classes;
    options.dim = s.parity_dim;
    options.supcon_algorithm = train::SupConAlgorithm::kDense;
    // The same classifier in every rank and in the single process (made here: torch's generator is not for threads).
    const auto make_head = [&] {
      torch::manual_seed(13);
      train::LossHead head(options);
      head->to(device, torch::kDouble);
      return head;
    };
    std::vector<train::LossHead> heads;
    for (int rank = 0; rank < kRanks; ++rank) heads.push_back(make_head());
    // One process on the whole batch.
    train::LossHead single = make_head();
    torch::Tensor all = z.to(device).detach().requires_grad_(true);
    torch::Tensor single_loss = single->forward(single->Represent(all), labels.to(device));
    single_loss.backward();
    const torch::Tensor single_gradient = all.grad().cpu();
    const torch::Tensor single_classifier_gradient =
        train::HasClassifier(kind) ? single->classifier().grad().cpu() : torch::Tensor();

    const int port = FreeLoopbackPort("gpu-check");
    std::array<RankOutput, kRanks> outputs;
    std::vector<std::thread> threads;
    for (int rank = 0; rank < kRanks; ++rank) {
      threads.emplace_back([&, rank] {
        try {
          train::DistributedOptions distributed;
          distributed.world_size = kRanks;
          distributed.rank = rank;
          distributed.master_address = "127.0.0.1";
          distributed.master_port = port;
          distributed.backend = "gloo";  // NCCL refuses two ranks on one GPU
          distributed.timeout_seconds = 60.0;
          const auto communicator = train::Communicator::Create(distributed, device);
          train::LossHead& head = heads[rank];
          const std::int64_t rows_per_rank = batch / kRanks;
          torch::Tensor local =
              z.narrow(0, rank * rows_per_rank, rows_per_rank).to(device).detach().requires_grad_(true);
          torch::Tensor loss = train::DataParallelLoss(*head,
                                                       head->Represent(local),
                                                       labels.narrow(0, rank * rows_per_rank, rows_per_rank).to(device),
                                                       *communicator);
          loss.backward();
          std::vector<torch::Tensor> parameters = head->parameters();
          outputs[rank].loss = train::AllReduceGradients(parameters, {loss.item<double>()}, *communicator).front();
          outputs[rank].embedding_gradient = local.grad().cpu();
          if (train::HasClassifier(kind)) outputs[rank].classifier_gradient = head->classifier().grad().cpu();
        } catch (const std::exception& e) {
          outputs[rank].error = e.what();
        }
      });
    }
    for (std::thread& t : threads) t.join();
    for (const RankOutput& output : outputs) {
      if (!output.error.empty()) throw std::runtime_error("gpu-check: data-parallel check: " + output.error);
    }
    const double loss_difference =
        std::abs(outputs[0].loss - single_loss.item<double>()) / std::abs(single_loss.item<double>());
    const double gradient_difference = RelativeDifference(
        torch::cat({outputs[0].embedding_gradient, outputs[1].embedding_gradient}, 0), single_gradient);
    const double classifier_difference =
        train::HasClassifier(kind) ? RelativeDifference(outputs[0].classifier_gradient, single_classifier_gradient)
                                   : 0.0;
    const bool passed = loss_difference <= kValueTolerance && gradient_difference <= kGradientTolerance &&
                        classifier_difference <= kGradientTolerance;
    *failed = *failed || !passed;
    rows.push_back({{"loss", train::ToString(kind)},
                    {"loss_relative_difference", loss_difference},
                    {"embedding_gradient_relative_difference", gradient_difference},
                    {"classifier_gradient_relative_difference", classifier_difference},
                    {"passed", passed}});
  }
  return {{"ranks", kRanks},
          {"backend", "gloo (tensors on the device, NCCL refuses two ranks on one GPU)"},
          {"batch", batch},
          {"dtype", "float64"},
          {"reference", "one process on the whole batch"},
          {"losses", rows}};
}

// Random images of the CIFAR shape, for the throughput runs.
train::DataSplit SyntheticCifar(std::int64_t num_train) {
  std::mt19937_64 generator(3);
  const auto make = [&](std::int64_t n, const std::string& name) {
    train::ImageSet set;
    set.name = name;
    set.num_images = n;
    set.channels = 3;
    set.height = 32;
    set.width = 32;
    set.num_classes = 10;
    set.pixels.resize(static_cast<std::size_t>(n * set.ImageSize()));
    for (std::uint8_t& p : set.pixels) p = static_cast<std::uint8_t>(generator() & 0xFF);
    for (std::int64_t i = 0; i < n; ++i) set.labels.push_back(static_cast<std::int64_t>(generator() % 10));
    return set;
  };
  return {make(num_train, "synthetic-cifar/train"), make(16, "synthetic-cifar/test")};
}

// Runs `command` and returns the last line it printed on stdout that parses as a JSON object.
Json RunJsonCommand(const std::string& command) {
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error(fmt::format("gpu-check: cannot run '{}'", command));
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) output += buffer.data();
  const int status = ::pclose(pipe);
  Json last;
  std::size_t start = 0;
  while (start < output.size()) {
    const std::size_t end = output.find('\n', start);
    const std::string line = output.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!line.empty() && line.front() == '{') {
      try {
        last = Json::parse(line);
      } catch (const std::exception&) {
      }
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (status != 0 || last.is_null()) {
    throw std::runtime_error(fmt::format("gpu-check: '{}' failed (status {}) or printed no JSON", command, status));
  }
  return last;
}

// The CPU's model name (/proc/cpuinfo), for the record of a CPU run.
std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

Json CheckThroughput(torch::Device device, const Sizes& s, const GpuCheckFlags& f) {
  const bool cuda = device.is_cuda();
  train::TrainOptions options;
  options.encoder.architecture = train::Architecture::kResNet18;
  options.encoder.dim = 512;
  options.loss.kind = train::LossKind::kCrossEntropy;
  options.iterations = s.throughput_warmup + s.throughput_steps;
  options.batch_size = s.throughput_batch;
  options.probe.iterations = 0;
  options.supcon_eval_batches = 1;
  options.device = device.str();
  options.threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  options.precision = train::Precision::kBfloat16;
  options.channels_last = true;
  // Seconds of the steps after the warm-up (cuDNN's algorithm search, the allocator's first blocks): the trainer's
  // step seconds (its rate is steps x b over the summed step times, evaluations excluded) at the last step less
  // those at the end of the warm-up.
  double warmup_seconds = 0.0, total_seconds = 0.0;
  train::TrainCallbacks callbacks;
  callbacks.on_step = [&](const train::TrainProgress& p) {
    const double step_seconds = static_cast<double>(p.iteration * s.throughput_batch) / p.images_per_second;
    if (p.iteration == s.throughput_warmup) warmup_seconds = step_seconds;
    if (p.iteration == p.iterations) total_seconds = step_seconds;
    return false;
  };
  train::Train(options, SyntheticCifar(std::max<std::int64_t>(4 * s.throughput_batch, 64)), callbacks);
  const double seconds = total_seconds - warmup_seconds;
  const double ours = static_cast<double>(s.throughput_steps * s.throughput_batch) / seconds;

  const Json torch_run = RunJsonCommand(fmt::format(
      "'{}' '{}' --device {} --batch-size {} --warmup {} --steps {} --threads {} --precision bf16 --channels-last",
      f.python,
      f.baseline,
      cuda ? "cuda" : "cpu",
      s.throughput_batch,
      s.throughput_warmup,
      s.throughput_steps,
      options.threads));
  const double theirs = torch_run.at("images_per_second").get<double>();
  return {{"model", "CIFAR ResNet-18 (3x3 stem, no max-pool), CE on a bias-free linear classifier"},
          {"input", "3x32x32"},
          {"batch", s.throughput_batch},
          {"precision", "bf16 autocast"},
          {"channels_last", true},
          {"cpu_threads", options.threads},
          {"warmup_steps", s.throughput_warmup},
          {"timed_steps", s.throughput_steps},
          {"dissect_images_per_second", ours},
          {"pytorch_images_per_second", theirs},
          {"pytorch", torch_run},
          {"ratio_dissect_over_pytorch", ours / theirs}};
}

Json CheckTiledBatch(torch::Device device, const Sizes& s, const GpuCheckFlags& f) {
  const double budget_bytes = f.memory_gb * 1e9;
  // The dense formulation's largest batch within the budget (float32): DenseSupConBytes grows as B^2.
  std::int64_t dense_limit = 2;
  while (train::DenseSupConBytes(2 * dense_limit, torch::kFloat) <= budget_bytes) dense_limit *= 2;
  std::int64_t low = dense_limit, high = 2 * dense_limit;
  while (high - low > 1) {
    const std::int64_t mid = (low + high) / 2;
    (train::DenseSupConBytes(mid, torch::kFloat) <= budget_bytes ? low : high) = mid;
  }
  dense_limit = low;

  train::TiledSupConOptions options;
  options.temperature = theory::Temperature::FromTemperature(0.1);
  options.memory_budget_bytes = std::min(budget_bytes / 4, 16e9);  // the similarity tile; the rest is O(B h)
  Json runs = Json::array();
  std::int64_t largest = 0;
  double largest_seconds = 0.0;
  std::string stopped_by = "the step time limit";
  for (std::int64_t batch = s.tiled_first_batch;; batch *= 2) {
    // Representations, their gradient, the normalized copy and labels, plus the tile.
    const double bytes = 4.0 * batch * s.tiled_dim * 3 + 8.0 * batch + options.memory_budget_bytes;
    if (bytes > budget_bytes) {
      stopped_by = "the memory budget";
      break;
    }
    double seconds = 0.0;
    try {
      torch::manual_seed(5);
      torch::Tensor z = torch::randn({batch, s.tiled_dim}, torch::TensorOptions(torch::kFloat).device(device));
      z = (z / z.norm(2, 1, true)).detach().requires_grad_(true);
      const torch::Tensor labels = torch::randint(0, 100, {batch}, torch::TensorOptions(torch::kLong).device(device));
      const auto start = Clock::now();
      torch::Tensor loss = train::TiledSupConLoss(z, labels, options);
      loss.backward();
      const double value = loss.item<double>();  // waits for the device
      (void)z.grad().sum().item<double>();
      seconds = std::chrono::duration<double>(Clock::now() - start).count();
      runs.push_back({{"batch", batch}, {"seconds", seconds}, {"bytes_estimate", bytes}, {"loss", value}});
    } catch (const std::exception& e) {
      stopped_by = fmt::format("an error at B = {}: {}", batch, e.what());
      break;
    }
    largest = batch;
    largest_seconds = seconds;
    // The next batch takes about 4x as long (B^2 h work).
    if (4.0 * seconds > f.step_seconds) break;
  }
  return {{"dim", s.tiled_dim},
          {"dtype", "float32"},
          {"memory_budget_gb", f.memory_gb},
          {"tile_bytes", options.memory_budget_bytes},
          {"step_seconds_limit", f.step_seconds},
          {"largest_batch", largest},
          {"largest_batch_seconds", largest_seconds},
          {"stopped_by", stopped_by},
          {"dense_largest_batch_in_budget", dense_limit},
          {"runs", runs}};
}

Json CheckLabelNoise(torch::Device device,
                     const Sizes& s,
                     const GpuCheckFlags& f,
                     const train::DataSplit& data,
                     ProgressLine& progress) {
  Json seeds = Json::array();
  const auto check_start = Clock::now();
  bool cancelled = false;
  for (const std::uint64_t seed : {0ULL, 1ULL}) {
    if (cancelled) break;
    train::NoiseOptions options;
    options.train.encoder.architecture = train::ParseArchitecture(s.noise_model);
    options.train.encoder.dim = train::DefaultDim(options.train.encoder.architecture);
    options.train.iterations = s.noise_iterations;
    options.train.eval_every = s.noise_eval_every;
    options.train.batch_size = s.noise_batch;
    options.train.probe.iterations = 0;
    options.train.supcon_eval_batches = 1;
    options.train.device = device.str();
    options.train.seed = seed;
    if (device.is_cuda()) {
      options.train.precision = train::Precision::kBfloat16;
      options.train.channels_last = true;
    }
    options.fractions = {0.0, 0.5, 1.0};
    options.noise_seed = seed;
    options.criterion = train::FitCriterion::kAuto;  // no probe: the class means for SC, the classifier for CE
    train::NoiseCallbacks callbacks;
    // The whole check has a time limit (the GPU machine's session is short): past it, runs are cancelled and say so.
    callbacks.on_step = [&](const train::TrainProgress& p) {
      progress.Update(fmt::format("gpu-check: label noise, seed {}: step {}/{}", seed, p.iteration, p.iterations));
      return std::chrono::duration<double>(Clock::now() - check_start).count() > f.noise_seconds;
    };
    const auto start = Clock::now();
    const train::NoiseResult result = train::RunNoiseExperiment(options, data, callbacks);
    cancelled = result.cancelled;
    Json runs = Json::array();
    for (const train::NoiseRun& run : result.runs) {
      runs.push_back(
          {{"loss", train::ToString(run.loss)},
           {"fraction", run.fraction},
           {"iterations_to_fit", std::isnan(run.iterations_to_fit) ? Json(nullptr) : Json(run.iterations_to_fit)},
           {"criterion", run.criterion},
           {"status", run.status},
           {"seconds", run.seconds}});
    }
    seeds.push_back({{"seed", seed},
                     {"seconds", std::chrono::duration<double>(Clock::now() - start).count()},
                     {"cancelled_by_time_limit", result.cancelled},
                     {"runs", runs}});
  }
  return {{"data", f.data},
          {"train_images", data.train.num_images},
          {"model", s.noise_model},
          {"budget", s.noise_iterations},
          {"eval_every", s.noise_eval_every},
          {"batch", s.noise_batch},
          {"time_limit_seconds", f.noise_seconds},
          {"fractions", {0.0, 0.5, 1.0}},
          {"seeds", seeds}};
}

int Run(const GpuCheckFlags& f) {
  const bool has_out = !f.out.empty();
  const torch::Device device = train::ResolveDevice(f.device);
  // CLI11's PositiveNumber lets NaN through; the tiled-batch loop would then never stop.
  for (const auto& [name, value] : {std::pair<const char*, double>{"--memory-gb", f.memory_gb},
                                    {"--step-seconds", f.step_seconds},
                                    {"--noise-seconds", f.noise_seconds}}) {
    if (!(value > 0.0) || !std::isfinite(value)) {
      throw std::invalid_argument(fmt::format("gpu-check: {} expects a positive number, got {}", name, value));
    }
  }
  const Sizes s = SizesFor(f.size);
  const std::set<std::string> known = {"loss_parity", "data_parallel", "throughput", "tiled_batch", "label_noise"};
  std::set<std::string> wanted;
  std::stringstream names(f.checks);
  for (std::string name; std::getline(names, name, ',');) {
    if (known.count(name) == 0) {
      throw std::invalid_argument(fmt::format(
          "gpu-check: unknown check '{}' (expected loss_parity, data_parallel, throughput, tiled_batch or label_noise)",
          name));
    }
    wanted.insert(name);
  }
  // Bad input fails here, before any check runs: the label-noise data (missing or corrupt files).
  train::DataSplit noise_data;
  if (wanted.count("label_noise") != 0) {
    TrainFlags data_flags;
    data_flags.data = f.data;
    data_flags.data_dir = f.data_dir;
    data_flags.train_limit = s.noise_train;
    data_flags.test_limit = s.noise_test;
    noise_data = LoadTrainingData(data_flags);
  }

  if (has_out) PrepareOutputDirectory(f.out, f.force);
  Json result = Json::object();
  result["device"] = device.str();
  // A GPU's name comes from the PyTorch baseline (torch.cuda.get_device_name) and from scripts/gpu-check.
  result["cpu_model"] = CpuModel();
  result["torch_version"] = train::TorchVersion();
  result["size"] = f.size;
  bool failed = false;
  ProgressLine progress;
  const auto run = [&](const std::string& name, const std::function<Json()>& check) {
    if (wanted.count(name) == 0) return;
    progress.Update("gpu-check: " + name);
    const auto start = Clock::now();
    Json entry;
    try {
      entry = check();
    } catch (const std::exception& e) {
      // One check's failure (an out-of-memory error, a missing Python) does not hide the others' figures.
      entry = {{"error", e.what()}};
      failed = true;
    }
    entry["seconds"] = std::chrono::duration<double>(Clock::now() - start).count();
    progress.Finish();
    std::cerr << fmt::format("gpu-check: {} done in {:.1f} s\n", name, entry["seconds"].get<double>());
    result[name] = entry;
  };
  run("loss_parity", [&] { return CheckLossParity(device, s, &failed); });
  run("data_parallel", [&] { return CheckDataParallel(device, s, &failed); });
  run("throughput", [&] { return CheckThroughput(device, s, f); });
  run("tiled_batch", [&] { return CheckTiledBatch(device, s, f); });
  run("label_noise", [&] { return CheckLabelNoise(device, s, f, noise_data, progress); });
  result["passed"] = !failed;
  if (has_out) {
    WriteTextFileAtomic(std::filesystem::path(f.out) / "gpu-check.json", result.dump(2) + "\n");
    WriteTextFileAtomic(std::filesystem::path(f.out) / "meta.json", MetaJson(0).dump(2) + "\n");
  }
  Report report;
  report.Add("device", result["device"].get<std::string>());
  report.Add("cpu_model", result["cpu_model"].get<std::string>());
  report.Add("torch_version", result["torch_version"].get<std::string>());
  for (const auto& [name, entry] : result.items()) {
    if (!entry.is_object()) continue;
    if (entry.contains("error")) {
      report.Add(name, "error: " + entry["error"].get<std::string>());
    } else if (entry.contains("losses")) {
      for (const auto& row : entry["losses"]) {
        report.Add(fmt::format("{}_{}", name, row["loss"].get<std::string>()),
                   row["passed"].get<bool>() ? "pass" : "FAIL");
      }
    }
  }
  if (result.contains("throughput") && result["throughput"].contains("ratio_dissect_over_pytorch")) {
    report.Add("throughput_ratio",
               result["throughput"]["ratio_dissect_over_pytorch"].get<double>(),
               "ResNet-18 images/s, dissect / PyTorch");
  }
  if (result.contains("tiled_batch") && result["tiled_batch"].contains("largest_batch")) {
    report.Add("tiled_largest_batch", result["tiled_batch"]["largest_batch"].get<long long>());
    report.Add("tiled_largest_batch_seconds", result["tiled_batch"]["largest_batch_seconds"].get<double>());
  }
  report.Add("passed", std::string(failed ? "false" : "true"));
  report.AddJson("checks", result);
  report.Print(f.json, std::cout);
  return failed ? 1 : 0;
}

}  // namespace

std::vector<Command> RegisterGpuCheckCommand(CLI::App& app) {
  auto f = std::make_shared<GpuCheckFlags>();
  CLI::App* cmd =
      app.add_subcommand("gpu-check", "The checks of the GPU half (scripts/gpu-check): parity, speed, scale");
  cmd->add_option("--device", f->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--size", f->size, "full (a large GPU) or small (the CPU test of the checks)")
      ->check(CLI::IsMember({"full", "small"}))
      ->capture_default_str();
  cmd->add_option("--checks", f->checks, "Comma-separated checks to run")->capture_default_str();
  cmd->add_option("--data", f->data, "Data of the label-noise check: fashion-mnist or mnist")
      ->check(CLI::IsMember({"fashion-mnist", "mnist"}))
      ->capture_default_str();
  cmd->add_option("--data-dir", f->data_dir, "Folder of its IDX files (default: Debian's package)");
  cmd->add_option("--python", f->python, "Python with PyTorch for the throughput baseline")->capture_default_str();
  cmd->add_option("--baseline", f->baseline, "The PyTorch script of the throughput baseline")->capture_default_str();
  cmd->add_option("--memory-gb", f->memory_gb, "Memory budget of the tiled-batch check, GB")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--step-seconds", f->step_seconds, "Time limit of one tiled SC step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--noise-seconds", f->noise_seconds, "Time limit of the label-noise check (later runs cancelled)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--out", f->out, "Write gpu-check.json and meta.json");
  cmd->add_flag("--force", f->force, "Allow --out into a folder that already holds files");
  cmd->add_flag("--json", f->json, "Print one JSON object");
  return {{cmd, [f] { return Run(*f); }}};
}

}  // namespace dissect::cli
