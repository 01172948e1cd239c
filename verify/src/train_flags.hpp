#pragma once
// The flags that `dissect train` and `dissect noise` share: data, model, loss, optimizer, evaluation, device.

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dissect/train/trainer.hpp"
#include "stop_signal.hpp"

namespace dissect::cli {

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
  std::string supcon_algorithm = "auto";
  double supcon_memory_mb = 256.0;
  std::int64_t iterations = 1000;
  std::int64_t batch_size = 256;
  double learning_rate = 0.1;
  double momentum = 0.9;
  double weight_decay = 1e-4;
  std::string schedule = "poly5";
  std::int64_t schedule_horizon = 0;
  std::string sampling = "iid";
  std::string augment = "none";
  std::uint64_t seed = 0;
  std::int64_t eval_every = 0;
  std::int64_t probe_iterations = 5000;
  std::int64_t supcon_eval_batches = 32;
  std::string device = "auto";
  int threads = 0;
  std::string precision = "float32";
  bool channels_last = false;
};

// Adds the shared flags to `command` (all but --loss when `with_loss` is false). Returns the options by flag name
// ("--iterations" ...) so that a caller can tell which ones the user gave.
std::map<std::string, CLI::Option*> AddTrainFlags(CLI::App* command, TrainFlags* flags, bool with_loss);

// The library options of the flags (checkpoint path and resume are left to the caller).
train::TrainOptions BuildTrainOptions(const TrainFlags& flags);

// Reads the data set of the flags, keeping the first --train-limit / --test-limit images.
train::DataSplit LoadTrainingData(const TrainFlags& flags);

// The settings of a run as JSON, for metrics.json and the report.
nlohmann::ordered_json TrainRunJson(const TrainFlags& flags,
                                    const train::TrainOptions& options,
                                    const train::DataSplit& data);

// A record as a JSON object (NaN as null).
nlohmann::ordered_json EvaluationRecordJson(const train::EvaluationRecord& record);

// Writes DIR/BASENAME.csv (one row per record) and DIR/BASENAME.json ({status, run, history}), each atomically.
void WriteMetrics(const std::filesystem::path& dir,
                  const nlohmann::ordered_json& run,
                  const std::vector<train::EvaluationRecord>& history,
                  const std::string& status,
                  const std::string& basename = "metrics");

}  // namespace dissect::cli
