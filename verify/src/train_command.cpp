// `dissect train`: trains an encoder with CE, CE-fix, CE-sphere or SC on real images (THEORY.md, Experiments of the
// paper), evaluates it as it goes, checkpoints it, resumes it, and exports its representations.

#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "commands.hpp"
#include "dissect/train/trainer.hpp"
#include "output.hpp"
#include "output_files.hpp"
#include "progress.hpp"

namespace dissect::cli {
namespace {

namespace fs = std::filesystem;

struct TrainFlags {
  std::string data = "fashion-mnist";
  std::string data_dir;
  std::int64_t train_limit = 0;
  std::int64_t test_limit = 0;
  std::string model = "mlp";
  std::int64_t dim = 0;
  std::int64_t hidden = 256;
  bool final_linear = false;
  std::string loss = "ce";
  double temperature = 0.1;
  std::int64_t iterations = 1000;
  std::int64_t batch_size = 256;
  double learning_rate = 0.1;
  double momentum = 0.9;
  double weight_decay = 1e-4;
  std::string schedule = "poly5";
  std::string sampling = "iid";
  std::string augment = "none";
  std::uint64_t seed = 0;
  std::int64_t eval_every = 0;
  std::int64_t checkpoint_every = 0;
  std::int64_t probe_iterations = 5000;
  std::int64_t supcon_eval_batches = 32;
  std::string device = "auto";
  int threads = 0;
  std::string out;
  bool force = false;
  bool resume = false;
  bool no_export = false;
  bool json = false;
};

std::atomic<int> g_stop_signal{0};

extern "C" void RequestStop(int signal) { g_stop_signal = signal; }

// The first `limit` images of a set (all when limit is 0 or larger than the set).
train::ImageSet TakeFirst(train::ImageSet set, std::int64_t limit) {
  if (limit <= 0 || limit >= set.num_images) return set;
  set.num_images = limit;
  set.pixels.resize(static_cast<std::size_t>(limit * set.ImageSize()));
  set.labels.resize(static_cast<std::size_t>(limit));
  set.name += fmt::format("[:{}]", limit);
  return set;
}

train::TrainOptions BuildOptions(const TrainFlags& f) {
  train::TrainOptions o;
  o.encoder.architecture = train::ParseArchitecture(f.model);
  o.encoder.dim = f.dim > 0 ? f.dim : train::DefaultDim(o.encoder.architecture);
  o.encoder.hidden = f.hidden;
  o.encoder.final_linear = f.final_linear;
  o.loss.kind = train::ParseLossKind(f.loss);
  o.loss.temperature = f.temperature;
  o.iterations = f.iterations;
  o.batch_size = f.batch_size;
  o.learning_rate = f.learning_rate;
  o.momentum = f.momentum;
  o.weight_decay = f.weight_decay;
  o.schedule = train::ParseSchedule(f.schedule);
  o.sampling = train::ParseBatchSampling(f.sampling);
  o.augmentation = train::ParseAugmentation(f.augment);
  o.seed = f.seed;
  o.eval_every = f.eval_every;
  o.checkpoint_every = f.checkpoint_every;
  o.probe.iterations = f.probe_iterations;
  o.supcon_eval_batches = f.supcon_eval_batches;
  o.device = f.device;
  o.threads = f.threads;
  if (!f.out.empty()) o.checkpoint_path = fs::path(f.out) / "checkpoint.pt";
  o.resume = f.resume;
  return o;
}

nlohmann::ordered_json RecordJson(const train::EvaluationRecord& record) {
  nlohmann::ordered_json row = nlohmann::ordered_json::object();
  for (const auto& [name, value] : record.Columns()) {
    row[name] = std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
  }
  return row;
}

nlohmann::ordered_json RunJson(const TrainFlags& f, const train::TrainOptions& o, const train::DataSplit& data) {
  return {{"data", f.data},
          {"train_images", data.train.num_images},
          {"test_images", data.test.num_images},
          {"num_classes", data.train.num_classes},
          {"encoder", [&] {
             train::EncoderOptions e = o.encoder;
             e.channels = data.train.channels;
             e.height = data.train.height;
             e.width = data.train.width;
             return e.Describe();
           }()},
          {"loss", f.loss},
          {"temperature", o.loss.kind == train::LossKind::kSupCon ? nlohmann::ordered_json(f.temperature) : nullptr},
          {"iterations", o.iterations},
          {"batch_size", o.batch_size},
          {"learning_rate", o.learning_rate},
          {"momentum", o.momentum},
          {"weight_decay", o.weight_decay},
          {"schedule", f.schedule},
          {"sampling", f.sampling},
          {"augmentation", f.augment},
          {"seed", o.seed},
          {"probe_iterations", o.probe.iterations}};
}

void WriteMetrics(const fs::path& dir,
                  const nlohmann::ordered_json& run,
                  const std::vector<train::EvaluationRecord>& history,
                  const std::string& status) {
  std::vector<std::string> header;
  for (const auto& [name, value] : train::EvaluationRecord().Columns()) header.push_back(name);
  std::vector<std::vector<double>> rows;
  nlohmann::ordered_json records = nlohmann::ordered_json::array();
  for (const auto& record : history) {
    std::vector<double> row;
    for (const auto& [name, value] : record.Columns()) row.push_back(value);
    rows.push_back(row);
    records.push_back(RecordJson(record));
  }
  WriteTextFileAtomic(dir / "metrics.csv", CsvTable(header, rows));
  nlohmann::ordered_json json = {{"status", status}, {"run", run}, {"history", records}};
  WriteTextFileAtomic(dir / "metrics.json", json.dump(1) + "\n");
}

int RunTrain(const TrainFlags& f) {
  if (f.resume && f.out.empty()) throw std::invalid_argument("--resume needs --out DIR (the run's folder)");
  train::TrainOptions options = BuildOptions(f);
  options.Validate();
  train::ResolveDevice(options.device);
  const bool has_out = !f.out.empty();
  const fs::path dir(f.out);
  if (has_out && f.resume) {
    if (!fs::exists(dir / "checkpoint.pt")) {
      throw std::runtime_error(fmt::format("cannot resume: '{}' holds no checkpoint.pt", dir.string()));
    }
  } else if (has_out) {
    PrepareOutputDirectory(dir, f.force);
  }

  ProgressLine progress;
  progress.Update("train: reading " + f.data + (f.data_dir.empty() ? "" : " from " + f.data_dir));
  train::DataSplit data = train::LoadDataset(f.data, f.data_dir);
  data.train = TakeFirst(std::move(data.train), f.train_limit);
  data.test = TakeFirst(std::move(data.test), f.test_limit);
  const nlohmann::ordered_json run = RunJson(f, options, data);
  if (has_out && !f.resume) WriteTextFileAtomic(dir / "meta.json", MetaJson(f.seed).dump(1) + "\n");

  train::TrainCallbacks callbacks;
  callbacks.on_step = [&](const train::TrainProgress& p) {
    const auto left = static_cast<long long>(p.seconds_left);
    progress.Update(fmt::format("train: step {}/{}  loss {:.4f}  lr {:.3g}  {:.1f} it/s  {:.0f} img/s  {}:{:02d} left",
                                p.iteration, p.iterations, p.loss, p.learning_rate,
                                p.images_per_second / static_cast<double>(f.batch_size), p.images_per_second,
                                left / 60, left % 60));
    return g_stop_signal.load() != 0;
  };
  callbacks.on_evaluation = [&](const std::vector<train::EvaluationRecord>& history) {
    if (has_out) WriteMetrics(dir, run, history, "running");
  };

  // SIGINT and SIGTERM end the run after the current step with a checkpoint and the log written (--resume goes on).
  g_stop_signal = 0;
  auto previous_int = std::signal(SIGINT, RequestStop);
  auto previous_term = std::signal(SIGTERM, RequestStop);
  train::TrainResult result;
  try {
    result = train::Train(options, data, callbacks);
  } catch (...) {
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
    throw;
  }
  std::signal(SIGINT, previous_int);
  std::signal(SIGTERM, previous_term);
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
  report.Add("iterations_done", static_cast<long long>(result.iterations_done));
  report.Add("resumed_from", static_cast<long long>(result.resumed_from));
  report.Add("train_images_per_second", result.images_per_second);
  if (!result.history.empty()) {
    for (const auto& [name, value] : result.history.back().Columns()) report.Add(name, value);
  }
  report.AddJson("run", run);
  report.Print(f.json, std::cout);
  if (result.status == "cancelled") {
    std::cerr << "train: stopped by signal " << g_stop_signal.load()
              << (has_out ? "; continue with the same command and --resume" : "") << '\n';
    return 128 + g_stop_signal.load();
  }
  return result.status == "completed" ? 0 : 1;
}

}  // namespace

std::vector<Command> RegisterTrainCommand(CLI::App& app) {
  auto f = std::make_shared<TrainFlags>();
  CLI::App* cmd = app.add_subcommand("train", "Train an encoder with CE, CE-fix, CE-sphere or SC; evaluate, checkpoint, export");
  cmd->add_option("--data", f->data, "fashion-mnist, mnist, cifar10 or cifar100")
      ->check(CLI::IsMember(train::DatasetNames()))
      ->capture_default_str();
  cmd->add_option("--data-dir", f->data_dir, "Folder of the data files (default for fashion-mnist: Debian's package)");
  cmd->add_option("--train-limit", f->train_limit, "Use the first N training images (0: all)")->capture_default_str();
  cmd->add_option("--test-limit", f->test_limit, "Use the first N test images (0: all)")->capture_default_str();
  cmd->add_option("--model", f->model, "mlp, cnn or resnet18")->check(CLI::IsMember({"mlp", "cnn", "resnet18"}))->capture_default_str();
  cmd->add_option("--dim", f->dim, "Representation dimension h (default 128; resnet18: 512)");
  cmd->add_option("--hidden", f->hidden, "Hidden width of the MLP")->capture_default_str();
  cmd->add_flag("--final-linear", f->final_linear, "Append a linear layer h -> h (features may be negative)");
  cmd->add_option("--loss", f->loss, "ce, ce-fix, ce-sphere or supcon")
      ->check(CLI::IsMember({"ce", "ce-fix", "ce-sphere", "supcon"}))
      ->capture_default_str();
  cmd->add_option("--temperature", f->temperature, "SC temperature tau (features on the unit sphere)")->capture_default_str();
  cmd->add_option("--iterations", f->iterations, "SGD steps T")->capture_default_str();
  cmd->add_option("--batch-size", f->batch_size, "Batch size b")->capture_default_str();
  cmd->add_option("--lr", f->learning_rate, "Base learning rate lr0")->capture_default_str();
  cmd->add_option("--momentum", f->momentum, "SGD momentum")->capture_default_str();
  cmd->add_option("--weight-decay", f->weight_decay, "SGD weight decay")->capture_default_str();
  cmd->add_option("--schedule", f->schedule, "poly5, cosine or constant")
      ->check(CLI::IsMember({"poly5", "cosine", "constant"}))
      ->capture_default_str();
  cmd->add_option("--sampling", f->sampling, "iid (with replacement, the paper) or epochs (shuffled)")
      ->check(CLI::IsMember({"iid", "epochs"}))
      ->capture_default_str();
  cmd->add_option("--augment", f->augment, "none or crop+flip")->check(CLI::IsMember({"none", "crop+flip"}))->capture_default_str();
  cmd->add_option("--seed", f->seed, "Seed of initialization, batches, augmentation, probe")->capture_default_str();
  cmd->add_option("--eval-every", f->eval_every, "Evaluate every N steps (0: only at the end)")->capture_default_str();
  cmd->add_option("--checkpoint-every", f->checkpoint_every, "Checkpoint every N steps (0: only at the end)")->capture_default_str();
  cmd->add_option("--probe-iterations", f->probe_iterations, "Batches of the retrained linear probe (0: off)")->capture_default_str();
  cmd->add_option("--supcon-eval-batches", f->supcon_eval_batches, "i.i.d. batches of the SC loss estimate")->capture_default_str();
  cmd->add_option("--device", f->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", f->threads, "CPU threads (0: all cores)")->capture_default_str();
  cmd->add_option("--out", f->out, "Write meta.json, metrics.csv, metrics.json, checkpoint.pt and the embeddings (.npy)");
  cmd->add_flag("--force", f->force, "Allow --out into a folder that already holds files");
  cmd->add_flag("--resume", f->resume, "Continue the run in --out from its checkpoint");
  cmd->add_flag("--no-export", f->no_export, "Do not write the embeddings");
  cmd->add_flag("--json", f->json, "Print one JSON object");
  return {{cmd, [f] { return RunTrain(*f); }}};
}

}  // namespace dissect::cli
