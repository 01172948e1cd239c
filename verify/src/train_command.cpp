// `dissect train`: trains an encoder with CE, CE-fix, CE-sphere or SC on real images (docs/theory.md, Experiments of
// the paper), evaluates it as it goes, checkpoints it, resumes it, and exports its representations.

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "commands.hpp"
#include "dissect/train/communicator.hpp"
#include "dissect/train/trainer.hpp"
#include "memory_check.hpp"
#include "output.hpp"
#include "output_files.hpp"
#include "progress.hpp"
#include "train_flags.hpp"

namespace dissect::cli {
namespace {

namespace fs = std::filesystem;

struct TrainCommandFlags : TrainFlags {
  std::int64_t checkpoint_every = 0;
  std::string out;
  bool force = false;
  bool resume = false;
  bool no_export = false;
  bool json = false;
  // Data-parallel training (c10d): this process is rank `rank` of `world_size`.
  int world_size = 1;
  int rank = 0;
  std::string master = "127.0.0.1:29500";
  double dist_timeout = 120.0;
  std::string dist_interface;
  std::string dist_backend = "auto";
  bool sync_batch_norm = false;
  int launch_ready_fd = -1;  // set by `dissect launch`: one byte written here once this rank joined its group
};

// Tells `dissect launch` that this rank joined its group: a rank failing before every rank did stops the others at
// once, since the group can no longer form.
void SignalJoined(int fd) {
  if (fd < 0) return;
  const char byte = 'j';
  [[maybe_unused]] const ssize_t written = ::write(fd, &byte, 1);
  ::close(fd);
}

int RunTrain(const TrainCommandFlags& f) {
  if (f.resume && f.out.empty()) throw std::invalid_argument("--resume needs --out DIR (the run's folder)");
  train::TrainOptions options = BuildTrainOptions(f);
  options.checkpoint_every = f.checkpoint_every;
  if (!f.out.empty()) options.checkpoint_path = fs::path(f.out) / "checkpoint.pt";
  options.resume = f.resume;
  options.sync_batch_norm = f.sync_batch_norm;
  train::DistributedOptions distributed;
  distributed.world_size = f.world_size;
  distributed.rank = f.rank;
  train::ParseMaster(f.master, &distributed);
  distributed.timeout_seconds = f.dist_timeout;
  distributed.network_interface = f.dist_interface;
  distributed.backend = f.dist_backend;
  distributed.Validate();
  if (f.batch_size % f.world_size != 0) {
    throw std::invalid_argument(
        fmt::format("--batch-size {} is not divisible by --world-size {}", f.batch_size, f.world_size));
  }
  options.Validate();
  const torch::Device device = train::ResolveDevice(options.device);
  // Rank 0 writes the run's files and prints the report; the other ranks compute and stay quiet.
  const bool lead = f.rank == 0;
  const bool has_out = !f.out.empty() && lead;
  const fs::path dir(f.out);
  if (has_out && f.resume) {
    if (!fs::exists(dir / "checkpoint.pt")) {
      throw std::runtime_error(fmt::format("cannot resume: '{}' holds no checkpoint.pt", dir.string()));
    }
  } else if (has_out) {
    PrepareOutputDirectory(dir, f.force);
  }

  ProgressLine progress(lead);
  progress.Update("train: reading " + f.data + (f.data_dir.empty() ? "" : " from " + f.data_dir));
  const train::DataSplit data = LoadTrainingData(f);
  {
    // A lower bound: each rank's batch as gathered (uint8) and as float32, before any layer's activations.
    const double local_batch = static_cast<double>(options.batch_size) / std::max<std::int64_t>(1, f.world_size);
    const double image_values = static_cast<double>(data.train.ImageSize());
    RequireMemory("train",
                  local_batch * image_values * (sizeof(std::uint8_t) + sizeof(float)),
                  fmt::format("at least: a batch of {:.0f} images of {} x {} x {} values, as uint8 and as float32",
                              local_batch,
                              data.train.channels,
                              data.train.height,
                              data.train.width));
  }
  if (f.world_size > 1) {
    progress.Update(fmt::format("train: rank {} of {} joining the group at {}", f.rank, f.world_size, f.master));
    options.communicator = train::Communicator::Create(distributed, device);
  }
  SignalJoined(f.launch_ready_fd);
  nlohmann::ordered_json run = TrainRunJson(f, options, data);
  run["world_size"] = f.world_size;
  run["sync_batch_norm"] = f.sync_batch_norm;
  run["distributed_backend"] = options.communicator ? options.communicator->backend() : "none";
  if (has_out && !f.resume) WriteTextFileAtomic(dir / "meta.json", MetaJson(f.seed).dump(1) + "\n");

  train::TrainCallbacks callbacks;
  callbacks.on_step = [&](const train::TrainProgress& p) {
    const auto left = static_cast<long long>(p.seconds_left);
    progress.Update(fmt::format("train: step {}/{}  loss {:.4f}  lr {:.3g}  {:.1f} it/s  {:.0f} img/s  {}:{:02d} left",
                                p.iteration,
                                p.iterations,
                                p.loss,
                                p.learning_rate,
                                p.images_per_second / static_cast<double>(f.batch_size),
                                p.images_per_second,
                                left / 60,
                                left % 60));
    return StopOnSignal::Requested() != 0;
  };
  callbacks.on_evaluation = [&](const std::vector<train::EvaluationRecord>& history) {
    if (has_out) WriteMetrics(dir, run, history, "running");
    return false;
  };

  // SIGINT and SIGTERM end the run after the current step with a checkpoint and the log written (--resume goes on).
  train::TrainResult result;
  {
    StopOnSignal stop_on_signal;
    result = train::Train(options, data, callbacks);
  }
  progress.Finish();

  if (has_out) {
    WriteMetrics(dir, run, result.history, result.status);
    if (!f.no_export && result.embeddings.train.defined()) train::ExportEmbeddings(result.embeddings, dir);
  }

  Report report;
  report.Add("status", result.status);
  report.Add("message", result.message);
  report.Add("data", f.data);
  report.Add("encoder", result.encoder);
  report.Add("loss", f.loss);
  report.Add("device", result.device);
  report.Add("threads", static_cast<long long>(result.threads));
  report.Add("world_size", static_cast<long long>(f.world_size));
  report.Add("iterations_done", static_cast<long long>(result.iterations_done));
  report.Add("resumed_from", static_cast<long long>(result.resumed_from));
  report.Add("train_images_per_second", result.images_per_second);
  if (!result.history.empty()) {
    for (const auto& [name, value] : result.history.back().Columns()) report.Add(name, value);
    // The SC estimate's draws, for `dissect geometry --seed S --batches M --batch-size b` on the exported embeddings.
    if (options.loss.kind == train::LossKind::kSupCon) {
      report.Add("supcon_estimate_seed",
                 std::to_string(train::SupConEstimateSeed(options.seed,
                                                          static_cast<std::int64_t>(result.history.back().iteration))),
                 "dissect geometry --seed of the same batches");
    }
  }
  report.AddJson("run", run);
  if (lead) report.Print(f.json, std::cout);
  if (result.status == "cancelled") {
    // A signal to one rank stops every rank; those that received none report the stop as rank 0's.
    const int signal = StopOnSignal::Requested() != 0 ? StopOnSignal::Requested() : 2;
    if (lead) {
      std::cerr << "train: stopped by signal " << signal
                << (has_out ? "; continue with the same command and --resume" : "") << '\n';
    }
    return 128 + signal;
  }
  return result.status == "completed" ? 0 : 1;
}

}  // namespace

std::vector<Command> RegisterTrainCommand(CLI::App& app) {
  auto f = std::make_shared<TrainCommandFlags>();
  CLI::App* cmd =
      app.add_subcommand("train", "Train an encoder with CE, CE-fix, CE-sphere or SC; evaluate, checkpoint, export");
  AddTrainFlags(cmd, f.get(), /*with_loss=*/true);
  cmd->add_option("--checkpoint-every", f->checkpoint_every, "Checkpoint every N steps (0: only at the end)")
      ->capture_default_str();
  cmd->add_option(
      "--out", f->out, "Write meta.json, metrics.csv, metrics.json, checkpoint.pt and the embeddings (.npy)");
  cmd->add_flag("--force", f->force, "Allow --out into a folder that already holds files");
  cmd->add_flag("--resume", f->resume, "Continue the run in --out from its checkpoint");
  cmd->add_flag("--no-export", f->no_export, "Do not write the embeddings");
  cmd->add_flag("--json", f->json, "Print one JSON object");
  cmd->add_option("--world-size", f->world_size, "Data-parallel processes W (c10d; the batch is split over them)")
      ->check(CLI::Range(1, 1 << 16))
      ->capture_default_str();
  cmd->add_option("--rank", f->rank, "This process's rank in [0, W); rank 0 writes the files")->capture_default_str();
  cmd->add_option("--master", f->master, "HOST:PORT of rank 0's rendezvous store")->capture_default_str();
  cmd->add_option("--dist-timeout", f->dist_timeout, "Seconds a rank waits for the others before failing (> 0)")
      ->capture_default_str();
  cmd->add_option(
      "--dist-interface", f->dist_interface, "Network interface for Gloo (e.g. eth0; default: by --master)");
  cmd->add_option("--dist-backend", f->dist_backend, "auto (NCCL on CUDA, else Gloo), gloo or nccl")
      ->check(CLI::IsMember({"auto", "gloo", "nccl"}))
      ->capture_default_str();
  cmd->add_flag("--sync-batch-norm", f->sync_batch_norm, "Batch-norm statistics over the global batch (all ranks)");
  // Not for users: `dissect launch` passes the write end of its pipe (an empty group hides it from --help).
  cmd->add_option("--launch-ready-fd", f->launch_ready_fd)->group("");
  return {{cmd, [f] { return RunTrain(*f); }}};
}

}  // namespace dissect::cli
