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

std::string ToString(Precision precision) {
  switch (precision) {
    case Precision::kFloat32:
      return "float32";
    case Precision::kBfloat16:
      return "bf16";
  }
  return "unknown";
}

Precision ParsePrecision(std::string_view name) {
  for (const Precision p : {Precision::kFloat32, Precision::kBfloat16}) {
    if (name == ToString(p)) return p;
  }
  throw std::invalid_argument(fmt::format("ParsePrecision(): expected float32 or bf16, got '{}'", name));
}

std::string ToString(Schedule schedule) {
  switch (schedule) {
    case Schedule::kPoly5:
      return "poly5";
    case Schedule::kCosine:
      return "cosine";
    case Schedule::kConstant:
      return "constant";
  }
  return "unknown";
}

Schedule ParseSchedule(std::string_view name) {
  for (const Schedule s : {Schedule::kPoly5, Schedule::kCosine, Schedule::kConstant}) {
    if (name == ToString(s)) return s;
  }
  throw std::invalid_argument(fmt::format("ParseSchedule(): expected poly5, cosine or constant, got '{}'", name));
}

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

TrainResult Train(const TrainOptions& options_in,
                  const DataSplit& data,
                  const TrainCallbacks& callbacks,
                  const std::vector<std::int64_t>& train_labels) {
  RequireCompatible(data.train, data.test);
  TrainOptions options = options_in;
  options.encoder.channels = data.train.channels;
  options.encoder.height = data.train.height;
  options.encoder.width = data.train.width;
  options.loss.num_classes = data.train.num_classes;
  options.loss.dim = options.encoder.dim;
  options.loss.simplex_seed = DeriveSeed(options.seed, 5);
  options.Validate();
  options.loss.Validate();

  const torch::Device device = ResolveDevice(options.device);
  const int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  const TorchGlobalsGuard restore_torch_globals;
  torch::set_num_threads(threads);

  TrainResult result;
  result.device = device.str();
  result.threads = threads;
  result.encoder = options.encoder.Describe();

  // Data parallel: every rank draws the same global batch and takes its rank's b / W images of it.
  const std::shared_ptr<Communicator> communicator =
      options.communicator ? options.communicator : Communicator::Single();
  Communicator& group = *communicator;
  const bool distributed = group.distributed();
  const std::int64_t local_batch = options.batch_size / group.world_size();
  const std::int64_t local_first = group.rank() * local_batch;

  torch::manual_seed(DeriveSeed(options.seed, 0));
  Encoder encoder(options.encoder);
  LossHead head(options.loss);
  encoder->to(device);
  head->to(device);
  if (options.channels_last) ToChannelsLast(*encoder);
  if (options.sync_batch_norm) SynchronizeBatchNorm(*encoder, &group);
  std::vector<torch::Tensor> parameters = encoder->parameters();
  for (const torch::Tensor& p : head->parameters()) parameters.push_back(p);
  torch::optim::SGD optimizer(
      parameters,
      torch::optim::SGDOptions(options.learning_rate).momentum(options.momentum).weight_decay(options.weight_decay));

  const Normalization normalization = ComputeNormalization(data.train);
  DataPipeline train_data(data.train, normalization, options.augmentation, DeriveSeed(options.seed, 2), device);
  if (!train_labels.empty()) train_data.SetLabels(train_labels);
  const DataPipeline test_data(data.test, normalization, Augmentation::kNone, 0, device);
  BatchSampler sampler(train_data.size(), options.batch_size, options.sampling, DeriveSeed(options.seed, 1));

  const std::string fingerprint = Fingerprint(options, data, train_labels);
  if (distributed) {
    // Every rank must run the same configuration on the same data (the labels included), all fresh or all resumed.
    const std::string own = fingerprint + (options.resume ? " resume" : " fresh");
    const std::string root_fingerprint = group.BroadcastBytes(own);
    if (group.AnyTrue(root_fingerprint != own)) {
      throw std::invalid_argument(fmt::format(
          "Train(): the ranks run different configurations or data (options, data and labels must be equal):\n"
          "  rank 0: {}\n  rank {}: {}",
          root_fingerprint,
          group.rank(),
          own));
    }
  }
  RunState state;
  if (options.resume) {
    // Rank 0 reads the checkpoint (its machine alone needs the file) and sends it, or its error, to every rank.
    std::string bytes, error;
    if (group.rank() == 0) {
      try {
        bytes = ReadCheckpointBytes(options.checkpoint_path);
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    error = group.BroadcastBytes(error);
    if (!error.empty()) throw std::runtime_error(error);
    bytes = group.BroadcastBytes(bytes);
    state = LoadCheckpoint(
        options.checkpoint_path, bytes, fingerprint, device, encoder, head, optimizer, sampler, train_data);
    result.resumed_from = state.iteration;
  } else {
    BroadcastModule(*encoder, group);
    BroadcastModule(*head, group);
  }
  // Rank 0 writes the checkpoint; the state is the same on every rank (batch-norm statistics averaged first), so
  // any world size that divides the batch resumes it.
  const auto checkpoint = [&] {
    if (options.checkpoint_path.empty()) return;
    AverageBuffers(*encoder, group);
    if (group.rank() == 0) {
      SaveCheckpoint(options.checkpoint_path, fingerprint, state, encoder, head, optimizer, sampler, train_data);
    }
  };

  EvaluationOptions evaluation;
  evaluation.loss = options.loss;
  evaluation.batch_size = options.batch_size;
  evaluation.supcon_batches = options.supcon_eval_batches;
  evaluation.probe = options.probe;
  evaluation.communicator = &group;

  const auto embed = [&] {
    AverageBuffers(*encoder, group);
    Embeddings embeddings;
    embeddings.train = EmbedSharded(encoder, head, train_data, group);
    embeddings.train_labels = train_data.labels();
    embeddings.test = EmbedSharded(encoder, head, test_data, group);
    embeddings.test_labels = test_data.labels();
    if (HasClassifier(options.loss.kind)) embeddings.classifier = head->classifier().detach().clone();
    return embeddings;
  };
  // Returns true when the caller asks to stop.
  const auto evaluate = [&](double learning_rate, double images_per_second) {
    Embeddings embeddings = embed();
    // Seeds depend on the step only, so an evaluation gives the same numbers in a resumed run.
    evaluation.seed = SupConEstimateSeed(options.seed, state.iteration);
    evaluation.probe.seed = DeriveSeed(options.seed, 4) + static_cast<std::uint64_t>(state.iteration);
    EvaluationRecord record = Evaluate(embeddings, evaluation);
    record.iteration = static_cast<double>(state.iteration);
    record.seconds = state.train_seconds;
    record.images_per_second = images_per_second;
    record.learning_rate = learning_rate;
    record.train_loss = state.loss_count > 0 ? state.loss_sum / state.loss_count : EvaluationRecord::kNaN;
    state.loss_sum = 0.0;
    state.loss_count = 0;
    state.history.push_back(record);
    result.embeddings = std::move(embeddings);
    const bool stop = callbacks.on_evaluation && callbacks.on_evaluation(state.history);
    return distributed ? group.AnyTrue(stop) : stop;
  };

  encoder->train();
  const std::int64_t first_iteration = state.iteration;
  std::int64_t images_since_evaluation = 0;
  double seconds_since_evaluation = 0.0;
  double process_seconds = 0.0;
  double learning_rate = options.learning_rate;
  result.status = "completed";
  while (state.iteration < options.iterations) {
    const auto step_start = Clock::now();
    learning_rate = LearningRate(options.schedule, options.learning_rate, state.iteration, options.ScheduleHorizon());
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(learning_rate);
    }
    const Batch batch = train_data.MakeBatch(sampler.Next(), local_first, local_batch);
    torch::Tensor features;
    {
      const detail::AutocastGuard autocast(device.type(), at::kBFloat16, options.precision == Precision::kBfloat16);
      features = encoder->forward(options.channels_last && batch.images.dim() == 4
                                      ? batch.images.contiguous(torch::MemoryFormat::ChannelsLast)
                                      : batch.images);
    }
    // The loss (its normalization, log-sum-exp and the SC kernels, which take float32 or float64) in float32.
    if (features.scalar_type() == at::kBFloat16) features = features.to(at::kFloat);
    const torch::Tensor representations = head->Represent(features);
    double loss_value = 0.0;
    if (!distributed) {
      const torch::Tensor loss = head->forward(representations, batch.labels);
      loss_value = loss.item<double>();
      if (std::isfinite(loss_value)) {
        optimizer.zero_grad();
        loss.backward();
      }
    } else {
      // Each rank's loss is its share of the global batch's; gradients and shares are summed over the ranks in
      // one all-reduce, so every rank sees the same loss and takes the same step.
      const torch::Tensor loss = DataParallelLoss(*head, representations, batch.labels, group);
      optimizer.zero_grad();
      loss.backward();
      loss_value = AllReduceGradients(parameters, {loss.item<double>()}, group).front();
    }
    if (!std::isfinite(loss_value)) {
      result.status = "diverged";
      result.message = fmt::format(
          "the loss of step {} is {}; the last checkpoint and the log are kept", state.iteration + 1, loss_value);
      break;
    }
    optimizer.step();
    ++state.iteration;
    state.loss_sum += loss_value;
    ++state.loss_count;
    const double step_seconds = std::chrono::duration<double>(Clock::now() - step_start).count();
    state.train_seconds += step_seconds;
    process_seconds += step_seconds;
    seconds_since_evaluation += step_seconds;
    images_since_evaluation += options.batch_size;

    TrainProgress progress;
    progress.iteration = state.iteration;
    progress.iterations = options.iterations;
    progress.loss = loss_value;
    progress.learning_rate = learning_rate;
    const double steps_done = static_cast<double>(state.iteration - first_iteration);
    progress.images_per_second = steps_done * options.batch_size / process_seconds;
    progress.seconds_left = (options.iterations - state.iteration) * process_seconds / steps_done;
    const bool last = state.iteration == options.iterations;
    bool stop = false;
    if ((options.eval_every > 0 && state.iteration % options.eval_every == 0) || last) {
      stop = evaluate(learning_rate, images_since_evaluation / seconds_since_evaluation);
      images_since_evaluation = 0;
      seconds_since_evaluation = 0.0;
    }
    if ((options.checkpoint_every > 0 && state.iteration % options.checkpoint_every == 0) || last || stop) checkpoint();
    if (stop && !last) {
      result.status = "stopped";
      result.message = fmt::format(
          "stopped by the caller after the evaluation at step {} of {}", state.iteration, options.iterations);
      break;
    }
    bool cancel = callbacks.on_step && callbacks.on_step(progress);
    if (distributed) cancel = group.AnyTrue(cancel);  // a signal received by one rank stops every rank
    if (cancel && !last) {
      checkpoint();
      result.status = "cancelled";
      result.message = fmt::format("stopped after step {} of {}", state.iteration, options.iterations);
      break;
    }
  }
  if (result.status == "completed") {
    result.message = fmt::format("{} steps", options.iterations);
    // Resumed after the last step (its export failed, say, on a full disk): the final model's embeddings for the
    // export, without a second evaluation record.
    if (!result.embeddings.train.defined()) result.embeddings = embed();
  }
  result.iterations_done = state.iteration;
  result.history = state.history;
  result.images_per_second =
      process_seconds > 0 ? (state.iteration - first_iteration) * options.batch_size / process_seconds : 0.0;
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
