#include "train_flags.hpp"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "output_files.hpp"

namespace dissect::cli {
namespace {

// The first `limit` images of a set (all when limit is 0 or larger than the set).
train::ImageSet TakeFirst(train::ImageSet set, std::int64_t limit) {
  if (limit <= 0 || limit >= set.num_images) return set;
  set.num_images = limit;
  set.pixels.resize(static_cast<std::size_t>(limit * set.ImageSize()));
  set.labels.resize(static_cast<std::size_t>(limit));
  set.name += fmt::format("[:{}]", limit);
  return set;
}

// A positive, finite number (CLI::PositiveNumber's own message quotes DBL_MAX in full as the range).
const CLI::Validator kPositive(
    [](std::string& text) {
      std::size_t used = 0;
      double value = std::nan("");
      try {
        value = std::stod(text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      return used == text.size() && std::isfinite(value) && value > 0.0
                 ? std::string()
                 : fmt::format("expected a positive number, got '{}'", text);
    },
    "> 0");

}  // namespace

std::map<std::string, CLI::Option*> AddTrainFlags(CLI::App* command, TrainFlags* flags, bool with_loss) {
  command->add_option("--data", flags->data, "fashion-mnist, mnist, cifar10 or cifar100")
      ->check(CLI::IsMember(train::DatasetNames()))
      ->capture_default_str();
  command->add_option(
      "--data-dir", flags->data_dir, "Folder of the data files (default for fashion-mnist: Debian's package)");
  command->add_option("--train-limit", flags->train_limit, "Use the first N training images (0: all)")
      ->capture_default_str();
  command->add_option("--test-limit", flags->test_limit, "Use the first N test images (0: all)")->capture_default_str();
  command->add_option("--model", flags->model, "mlp, cnn or resnet18")
      ->check(CLI::IsMember(theory::NamesOf(train::kArchitectureNames)))
      ->capture_default_str();
  command->add_option("--dim", flags->dim, "Representation dimension h (default 128; resnet18: 512)");
  command->add_option("--hidden", flags->hidden, "Hidden width of the MLP")->capture_default_str();
  command->add_flag("--final-linear", flags->final_linear, "Append a linear layer h -> h (features may be negative)");
  if (with_loss) {
    command->add_option("--loss", flags->loss, "ce, ce-fix, ce-sphere or supcon")
        ->check(CLI::IsMember(theory::NamesOf(train::kLossKindNames)))
        ->capture_default_str();
  }
  command->add_option("--temperature", flags->temperature, "SC temperature tau (features on the unit sphere)")
      ->capture_default_str();
  command
      ->add_option(
          "--supcon-algorithm", flags->supcon_algorithm, "SC loss: dense, tiled (exact, bounded memory) or auto")
      ->check(CLI::IsMember(theory::NamesOf(train::kSupConAlgorithmNames)))
      ->capture_default_str();
  command
      ->add_option(
          "--supcon-memory-mb", flags->supcon_memory_mb, "Memory for the SC loss's similarity matrices or tile")
      ->check(kPositive)
      ->capture_default_str();
  command->add_option("--iterations", flags->iterations, "SGD steps T")->capture_default_str();
  command->add_option("--batch-size", flags->batch_size, "Batch size b")->capture_default_str();
  command->add_option("--lr", flags->learning_rate, "Base learning rate lr0")->capture_default_str();
  command->add_option("--momentum", flags->momentum, "SGD momentum")->capture_default_str();
  command->add_option("--weight-decay", flags->weight_decay, "SGD weight decay")->capture_default_str();
  command->add_option("--schedule", flags->schedule, "poly5, cosine or constant")
      ->check(CLI::IsMember(theory::NamesOf(train::kScheduleNames)))
      ->capture_default_str();
  command
      ->add_option("--schedule-horizon",
                   flags->schedule_horizon,
                   "T of the schedule, >= --iterations (0: --iterations): the first steps of a longer schedule")
      ->capture_default_str();
  command->add_option("--sampling", flags->sampling, "iid (with replacement, the paper) or epochs (shuffled)")
      ->check(CLI::IsMember(theory::NamesOf(train::kBatchSamplingNames)))
      ->capture_default_str();
  command->add_option("--augment", flags->augment, "none or crop+flip")
      ->check(CLI::IsMember(theory::NamesOf(train::kAugmentationNames)))
      ->capture_default_str();
  command->add_option("--seed", flags->seed, "Seed of initialization, batches, augmentation, probe")
      ->capture_default_str();
  command->add_option("--eval-every", flags->eval_every, "Evaluate every N steps (0: only at the end)")
      ->capture_default_str();
  command->add_option("--probe-iterations", flags->probe_iterations, "Batches of the retrained linear probe (0: off)")
      ->capture_default_str();
  command->add_option("--supcon-eval-batches", flags->supcon_eval_batches, "i.i.d. batches of the SC loss estimate")
      ->capture_default_str();
  command->add_option("--device", flags->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  command->add_option("--threads", flags->threads, "CPU threads (0: all cores)")->capture_default_str();
  command->add_option("--precision", flags->precision, "float32, or bf16 (autocast of the encoder's forward; for CUDA)")
      ->check(CLI::IsMember(theory::NamesOf(train::kPrecisionNames)))
      ->capture_default_str();
  command->add_flag("--channels-last", flags->channels_last, "Convolutions in channels-last order (NHWC; for CUDA)");
  std::map<std::string, CLI::Option*> options;
  for (CLI::Option* option : command->get_options()) {
    for (const std::string& name : option->get_lnames()) options["--" + name] = option;
  }
  return options;
}

train::TrainOptions BuildTrainOptions(const TrainFlags& f) {
  train::TrainOptions o;
  o.encoder.architecture = train::ParseArchitecture(f.model);
  o.encoder.dim = f.dim > 0 ? f.dim : train::DefaultDim(o.encoder.architecture);
  o.encoder.hidden = f.hidden;
  o.encoder.final_linear = f.final_linear;
  o.loss.kind = train::ParseLossKind(f.loss);
  o.loss.temperature = f.temperature;
  o.loss.supcon_algorithm = train::ParseSupConAlgorithm(f.supcon_algorithm);
  o.loss.supcon_memory_budget_bytes = f.supcon_memory_mb * 1024.0 * 1024.0;
  o.iterations = f.iterations;
  o.batch_size = f.batch_size;
  o.learning_rate = f.learning_rate;
  o.momentum = f.momentum;
  o.weight_decay = f.weight_decay;
  o.schedule = train::ParseSchedule(f.schedule);
  o.schedule_horizon = f.schedule_horizon;
  o.sampling = train::ParseBatchSampling(f.sampling);
  o.augmentation = train::ParseAugmentation(f.augment);
  o.seed = f.seed;
  o.eval_every = f.eval_every;
  o.probe.iterations = f.probe_iterations;
  o.supcon_eval_batches = f.supcon_eval_batches;
  o.device = f.device;
  o.threads = f.threads;
  o.precision = train::ParsePrecision(f.precision);
  o.channels_last = f.channels_last;
  return o;
}

train::DataSplit LoadTrainingData(const TrainFlags& f) {
  train::DataSplit data = train::LoadDataset(f.data, f.data_dir);
  data.train = TakeFirst(std::move(data.train), f.train_limit);
  data.test = TakeFirst(std::move(data.test), f.test_limit);
  return data;
}

nlohmann::ordered_json TrainRunJson(const TrainFlags& f, const train::TrainOptions& o, const train::DataSplit& data) {
  return {{"data", f.data},
          {"train_images", data.train.num_images},
          {"test_images", data.test.num_images},
          {"num_classes", data.train.num_classes},
          {"encoder",
           [&] {
             train::EncoderOptions e = o.encoder;
             e.channels = data.train.channels;
             e.height = data.train.height;
             e.width = data.train.width;
             return e.Describe();
           }()},
          {"loss", f.loss},
          {"temperature", o.loss.kind == train::LossKind::kSupCon ? nlohmann::ordered_json(f.temperature) : nullptr},
          {"supcon_algorithm",
           o.loss.kind == train::LossKind::kSupCon ? nlohmann::ordered_json(f.supcon_algorithm) : nullptr},
          {"iterations", o.iterations},
          {"batch_size", o.batch_size},
          {"learning_rate", o.learning_rate},
          {"momentum", o.momentum},
          {"weight_decay", o.weight_decay},
          {"schedule", f.schedule},
          {"schedule_horizon", o.ScheduleHorizon()},
          {"sampling", f.sampling},
          {"augmentation", f.augment},
          {"seed", o.seed},
          {"probe_iterations", o.probe.iterations}};
}

nlohmann::ordered_json EvaluationRecordJson(const train::EvaluationRecord& record) {
  nlohmann::ordered_json row = nlohmann::ordered_json::object();
  for (const auto& [name, value] : record.Columns()) {
    row[name] = std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
  }
  return row;
}

void WriteMetrics(const std::filesystem::path& dir,
                  const nlohmann::ordered_json& run,
                  const std::vector<train::EvaluationRecord>& history,
                  const std::string& status,
                  const std::string& basename) {
  std::vector<std::string> header;
  for (const auto& [name, value] : train::EvaluationRecord().Columns()) header.push_back(name);
  std::vector<std::vector<double>> rows;
  nlohmann::ordered_json records = nlohmann::ordered_json::array();
  for (const auto& record : history) {
    std::vector<double> row;
    for (const auto& [name, value] : record.Columns()) row.push_back(value);
    rows.push_back(row);
    records.push_back(EvaluationRecordJson(record));
  }
  WriteTextFileAtomic(dir / (basename + ".csv"), CsvTable(header, rows));
  nlohmann::ordered_json json = {{"status", status}, {"run", run}, {"history", records}};
  WriteTextFileAtomic(dir / (basename + ".json"), json.dump(1) + "\n");
}

}  // namespace dissect::cli
