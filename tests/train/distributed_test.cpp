// Data-parallel training over c10d (Gloo on loopback): W ranks, run as threads of this process, compute the loss and
// the gradients of one process on the concatenated batch (CE, SC dense and tiled, synchronized batch norm), and the
// sharded evaluation equals the unsharded one. Also: bad options, ranks that disagree, a peer that leaves.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <torch/torch.h>
#include <unistd.h>

#include <fmt/format.h>

#include <exception>
#include <functional>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "dissect/train/communicator.hpp"
#include "dissect/train/data_parallel.hpp"
#include "dissect/train/encoder.hpp"
#include "dissect/train/evaluation.hpp"
#include "dissect/train/losses.hpp"
#include "dissect/train/sync_batch_norm.hpp"
#include "dissect/train/trainer.hpp"
#include "test_support.hpp"

namespace {

using dissect::test::MessageContains;
namespace train = dissect::train;

// The bound on the difference between W ranks and one process, in float64.
constexpr double kDataParallelTolerance = 1e-6;

// A TCP port on loopback that is free now (the kernel picks it; the store binds it right after).
int FreeLoopbackPort() {
  const int socket_fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(socket_fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  REQUIRE(::bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  socklen_t length = sizeof(address);
  REQUIRE(::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(socket_fd);
  return ntohs(address.sin_port);
}

train::DistributedOptions Loopback(int world_size, int rank, int port, double timeout_seconds = 30.0) {
  train::DistributedOptions options;
  options.world_size = world_size;
  options.rank = rank;
  options.master_address = "127.0.0.1";
  options.master_port = port;
  options.timeout_seconds = timeout_seconds;
  return options;
}

// Runs body(rank, communicator) on W threads that form one group; rethrows the first rank's exception. Bodies
// record what they see and leave the assertions to the calling thread (Catch2 v2 assertions are not thread-safe).
void RunRanks(int world_size, const std::function<void(int, train::Communicator&)>& body) {
  const int port = FreeLoopbackPort();
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(world_size));
  std::vector<std::thread> threads;
  for (int rank = 0; rank < world_size; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        const auto communicator = train::Communicator::Create(Loopback(world_size, rank, port), torch::kCPU);
        body(rank, *communicator);
      } catch (...) {
        errors[static_cast<std::size_t>(rank)] = std::current_exception();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

// One model of the test: encoder, loss head, float64, built from a fixed seed (equal on every rank).
struct Model {
  train::Encoder encoder{nullptr};
  train::LossHead head{nullptr};

  std::vector<torch::Tensor> Parameters() const {
    std::vector<torch::Tensor> p = encoder->parameters();
    for (const torch::Tensor& q : head->parameters()) p.push_back(q);
    return p;
  }
};

Model MakeModel(const train::EncoderOptions& encoder_options, const train::LossOptions& loss_options) {
  torch::manual_seed(17);
  Model model{train::Encoder(encoder_options), train::LossHead(loss_options)};
  model.encoder->to(torch::kDouble);
  model.head->to(torch::kDouble);
  return model;
}

struct Step {
  double loss = 0.0;
  std::vector<torch::Tensor> gradients;
};

// Loss and gradients of one process on the whole batch.
Step SingleProcessStep(Model& model, const torch::Tensor& images, const torch::Tensor& labels) {
  const torch::Tensor loss = model.head->forward(model.head->Represent(model.encoder->forward(images)), labels);
  loss.backward();
  Step step{loss.item<double>(), {}};
  for (const torch::Tensor& p : model.Parameters()) step.gradients.push_back(p.grad().clone());
  return step;
}

// Loss and gradients of W ranks, each holding B/W consecutive images (every rank ends with the same sums).
std::vector<Step> DataParallelSteps(std::vector<Model>& models,
                                    const torch::Tensor& images,
                                    const torch::Tensor& labels,
                                    bool sync_batch_norm) {
  const int world_size = static_cast<int>(models.size());
  std::vector<Step> steps(models.size());
  RunRanks(world_size, [&](int rank, train::Communicator& communicator) {
    Model& model = models[static_cast<std::size_t>(rank)];
    if (sync_batch_norm && train::SynchronizeBatchNorm(*model.encoder, &communicator) == 0) {
      throw std::logic_error("the encoder has no SyncBatchNorm2d layer");
    }
    const std::int64_t local = images.size(0) / world_size;
    const torch::Tensor x = images.narrow(0, rank * local, local);
    const torch::Tensor y = labels.narrow(0, rank * local, local);
    const torch::Tensor loss =
        train::DataParallelLoss(*model.head, model.head->Represent(model.encoder->forward(x)), y, communicator);
    loss.backward();
    const std::vector<double> sums = train::AllReduceGradients(model.Parameters(), {loss.item<double>()}, communicator);
    Step& step = steps[static_cast<std::size_t>(rank)];
    step.loss = sums.at(0);
    for (const torch::Tensor& p : model.Parameters()) step.gradients.push_back(p.grad().clone());
  });
  return steps;
}

double MaxAbsDifference(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// Every rank's loss and gradients against one process on the concatenated batch; returns the largest difference.
double CompareWithSingleProcess(const train::EncoderOptions& encoder_options,
                                const train::LossOptions& loss_options,
                                int world_size,
                                std::int64_t batch,
                                bool sync_batch_norm) {
  torch::manual_seed(5);
  const torch::Tensor images =
      torch::randn({batch, encoder_options.channels, encoder_options.height, encoder_options.width}, torch::kDouble);
  // Labels with a singleton class (an anchor without positives in SC) and classes split across ranks.
  torch::Tensor labels = torch::randint(0, loss_options.num_classes - 1, {batch}, torch::kLong);
  labels[batch - 1] = loss_options.num_classes - 1;

  Model reference = MakeModel(encoder_options, loss_options);
  const Step expected = SingleProcessStep(reference, images, labels);
  std::vector<Model> models;
  for (int r = 0; r < world_size; ++r) models.push_back(MakeModel(encoder_options, loss_options));
  const std::vector<Step> steps = DataParallelSteps(models, images, labels, sync_batch_norm);

  double largest = 0.0;
  for (const Step& step : steps) {
    largest = std::max(largest, std::abs(step.loss - expected.loss));
    REQUIRE(step.gradients.size() == expected.gradients.size());
    for (std::size_t i = 0; i < step.gradients.size(); ++i) {
      largest = std::max(largest, MaxAbsDifference(step.gradients[i], expected.gradients[i]));
    }
  }
  // The gradients are not all zero (the comparison means something).
  double norm = 0.0;
  for (const torch::Tensor& g : expected.gradients) norm += g.square().sum().item<double>();
  CHECK(norm > 1e-6);
  return largest;
}

train::EncoderOptions SmallMlp() {
  train::EncoderOptions options;
  options.architecture = train::Architecture::kMlp;
  options.channels = 1;
  options.height = 6;
  options.width = 6;
  options.hidden = 24;
  options.dim = 8;
  return options;
}

train::LossOptions Loss(train::LossKind kind, train::SupConAlgorithm algorithm = train::SupConAlgorithm::kDense) {
  train::LossOptions options;
  options.kind = kind;
  options.num_classes = 4;
  options.dim = 8;
  options.temperature = 0.1;
  options.supcon_algorithm = algorithm;
  options.supcon_memory_budget_bytes = 4096.0;  // small tiles, so that the tiled kernel loops
  return options;
}

}  // namespace

TEST_CASE("DataParallel: 2 and 3 ranks give the loss and gradients of 1 rank on the concatenated batch (CE, SC)") {
  for (const auto kind : {train::LossKind::kCrossEntropy,
                          train::LossKind::kCrossEntropyFixed,
                          train::LossKind::kCrossEntropySphere,
                          train::LossKind::kSupCon}) {
    for (const int world_size : {2, 3}) {
      const double difference = CompareWithSingleProcess(SmallMlp(), Loss(kind), world_size, 12, false);
      INFO(train::ToString(kind) << ", W = " << world_size << ": largest difference " << difference);
      CHECK(difference < kDataParallelTolerance);
    }
  }
}

TEST_CASE("DataParallel: the tiled SC loss over 2 ranks equals 1 rank") {
  const double difference = CompareWithSingleProcess(
      SmallMlp(), Loss(train::LossKind::kSupCon, train::SupConAlgorithm::kTiled), 2, 16, false);
  INFO("largest difference " << difference);
  CHECK(difference < kDataParallelTolerance);
}

TEST_CASE("DataParallel: synchronized batch norm over 2 ranks equals 1 rank's BatchNorm2d on the whole batch") {
  train::EncoderOptions cnn;
  cnn.architecture = train::Architecture::kCnn;
  cnn.channels = 1;
  cnn.height = 12;
  cnn.width = 12;
  cnn.dim = 8;
  for (const auto kind : {train::LossKind::kCrossEntropy, train::LossKind::kSupCon}) {
    const double difference = CompareWithSingleProcess(cnn, Loss(kind), 2, 8, true);
    INFO(train::ToString(kind) << ": largest difference " << difference);
    CHECK(difference < kDataParallelTolerance);
  }
  // Without synchronization each rank normalizes by its own half: the gradients differ (the test above can fail).
  const double unsynchronized = CompareWithSingleProcess(cnn, Loss(train::LossKind::kCrossEntropy), 2, 8, false);
  CHECK(unsynchronized > 1e-3);
}

TEST_CASE("SyncBatchNorm2d: running statistics over 2 ranks equal those of the whole batch, and match BatchNorm2d") {
  torch::manual_seed(3);
  const torch::Tensor x = torch::randn({6, 3, 4, 4}, torch::kDouble) * 2.0 + 1.0;
  torch::nn::BatchNorm2d plain(3);
  plain->to(torch::kDouble);
  const torch::Tensor expected = plain->forward(x);
  train::SyncBatchNorm2d local(3);
  local->to(torch::kDouble);
  CHECK(MaxAbsDifference(local->forward(x), expected) < 1e-12);
  CHECK(MaxAbsDifference(local->running_var, plain->running_var) < 1e-12);

  std::vector<train::SyncBatchNorm2d> layers{train::SyncBatchNorm2d(3), train::SyncBatchNorm2d(3)};
  std::vector<torch::Tensor> outputs(2);
  RunRanks(2, [&](int rank, train::Communicator& communicator) {
    auto& layer = layers[static_cast<std::size_t>(rank)];
    layer->to(torch::kDouble);
    layer->set_communicator(&communicator);
    outputs[static_cast<std::size_t>(rank)] = layer->forward(x.narrow(0, rank * 3, 3));
  });
  CHECK(MaxAbsDifference(torch::cat(outputs), expected) < 1e-12);
  for (const auto& layer : layers) {
    CHECK(MaxAbsDifference(layer->running_mean, plain->running_mean) < 1e-12);
    CHECK(MaxAbsDifference(layer->running_var, plain->running_var) < 1e-12);
  }
  // Parameter and buffer names of torch::nn::BatchNorm2d: checkpoints load either way.
  std::vector<std::string> names, plain_names;
  for (const auto& item : local->named_parameters()) names.push_back(item.key());
  for (const auto& item : local->named_buffers()) names.push_back(item.key());
  for (const auto& item : plain->named_parameters()) plain_names.push_back(item.key());
  for (const auto& item : plain->named_buffers()) plain_names.push_back(item.key());
  CHECK(names == plain_names);
}

TEST_CASE("EmbedSharded and the sharded linear probe equal the one-process Embed and probe") {
  train::ImageSet images;
  images.name = "random";
  images.num_images = 37;  // not divisible by 2 or 3: uneven shards
  images.channels = 1;
  images.height = 6;
  images.width = 6;
  images.num_classes = 3;
  std::mt19937 generator(4);
  for (std::int64_t i = 0; i < images.num_images * images.ImageSize(); ++i) {
    images.pixels.push_back(static_cast<std::uint8_t>(generator() % 256));
  }
  for (std::int64_t i = 0; i < images.num_images; ++i) images.labels.push_back(i % 3);
  const train::Normalization normalization = train::ComputeNormalization(images);
  const train::DataPipeline data(images, normalization, train::Augmentation::kNone, 0, torch::kCPU);
  train::LossOptions loss = Loss(train::LossKind::kCrossEntropy);
  loss.num_classes = 3;
  torch::manual_seed(17);
  train::Encoder encoder(SmallMlp());
  train::LossHead head(loss);
  const torch::Tensor expected = train::Embed(encoder, head, data, 8);

  train::Embeddings embeddings;
  embeddings.train = expected.to(torch::kDouble);
  embeddings.train_labels = data.labels();
  embeddings.test = embeddings.train;
  embeddings.test_labels = embeddings.train_labels;
  train::LinearProbeOptions probe;
  probe.iterations = 50;
  probe.batch_size = 16;
  probe.seed = 9;
  const train::LinearProbeResult expected_probe = train::TrainLinearProbe(embeddings, 3, probe);

  for (const int world_size : {2, 3}) {
    std::vector<torch::Tensor> gathered(static_cast<std::size_t>(world_size));
    std::vector<train::LinearProbeResult> probes(static_cast<std::size_t>(world_size));
    RunRanks(world_size, [&](int rank, train::Communicator& communicator) {
      gathered[static_cast<std::size_t>(rank)] = train::EmbedSharded(encoder, head, data, communicator, 8);
      probes[static_cast<std::size_t>(rank)] = train::TrainLinearProbe(embeddings, 3, probe, &communicator);
    });
    for (int rank = 0; rank < world_size; ++rank) {
      INFO("W = " << world_size << ", rank " << rank);
      const auto& result = probes[static_cast<std::size_t>(rank)];
      CHECK(gathered[static_cast<std::size_t>(rank)].sizes() == expected.sizes());
      // float32 rows computed in other chunks (BLAS may block them differently): equal up to rounding.
      CHECK(MaxAbsDifference(gathered[static_cast<std::size_t>(rank)], expected) < 1e-6);
      CHECK(MaxAbsDifference(result.weights, expected_probe.weights) < 1e-10);
      CHECK(result.train_accuracy == expected_probe.train_accuracy);
    }
  }
}

TEST_CASE("Communicator: collectives over 3 ranks, and a world of one is the identity") {
  struct Seen {
    bool distributed = false;
    std::string backend;
    double sum = 0.0;
    torch::Tensor gathered;
    std::string bytes;
    bool any_one = false;
    bool any_none = true;
  };
  std::vector<Seen> seen(3);
  RunRanks(3, [&](int rank, train::Communicator& communicator) {
    Seen& s = seen[static_cast<std::size_t>(rank)];
    s.distributed = communicator.distributed();
    s.backend = communicator.backend();
    torch::Tensor value = torch::full({2}, static_cast<double>(rank + 1), torch::kDouble);
    communicator.AllReduceSum(value);
    s.sum = value[1].item<double>();
    s.gathered = communicator.AllGather(torch::full({1, 2}, static_cast<float>(rank)));
    s.bytes = communicator.BroadcastBytes(rank == 0 ? "from rank 0" : "ignored");
    s.any_one = communicator.AnyTrue(rank == 2);
    s.any_none = communicator.AnyTrue(false);
    communicator.Barrier();
  });
  for (const Seen& s : seen) {
    CHECK(s.distributed);
    CHECK(s.backend == "gloo");
    CHECK(s.sum == 6.0);
    CHECK(torch::equal(s.gathered.select(1, 0), torch::tensor({0.0F, 1.0F, 2.0F})));
    CHECK(s.bytes == "from rank 0");
    CHECK(s.any_one);
    CHECK_FALSE(s.any_none);
  }
  const auto single = train::Communicator::Single();
  CHECK_FALSE(single->distributed());
  torch::Tensor value = torch::ones({3});
  single->AllReduceSum(value);
  CHECK(torch::equal(value, torch::ones({3})));
  CHECK(single->AnyTrue(true));
}

TEST_CASE("ShardRange: contiguous parts covering every item, sizes differing by at most one") {
  for (const std::int64_t count : {0, 1, 7, 37, 100}) {
    for (const int world_size : {1, 2, 3, 8}) {
      std::int64_t next = 0;
      for (int rank = 0; rank < world_size; ++rank) {
        const auto [begin, end] = train::ShardRange(count, rank, world_size);
        CHECK(begin == next);
        CHECK(end - begin >= count / world_size);
        CHECK(end - begin <= count / world_size + 1);
        next = end;
      }
      CHECK(next == count);
    }
  }
}

TEST_CASE("DistributedOptions: bad sizes, ranks, ports, timeouts and master addresses are refused with the field") {
  train::DistributedOptions options;
  options.world_size = 0;
  CHECK_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("world_size"));
  options.world_size = 2;
  options.rank = 2;
  CHECK_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("rank in [0, 2)"));
  options.rank = 1;
  options.timeout_seconds = 0.0;
  CHECK_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("timeout_seconds"));
  options.timeout_seconds = 5.0;
  options.backend = "mpi";
  CHECK_THROWS_MATCHES(options.Validate(), std::invalid_argument, MessageContains("backend"));
  options.backend = "gloo";
  CHECK_NOTHROW(options.Validate());

  train::ParseMaster("node-7.cluster:29500", &options);
  CHECK(options.master_address == "node-7.cluster");
  CHECK(options.master_port == 29500);
  train::ParseMaster("[::1]:1234", &options);
  CHECK(options.master_address == "::1");
  CHECK(options.master_port == 1234);
  for (const char* bad : {"node-7", "node-7:", ":29500", "node-7:0", "node-7:65536", "node-7:29x", "node-7:-1"}) {
    INFO(bad);
    CHECK_THROWS_MATCHES(train::ParseMaster(bad, &options), std::invalid_argument, MessageContains("HOST:PORT"));
  }
}

TEST_CASE("Communicator: a rendezvous nobody joins fails within its timeout, naming the master") {
  const int port = FreeLoopbackPort();
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_MATCHES(train::Communicator::Create(Loopback(2, 0, port, 1.0), torch::kCPU),
                       std::runtime_error,
                       MessageContains(fmt::format("127.0.0.1:{}", port)));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
}

TEST_CASE("Communicator: a rank whose peer has left gets an error naming its rank and the collective") {
  std::vector<std::string> messages(2);
  const int port = FreeLoopbackPort();
  std::vector<std::thread> threads;
  for (int rank = 0; rank < 2; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        auto communicator = train::Communicator::Create(Loopback(2, rank, port, 5.0), torch::kCPU);
        communicator->Barrier();
        if (rank == 1) return;  // leaves the group: its connections close
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        torch::Tensor value = torch::ones({4});
        communicator->AllReduceSum(value);
      } catch (const std::exception& e) {
        messages[static_cast<std::size_t>(rank)] = e.what();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  INFO(messages[0]);
  CHECK_THAT(messages[0], Catch::Contains("rank 0"));
  CHECK_THAT(messages[0], Catch::Contains("all-reduce"));
}

TEST_CASE("Train: distributed ranks that disagree are refused, and the batch must be divisible by the world size") {
  train::ImageSet images;
  images.name = "random";
  images.num_images = 64;
  images.channels = 1;
  images.height = 6;
  images.width = 6;
  images.num_classes = 2;
  for (std::int64_t i = 0; i < images.num_images * images.ImageSize(); ++i) {
    images.pixels.push_back(static_cast<std::uint8_t>((i * 37) % 251));
  }
  for (std::int64_t i = 0; i < images.num_images; ++i) images.labels.push_back(i % 2);
  const train::DataSplit data{images, images};

  std::vector<std::string> divisibility(2), messages(2);
  const int port = FreeLoopbackPort();
  std::vector<std::thread> threads;
  for (int rank = 0; rank < 2; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        train::TrainOptions options;
        options.encoder = SmallMlp();
        options.iterations = 2;
        options.eval_every = 2;
        options.probe.iterations = 0;
        options.threads = 1;
        options.device = "cpu";
        options.seed = static_cast<std::uint64_t>(rank);  // differs between the ranks
        options.communicator = train::Communicator::Create(Loopback(2, rank, port), torch::kCPU);
        options.batch_size = 7;
        try {
          options.Validate();
        } catch (const std::invalid_argument& e) {
          divisibility[static_cast<std::size_t>(rank)] = e.what();
        }
        options.batch_size = 8;
        train::Train(options, data);
      } catch (const std::exception& e) {
        messages[static_cast<std::size_t>(rank)] = e.what();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int rank = 0; rank < 2; ++rank) {
    INFO("rank " << rank << ": " << messages[static_cast<std::size_t>(rank)]);
    CHECK_THAT(divisibility[static_cast<std::size_t>(rank)], Catch::Contains("not divisible by the world size 2"));
    CHECK_THAT(messages[static_cast<std::size_t>(rank)], Catch::Contains("the ranks run different configurations"));
  }
}
