#include "dissect/train/trainer.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "dissect/theory/atomic_file.hpp"
#include "dissect/theory/check.hpp"
#include "dissect/theory/learning_rate_schedule.hpp"
#include "dissect/theory/npy.hpp"
#include "dissect/train/data_parallel.hpp"
#include "dissect/train/sync_batch_norm.hpp"
#include "dissect/train/tensor_bridge.hpp"
#include "torch_compat.hpp"

namespace dissect::train {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kCheckpointVersion = 1;

// Train() sets LibTorch's intra-op thread count and seeds its default generators (the encoder's initialization draws
// from them; LibTorch offers no other way). Both are process-wide: this guard gives them back as they were, so a
// caller's own torch code sees no change after Train() returns or throws.
class TorchGlobalsGuard {
 public:
  TorchGlobalsGuard() : threads_(torch::get_num_threads()) {
    for (const at::Device& device : Devices()) {
      at::Generator generator = at::globalContext().defaultGenerator(device);
      std::lock_guard<std::mutex> lock(generator.mutex());
      states_.push_back(generator.get_state());
    }
  }
  ~TorchGlobalsGuard() {
    torch::set_num_threads(threads_);
    const std::vector<at::Device> devices = Devices();
    for (std::size_t i = 0; i < devices.size() && i < states_.size(); ++i) {
      at::Generator generator = at::globalContext().defaultGenerator(devices[i]);
      std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(states_[i]);
    }
  }
  TorchGlobalsGuard(const TorchGlobalsGuard&) = delete;
  TorchGlobalsGuard& operator=(const TorchGlobalsGuard&) = delete;

 private:
  // The generators torch::manual_seed seeds: the CPU's and, where CUDA is built in and present, each GPU's.
  static std::vector<at::Device> Devices() {
    std::vector<at::Device> devices = {at::Device(at::kCPU)};
    const int gpus = at::hasCUDA() ? static_cast<int>(at::detail::getCUDAHooks().getNumGPUs()) : 0;
    for (int i = 0; i < gpus; ++i) devices.emplace_back(at::kCUDA, static_cast<c10::DeviceIndex>(i));
    return devices;
  }

  int threads_;
  std::vector<at::Tensor> states_;
};

// Independent streams from one seed (SplitMix64 finalizer), so that initialization, batches, augmentation, probe
// and SC estimate never share random numbers.
std::uint64_t DeriveSeed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Everything that shapes the trajectory: a checkpoint only resumes a run whose fingerprint is equal.
std::string Fingerprint(const TrainOptions& o, const DataSplit& data, const std::vector<std::int64_t>& train_labels) {
  std::uint64_t label_hash = 1469598103934665603ULL;  // FNV-1a over the training labels in use
  const auto& labels = train_labels.empty() ? data.train.labels : train_labels;
  for (const std::int64_t y : labels) label_hash = (label_hash ^ static_cast<std::uint64_t>(y)) * 1099511628211ULL;
  return fmt::format(
             "data={} n={} labels={:x} encoder='{}' loss={} tau={} T={} b={} lr={} momentum={} wd={} schedule={} "
             "sampling={} augmentation={} seed={} eval_every={} probe={}/{}/{}/{} supcon_eval_batches={}",
             data.train.name,
             data.train.num_images,
             label_hash,
             o.encoder.Describe(),
             ToString(o.loss.kind),
             o.loss.temperature,
             o.iterations,
             o.batch_size,
             o.learning_rate,
             o.momentum,
             o.weight_decay,
             ToString(o.schedule),
             ToString(o.sampling),
             ToString(o.augmentation),
             o.seed,
             o.eval_every,
             o.probe.iterations,
             o.probe.batch_size,
             o.probe.learning_rate,
             o.probe.weight_decay,
             o.supcon_eval_batches) +
         // Named only when not the default, so that checkpoints of runs before these options still resume.
         (o.precision != Precision::kFloat32 ? " precision=" + ToString(o.precision) : std::string()) +
         (o.channels_last ? std::string(" channels_last") : std::string()) +
         (o.schedule_horizon > 0 ? fmt::format(" horizon={}", o.schedule_horizon) : std::string());
}

// Convolution weights (4-D parameters) in channels-last order; other parameters are left as they are.
void ToChannelsLast(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (torch::Tensor& parameter : module.parameters()) {
    if (parameter.dim() == 4) parameter.set_data(parameter.contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

nlohmann::json HistoryToJson(const std::vector<EvaluationRecord>& history) {
  nlohmann::json rows = nlohmann::json::array();
  for (const EvaluationRecord& record : history) {
    nlohmann::json row = nlohmann::json::array();
    for (const auto& [name, value] : record.Columns()) {
      // JSON has no NaN: store it as null (nlohmann writes NaN as null too, but reads it back as null, not NaN).
      row.push_back({name, std::isnan(value) ? nlohmann::json(nullptr) : nlohmann::json(value)});
    }
    rows.push_back(row);
  }
  return rows;
}

std::vector<EvaluationRecord> HistoryFromJson(const nlohmann::json& rows) {
  std::vector<EvaluationRecord> history;
  for (const auto& row : rows) {
    std::vector<std::pair<std::string, double>> columns;
    for (const auto& entry : row) {
      columns.emplace_back(entry.at(0).get<std::string>(),
                           entry.at(1).is_null() ? EvaluationRecord::kNaN : entry.at(1).get<double>());
    }
    history.push_back(EvaluationRecord::FromColumns(columns));
  }
  return history;
}

// The mutable state of a run besides the weights and the optimizer.
struct RunState {
  std::int64_t iteration = 0;
  double loss_sum = 0.0;  // minibatch losses since the last evaluation
  std::int64_t loss_count = 0;
  double train_seconds = 0.0;
  std::vector<EvaluationRecord> history;
};

void SaveCheckpoint(const std::filesystem::path& path,
                    const std::string& fingerprint,
                    const RunState& state,
                    Encoder& encoder,
                    LossHead& head,
                    torch::optim::SGD& optimizer,
                    const BatchSampler& sampler,
                    const DataPipeline& pipeline) {
  nlohmann::json meta = {{"version", kCheckpointVersion},
                         {"fingerprint", fingerprint},
                         {"iteration", state.iteration},
                         {"loss_sum", state.loss_sum},
                         {"loss_count", state.loss_count},
                         {"train_seconds", state.train_seconds},
                         {"sampler", sampler.SaveState()},
                         {"augmentation", pipeline.SaveState()},
                         {"history", HistoryToJson(state.history)}};
  torch::serialize::OutputArchive archive, encoder_archive, head_archive, optimizer_archive;
  encoder->save(encoder_archive);
  head->save(head_archive);
  optimizer.save(optimizer_archive);
  archive.write("encoder", encoder_archive);
  archive.write("head", head_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("state", c10::IValue(meta.dump()));
  // Written next to the target and renamed over it: a run killed at any moment leaves the previous checkpoint or the
  // new one, never a half-written file.
  const std::string context = fmt::format("cannot write checkpoint '{}'", path.string());
  theory::WriteFileAtomically(path, context, [&](const std::filesystem::path& temporary) {
    try {
      archive.save_to(temporary.string());
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("{}: {}", context, e.what()));
    }
  });
}

// The checkpoint file's bytes (rank 0 reads them and sends them to the others, so only its machine needs the file).
std::string ReadCheckpointBytes(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error(fmt::format("cannot resume: no checkpoint '{}'", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw std::runtime_error(fmt::format("cannot read checkpoint '{}'", path.string()));
  return bytes;
}

RunState LoadCheckpoint(const std::filesystem::path& path,
                        const std::string& bytes,
                        const std::string& fingerprint,
                        torch::Device device,
                        Encoder& encoder,
                        LossHead& head,
                        torch::optim::SGD& optimizer,
                        BatchSampler& sampler,
                        DataPipeline& pipeline) {
  torch::serialize::InputArchive archive, encoder_archive, head_archive, optimizer_archive;
  c10::IValue meta_value;
  try {
    archive.load_from(bytes.data(), bytes.size(), device);
    archive.read("state", meta_value);
  } catch (const std::exception& e) {
    throw std::runtime_error(
        fmt::format("cannot read checkpoint '{}': not a dissect checkpoint or corrupt", path.string()));
  }
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(meta_value.toStringRef());
  } catch (const std::exception&) {
    throw std::runtime_error(fmt::format("cannot read checkpoint '{}': corrupt state", path.string()));
  }
  if (meta.value("version", 0) != kCheckpointVersion) {
    throw std::runtime_error(fmt::format(
        "checkpoint '{}' has version {}, expected {}", path.string(), meta.value("version", 0), kCheckpointVersion));
  }
  if (meta.value("fingerprint", std::string()) != fingerprint) {
    throw std::runtime_error(fmt::format("checkpoint '{}' is of another run:\n  checkpoint: {}\n  this run:   {}",
                                         path.string(),
                                         meta.value("fingerprint", std::string()),
                                         fingerprint));
  }
  try {
    archive.read("encoder", encoder_archive);
    archive.read("head", head_archive);
    archive.read("optimizer", optimizer_archive);
    encoder->load(encoder_archive);
    head->load(head_archive);
    optimizer.load(optimizer_archive);
    sampler.LoadState(meta.at("sampler").get<std::string>());
    pipeline.LoadState(meta.at("augmentation").get<std::string>());
    RunState state;
    state.iteration = meta.at("iteration").get<std::int64_t>();
    state.loss_sum = meta.at("loss_sum").get<double>();
    state.loss_count = meta.at("loss_count").get<std::int64_t>();
    state.train_seconds = meta.at("train_seconds").get<double>();
    state.history = HistoryFromJson(meta.at("history"));
    return state;
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("cannot read checkpoint '{}': {}", path.string(), e.what()));
  }
}

void RequireCompatible(const ImageSet& train, const ImageSet& test) {
  if (train.num_images < 1 || test.num_images < 1) {
    throw std::invalid_argument("Train(): expected non-empty train and test sets");
  }
  if (train.channels != test.channels || train.height != test.height || train.width != test.width ||
      train.num_classes != test.num_classes) {
    throw std::invalid_argument(
        fmt::format("Train(): train images {}x{}x{} ({} classes) and test images {}x{}x{} ({} classes) differ",
                    train.channels,
                    train.height,
                    train.width,
                    train.num_classes,
                    test.channels,
                    test.height,
                    test.width,
                    test.num_classes));
  }
}

}  // namespace

std::string ToString(Precision value) { return theory::NameOf(kPrecisionNames, value); }

Precision ParsePrecision(std::string_view name) {
  return theory::ParseName(kPrecisionNames, name, "ParsePrecision", "");
}

std::string ToString(Schedule value) { return theory::NameOf(kScheduleNames, value); }

Schedule ParseSchedule(std::string_view name) { return theory::ParseName(kScheduleNames, name, "ParseSchedule", ""); }

std::uint64_t SupConEstimateSeed(std::uint64_t seed, std::int64_t iteration) {
  return DeriveSeed(seed, 3) + static_cast<std::uint64_t>(iteration);
}

double LearningRate(Schedule schedule, double base_rate, std::int64_t iteration, std::int64_t iterations) {
  const double t = static_cast<double>(iteration) / static_cast<double>(iterations);
  switch (schedule) {
    case Schedule::kPoly5:
      return theory::Poly5LearningRate(base_rate, iteration, iterations);
    case Schedule::kCosine:
      return base_rate * 0.5 * (1.0 + std::cos(M_PI * t));
    case Schedule::kConstant:
      return base_rate;
  }
  return base_rate;
}

void TrainOptions::Validate() const {
  const char* where = "TrainOptions::Validate";
  theory::RequireAtLeast(where, "iterations", iterations, 1);
  theory::RequireAtLeast(where, "batch_size", batch_size, 1);
  theory::RequirePositive(where, "learning_rate", learning_rate);
  if (!(momentum >= 0.0 && momentum < 1.0)) {
    throw std::invalid_argument(fmt::format("{}(): expected momentum in [0, 1), got {}", where, momentum));
  }
  if (!(weight_decay >= 0.0) || !std::isfinite(weight_decay)) {
    throw std::invalid_argument(fmt::format("{}(): expected weight_decay >= 0, got {}", where, weight_decay));
  }
  theory::RequireAtLeast(where, "eval_every", eval_every, 0);
  if (schedule_horizon != 0 && schedule_horizon < iterations) {
    throw std::invalid_argument(fmt::format(
        "{}(): expected schedule_horizon 0 or >= iterations ({}), got {}", where, iterations, schedule_horizon));
  }
  theory::RequireAtLeast(where, "checkpoint_every", checkpoint_every, 0);
  theory::RequireAtLeast(where, "supcon_eval_batches", supcon_eval_batches, 1);
  theory::RequireAtLeast(where, "threads", threads, 0);
  if (loss.kind == LossKind::kSupCon) theory::RequireAtLeast(where, "batch_size (supcon)", batch_size, 2);
  if (communicator && batch_size % communicator->world_size() != 0) {
    throw std::invalid_argument(fmt::format("{}(): the batch size {} is not divisible by the world size {}",
                                            where,
                                            batch_size,
                                            communicator->world_size()));
  }
  if (resume && checkpoint_path.empty()) {
    throw std::invalid_argument(fmt::format("{}(): resume needs a checkpoint path", where));
  }
  probe.Validate();
  encoder.Validate();
}

torch::Device ResolveDevice(const std::string& device) {
  if (device == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  if (device == "cpu") return torch::Device(torch::kCPU);
  if (device.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw std::invalid_argument(fmt::format(
          "ResolveDevice(): device '{}' asked for, but this LibTorch build has no CUDA or no GPU is visible", device));
    }
    try {
      return torch::Device(device);
    } catch (const std::exception&) {
    }
  }
  throw std::invalid_argument(fmt::format("ResolveDevice(): expected auto, cpu, cuda or cuda:N, got '{}'", device));
}

namespace {

// The options completed from the data (image shape, classes, the simplex seed) and checked.
TrainOptions CompletedOptions(const TrainOptions& given, const DataSplit& data) {
  TrainOptions options = given;
  options.encoder.channels = data.train.channels;
  options.encoder.height = data.train.height;
  options.encoder.width = data.train.width;
  options.loss.num_classes = data.train.num_classes;
  options.loss.dim = options.encoder.dim;
  options.loss.simplex_seed = DeriveSeed(options.seed, 5);
  options.Validate();
  options.loss.Validate();
  return options;
}

// The encoder, initialized from the seed's own stream of LibTorch's default generator.
Encoder SeededEncoder(const TrainOptions& options) {
  torch::manual_seed(DeriveSeed(options.seed, 0));
  return Encoder(options.encoder);
}

// One training run: the model, its optimizer, the data and the run's state, set up in the order that fixes the
// random draws (the encoder first, then the head), then stepped until done, diverged, stopped or cancelled.
class TrainingRun {
 public:
  TrainingRun(const TrainOptions& options,
              const DataSplit& data,
              const TrainCallbacks& callbacks,
              const std::vector<std::int64_t>& train_labels,
              const torch::Device& device)
      : options_(options),
        callbacks_(callbacks),
        device_(device),
        communicator_(options.communicator ? options.communicator : Communicator::Single()),
        group_(*communicator_),
        distributed_(group_.distributed()),
        // Data parallel: every rank draws the same global batch and takes its rank's b / W images of it.
        local_batch_(options.batch_size / group_.world_size()),
        local_first_(group_.rank() * local_batch_),
        encoder_(SeededEncoder(options)),
        head_(options.loss),
        parameters_(MoveToDevice()),
        optimizer_(parameters_,
                   torch::optim::SGDOptions(options.learning_rate)
                       .momentum(options.momentum)
                       .weight_decay(options.weight_decay)),
        normalization_(ComputeNormalization(data.train)),
        train_data_(data.train, normalization_, options.augmentation, DeriveSeed(options.seed, 2), device),
        test_data_(data.test, normalization_, Augmentation::kNone, 0, device),
        sampler_(train_data_.size(), options.batch_size, options.sampling, DeriveSeed(options.seed, 1)),
        fingerprint_(Fingerprint(options, data, train_labels)) {
    if (!train_labels.empty()) train_data_.SetLabels(train_labels);
    evaluation_.loss = options.loss;
    evaluation_.batch_size = options.batch_size;
    evaluation_.supcon_batches = options.supcon_eval_batches;
    evaluation_.probe = options.probe;
    evaluation_.communicator = &group_;
    result_.device = device.str();
    result_.encoder = options.encoder.Describe();
  }

  TrainResult Run() {
    RequireRanksAgree();
    RestoreOrBroadcast();
    encoder_->train();
    first_iteration_ = state_.iteration;
    result_.status = "completed";
    while (state_.iteration < options_.iterations) {
      const auto step_start = Clock::now();
      const double learning_rate =
          LearningRate(options_.schedule, options_.learning_rate, state_.iteration, options_.ScheduleHorizon());
      const double loss_value = Step(learning_rate);
      if (!std::isfinite(loss_value)) {
        result_.status = "diverged";
        result_.message = fmt::format(
            "the loss of step {} is {}; the last checkpoint and the log are kept", state_.iteration + 1, loss_value);
        break;
      }
      if (AfterStep(loss_value, learning_rate, std::chrono::duration<double>(Clock::now() - step_start).count())) {
        break;
      }
    }
    if (result_.status == "completed") {
      result_.message = fmt::format("{} steps", options_.iterations);
      // Resumed after the last step (its export failed, say, on a full disk): the final model's embeddings for the
      // export, without a second evaluation record.
      if (!result_.embeddings.train.defined()) result_.embeddings = Embed();
    }
    result_.iterations_done = state_.iteration;
    result_.history = state_.history;
    result_.images_per_second =
        process_seconds_ > 0 ? (state_.iteration - first_iteration_) * options_.batch_size / process_seconds_ : 0.0;
    return std::move(result_);
  }

 private:
  // The model on its device (channels-last, batch norm synchronized where asked); returns the parameters to train.
  std::vector<torch::Tensor> MoveToDevice() {
    encoder_->to(device_);
    head_->to(device_);
    if (options_.channels_last) ToChannelsLast(*encoder_);
    if (options_.sync_batch_norm) SynchronizeBatchNorm(*encoder_, &group_);
    std::vector<torch::Tensor> parameters = encoder_->parameters();
    for (const torch::Tensor& p : head_->parameters()) parameters.push_back(p);
    return parameters;
  }

  // Every rank must run the same configuration on the same data (the labels included), all fresh or all resumed.
  void RequireRanksAgree() {
    if (!distributed_) return;
    const std::string own = fingerprint_ + (options_.resume ? " resume" : " fresh");
    const std::string root_fingerprint = group_.BroadcastBytes(own);
    if (group_.AnyTrue(root_fingerprint != own)) {
      throw std::invalid_argument(fmt::format(
          "Train(): the ranks run different configurations or data (options, data and labels must be equal):\n"
          "  rank 0: {}\n  rank {}: {}",
          root_fingerprint,
          group_.rank(),
          own));
    }
  }

  // Resumed: rank 0 reads the checkpoint (its machine alone needs the file) and sends it, or its error, to every
  // rank. Fresh: every rank starts from rank 0's initialization.
  void RestoreOrBroadcast() {
    if (!options_.resume) {
      BroadcastModule(*encoder_, group_);
      BroadcastModule(*head_, group_);
      return;
    }
    std::string bytes, error;
    if (group_.rank() == 0) {
      try {
        bytes = ReadCheckpointBytes(options_.checkpoint_path);
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    error = group_.BroadcastBytes(error);
    if (!error.empty()) throw std::runtime_error(error);
    bytes = group_.BroadcastBytes(bytes);
    state_ = LoadCheckpoint(
        options_.checkpoint_path, bytes, fingerprint_, device_, encoder_, head_, optimizer_, sampler_, train_data_);
    result_.resumed_from = state_.iteration;
  }

  // Rank 0 writes the checkpoint; the state is the same on every rank (batch-norm statistics averaged first), so
  // any world size that divides the batch resumes it.
  void Checkpoint() {
    if (options_.checkpoint_path.empty()) return;
    AverageBuffers(*encoder_, group_);
    if (group_.rank() == 0) {
      SaveCheckpoint(
          options_.checkpoint_path, fingerprint_, state_, encoder_, head_, optimizer_, sampler_, train_data_);
    }
  }

  Embeddings Embed() {
    AverageBuffers(*encoder_, group_);
    Embeddings embeddings;
    embeddings.train = EmbedSharded(encoder_, head_, train_data_, group_);
    embeddings.train_labels = train_data_.labels();
    embeddings.test = EmbedSharded(encoder_, head_, test_data_, group_);
    embeddings.test_labels = test_data_.labels();
    if (HasClassifier(options_.loss.kind)) embeddings.classifier = head_->classifier().detach().clone();
    return embeddings;
  }

  // Records an evaluation of the current model; returns true when the caller asks to stop.
  bool Evaluate(double learning_rate, double images_per_second) {
    Embeddings embeddings = Embed();
    // Seeds depend on the step only, so an evaluation gives the same numbers in a resumed run.
    evaluation_.seed = SupConEstimateSeed(options_.seed, state_.iteration);
    evaluation_.probe.seed = DeriveSeed(options_.seed, 4) + static_cast<std::uint64_t>(state_.iteration);
    EvaluationRecord record = dissect::train::Evaluate(embeddings, evaluation_);
    record.iteration = static_cast<double>(state_.iteration);
    record.seconds = state_.train_seconds;
    record.images_per_second = images_per_second;
    record.learning_rate = learning_rate;
    record.train_loss = state_.loss_count > 0 ? state_.loss_sum / state_.loss_count : EvaluationRecord::kNaN;
    state_.loss_sum = 0.0;
    state_.loss_count = 0;
    state_.history.push_back(record);
    result_.embeddings = std::move(embeddings);
    const bool stop = callbacks_.on_evaluation && callbacks_.on_evaluation(state_.history);
    return distributed_ ? group_.AnyTrue(stop) : stop;
  }

  // Forward and backward of one batch at `learning_rate`; returns the (global) loss. A non-finite loss takes no step.
  double Step(double learning_rate) {
    for (auto& param_group : optimizer_.param_groups()) {
      static_cast<torch::optim::SGDOptions&>(param_group.options()).lr(learning_rate);
    }
    const Batch batch = train_data_.MakeBatch(sampler_.Next(), local_first_, local_batch_);
    torch::Tensor features;
    {
      const detail::AutocastGuard autocast(device_.type(), at::kBFloat16, options_.precision == Precision::kBfloat16);
      features = encoder_->forward(options_.channels_last && batch.images.dim() == 4
                                       ? batch.images.contiguous(torch::MemoryFormat::ChannelsLast)
                                       : batch.images);
    }
    // The loss (its normalization, log-sum-exp and the SC kernels, which take float32 or float64) in float32.
    if (features.scalar_type() == at::kBFloat16) features = features.to(at::kFloat);
    const torch::Tensor representations = head_->Represent(features);
    double loss_value = 0.0;
    if (!distributed_) {
      const torch::Tensor loss = head_->forward(representations, batch.labels);
      loss_value = loss.item<double>();
      if (std::isfinite(loss_value)) {
        optimizer_.zero_grad();
        loss.backward();
      }
    } else {
      // Each rank's loss is its share of the global batch's; gradients and shares are summed over the ranks in
      // one all-reduce, so every rank sees the same loss and takes the same step.
      const torch::Tensor loss = DataParallelLoss(*head_, representations, batch.labels, group_);
      optimizer_.zero_grad();
      loss.backward();
      loss_value = AllReduceGradients(parameters_, {loss.item<double>()}, group_).front();
    }
    if (std::isfinite(loss_value)) optimizer_.step();
    return loss_value;
  }

  // The bookkeeping after a step: progress, evaluations and checkpoints when due, the caller's stop or cancel.
  // Returns true when the run ends here.
  bool AfterStep(double loss_value, double learning_rate, double step_seconds) {
    ++state_.iteration;
    state_.loss_sum += loss_value;
    ++state_.loss_count;
    state_.train_seconds += step_seconds;
    process_seconds_ += step_seconds;
    seconds_since_evaluation_ += step_seconds;
    images_since_evaluation_ += options_.batch_size;

    TrainProgress progress;
    progress.iteration = state_.iteration;
    progress.iterations = options_.iterations;
    progress.loss = loss_value;
    progress.learning_rate = learning_rate;
    const double steps_done = static_cast<double>(state_.iteration - first_iteration_);
    progress.images_per_second = steps_done * options_.batch_size / process_seconds_;
    progress.seconds_left = (options_.iterations - state_.iteration) * process_seconds_ / steps_done;
    const bool last = state_.iteration == options_.iterations;
    bool stop = false;
    if ((options_.eval_every > 0 && state_.iteration % options_.eval_every == 0) || last) {
      stop = Evaluate(learning_rate, images_since_evaluation_ / seconds_since_evaluation_);
      images_since_evaluation_ = 0;
      seconds_since_evaluation_ = 0.0;
    }
    if ((options_.checkpoint_every > 0 && state_.iteration % options_.checkpoint_every == 0) || last || stop) {
      Checkpoint();
    }
    if (stop && !last) {
      result_.status = "stopped";
      result_.message = fmt::format(
          "stopped by the caller after the evaluation at step {} of {}", state_.iteration, options_.iterations);
      return true;
    }
    bool cancel = callbacks_.on_step && callbacks_.on_step(progress);
    if (distributed_) cancel = group_.AnyTrue(cancel);  // a signal received by one rank stops every rank
    if (cancel && !last) {
      Checkpoint();
      result_.status = "cancelled";
      result_.message = fmt::format("stopped after step {} of {}", state_.iteration, options_.iterations);
      return true;
    }
    return false;
  }

  const TrainOptions& options_;
  const TrainCallbacks& callbacks_;
  const torch::Device device_;
  const std::shared_ptr<Communicator> communicator_;
  Communicator& group_;
  const bool distributed_;
  const std::int64_t local_batch_;
  const std::int64_t local_first_;
  Encoder encoder_;
  LossHead head_;
  std::vector<torch::Tensor> parameters_;
  torch::optim::SGD optimizer_;
  const Normalization normalization_;
  DataPipeline train_data_;
  const DataPipeline test_data_;
  BatchSampler sampler_;
  const std::string fingerprint_;
  EvaluationOptions evaluation_;
  RunState state_;
  TrainResult result_;
  std::int64_t first_iteration_ = 0;
  std::int64_t images_since_evaluation_ = 0;
  double seconds_since_evaluation_ = 0.0;
  double process_seconds_ = 0.0;  // of this process's steps (a resumed run counts from its resumption)
};

}  // namespace

TrainResult Train(const TrainOptions& options_in,
                  const DataSplit& data,
                  const TrainCallbacks& callbacks,
                  const std::vector<std::int64_t>& train_labels) {
  RequireCompatible(data.train, data.test);
  const TrainOptions options = CompletedOptions(options_in, data);
  const torch::Device device = ResolveDevice(options.device);
  const int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  const TorchGlobalsGuard restore_torch_globals;
  torch::set_num_threads(threads);
  TrainingRun run(options, data, callbacks, train_labels, device);
  TrainResult result = run.Run();
  result.threads = threads;
  return result;
}

void ExportEmbeddings(const Embeddings& embeddings, const std::filesystem::path& directory) {
  if (!embeddings.train.defined() || !embeddings.test.defined()) {
    throw std::invalid_argument("ExportEmbeddings(): no embeddings (no evaluation ran)");
  }
  theory::WriteNpyPoints(directory / "train_embeddings.npy", ToPoints(embeddings.train));
  theory::WriteNpyLabels(directory / "train_labels.npy", ToLabels(embeddings.train_labels));
  theory::WriteNpyPoints(directory / "test_embeddings.npy", ToPoints(embeddings.test));
  theory::WriteNpyLabels(directory / "test_labels.npy", ToLabels(embeddings.test_labels));
  if (embeddings.classifier.defined()) {
    theory::WriteNpyMatrix(directory / "classifier.npy", ToPoints(embeddings.classifier).transpose());
  }
}

}  // namespace dissect::train
