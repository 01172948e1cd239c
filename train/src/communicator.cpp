#include "dissect/train/communicator.hpp"

// c10d's Gloo and NCCL headers are compiled only where these are defined (the Torch package does not define them
// for its users); the CMake file sets them for this file alone.
#include <fmt/format.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef DISSECT_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "torch_compat.hpp"

namespace dissect::train {

struct Communicator::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<detail::CollectiveGroup> group;
  torch::Device device = torch::kCPU;  // where the backend wants its tensors (CUDA for NCCL)
  double timeout_seconds = 0.0;
};

namespace {

std::string ErrorText(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) return c10_error->what_without_backtrace();
  return e.what();
}

bool IsLoopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

std::chrono::milliseconds Milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000.0)));
}

}  // namespace

void DistributedOptions::Validate() const {
  const char* where = "DistributedOptions::Validate";
  if (world_size < 1)
    throw std::invalid_argument(fmt::format("{}(): expected world_size >= 1, got {}", where, world_size));
  if (rank < 0 || rank >= world_size) {
    throw std::invalid_argument(fmt::format("{}(): expected rank in [0, {}), got {}", where, world_size, rank));
  }
  if (master_port < 1 || master_port > 65535) {
    throw std::invalid_argument(fmt::format("{}(): expected master_port in [1, 65535], got {}", where, master_port));
  }
  if (!(timeout_seconds > 0.0) || !std::isfinite(timeout_seconds)) {
    throw std::invalid_argument(fmt::format("{}(): expected timeout_seconds > 0, got {}", where, timeout_seconds));
  }
  if (master_address.empty()) throw std::invalid_argument(fmt::format("{}(): expected a master address", where));
  if (backend != "auto" && backend != "gloo" && backend != "nccl") {
    throw std::invalid_argument(fmt::format("{}(): expected backend auto, gloo or nccl, got '{}'", where, backend));
  }
}

void ParseMaster(const std::string& text, DistributedOptions* options) {
  const std::size_t colon = text.rfind(':');
  std::string host = colon == std::string::npos ? std::string() : text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text = colon == std::string::npos ? std::string() : text.substr(colon + 1);
  int port = 0;
  std::size_t used = 0;
  try {
    port = std::stoi(port_text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (host.empty() || used != port_text.size() || port_text.empty() || port < 1 || port > 65535) {
    throw std::invalid_argument(
        fmt::format("ParseMaster(): expected HOST:PORT with a port in [1, 65535], got '{}'", text));
  }
  options->master_address = host;
  options->master_port = port;
}

std::shared_ptr<Communicator> Communicator::Single() { return std::shared_ptr<Communicator>(new Communicator()); }

std::shared_ptr<Communicator> Communicator::Create(const DistributedOptions& options, torch::Device device) {
  options.Validate();
  std::shared_ptr<Communicator> communicator(new Communicator());
  if (options.world_size == 1) return communicator;
  const bool nccl = options.backend == "nccl" || (options.backend == "auto" && device.is_cuda());
  if (nccl) {
#ifndef DISSECT_HAVE_NCCL
    throw std::invalid_argument(
        "Communicator::Create(): the NCCL backend was asked for (a CUDA device), but this LibTorch build has no NCCL; "
        "use --dist-backend gloo (it carries tensors of any device)");
#endif
  }
  auto impl = std::make_unique<Impl>();
  impl->timeout_seconds = options.timeout_seconds;
  impl->device = nccl ? device : torch::Device(torch::kCPU);
  const std::string where = fmt::format("rank {} of {}", options.rank, options.world_size);
  // Library code never prints: c10d logs each failed connection attempt of the rendezvous (an ERROR line, and with
  // glog its "Logging before InitGoogleLogging" warning) before it throws, and the error thrown here says the same.
  const detail::QuietTorchLogging quiet;
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(options.master_port);
    store_options.isServer = options.rank == 0;
    store_options.numWorkers = static_cast<std::size_t>(options.world_size);
    store_options.waitWorkers = true;
    detail::UseClassicTcpStoreServer(store_options, 0);
    store_options.timeout = Milliseconds(options.timeout_seconds);
    impl->store = c10::make_intrusive<c10d::TCPStore>(options.master_address, store_options);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format(
        "{}: the rendezvous at {}:{} failed within {} s ({}): {}",
        where,
        options.master_address,
        options.master_port,
        options.timeout_seconds,
        options.rank == 0 ? "is the port free, and did every other rank start?" : "is rank 0 running at that address?",
        ErrorText(e)));
  }
  try {
    if (nccl) {
#ifdef DISSECT_HAVE_NCCL
      auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
      nccl_options->timeout = Milliseconds(options.timeout_seconds);
      impl->group =
          c10::make_intrusive<c10d::ProcessGroupNCCL>(impl->store, options.rank, options.world_size, nccl_options);
      communicator->backend_ = "nccl";
#endif
    } else {
      auto gloo_options = c10d::ProcessGroupGloo::Options::create(Milliseconds(options.timeout_seconds));
      if (!options.network_interface.empty()) {
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(options.network_interface));
      } else if (IsLoopback(options.master_address)) {
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      } else {
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      impl->group =
          c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, options.rank, options.world_size, gloo_options);
      communicator->backend_ = "gloo";
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format(
        "{}: connecting the {} process group (rendezvous at {}:{}) failed within {} s (did every rank start?): {}",
        where,
        nccl ? "NCCL" : "Gloo",
        options.master_address,
        options.master_port,
        options.timeout_seconds,
        ErrorText(e)));
  }
  communicator->rank_ = options.rank;
  communicator->world_size_ = options.world_size;
  communicator->impl_ = std::move(impl);
  return communicator;
}

Communicator::~Communicator() = default;

namespace {

// Runs one collective to completion, turning the backend's failure into an error that names the rank and the step.
template <typename Start>
void Run(Communicator& communicator, Communicator::Impl& impl, const char* what, Start start) {
  try {
    c10::intrusive_ptr<c10d::Work> work = start(*impl.group);
    work->wait();
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format(
        "rank {} of {}: the {} {} failed: another rank stopped, the network broke, or the ranks waited more than {} s "
        "for each other ({})",
        communicator.rank(),
        communicator.world_size(),
        communicator.backend(),
        what,
        impl.timeout_seconds,
        ErrorText(e)));
  }
}

}  // namespace

void Communicator::AllReduceSum(torch::Tensor& tensor) {
  if (!distributed()) return;
  std::vector<torch::Tensor> tensors{tensor.to(impl_->device).contiguous()};
  Run(*this, *impl_, "all-reduce", [&](detail::CollectiveGroup& group) { return group.allreduce(tensors); });
  if (tensors[0].data_ptr() != tensor.data_ptr()) tensor.copy_(tensors[0]);
}

torch::Tensor Communicator::AllGather(const torch::Tensor& local) {
  if (!distributed()) return local;
  std::vector<torch::Tensor> input{local.to(impl_->device).contiguous()};
  std::vector<std::vector<torch::Tensor>> output(1);
  for (int r = 0; r < world_size_; ++r) output[0].push_back(torch::empty_like(input[0]));
  Run(*this, *impl_, "all-gather", [&](detail::CollectiveGroup& group) { return group.allgather(output, input); });
  return torch::cat(output[0], 0).to(local.device());
}

void Communicator::Broadcast(torch::Tensor& tensor, int root) {
  if (!distributed()) return;
  std::vector<torch::Tensor> tensors{tensor.to(impl_->device).contiguous()};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  Run(*this, *impl_, "broadcast", [&](detail::CollectiveGroup& group) { return group.broadcast(tensors, options); });
  if (tensors[0].data_ptr() != tensor.data_ptr()) tensor.copy_(tensors[0]);
}

std::string Communicator::BroadcastBytes(const std::string& bytes, int root) {
  if (!distributed()) return bytes;
  torch::Tensor size = torch::tensor({static_cast<std::int64_t>(bytes.size())}, torch::kLong);
  Broadcast(size, root);
  torch::Tensor data = torch::empty({size.item<std::int64_t>()}, torch::kUInt8);
  if (rank_ == root) std::copy(bytes.begin(), bytes.end(), data.data_ptr<std::uint8_t>());
  Broadcast(data, root);
  const auto* begin = reinterpret_cast<const char*>(data.data_ptr<std::uint8_t>());
  return std::string(begin, begin + data.numel());
}

bool Communicator::AnyTrue(bool flag) {
  if (!distributed()) return flag;
  torch::Tensor count = torch::tensor({flag ? 1.0F : 0.0F});
  AllReduceSum(count);
  return count.item<float>() > 0.0F;
}

void Communicator::Barrier() {
  if (!distributed()) return;
  Run(*this, *impl_, "barrier", [&](detail::CollectiveGroup& group) { return group.barrier(); });
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

Communicator* FromContext(AutogradContext* context) {
  return reinterpret_cast<Communicator*>(context->saved_data["communicator"].toInt());
}

struct AllGatherFunction : public torch::autograd::Function<AllGatherFunction> {
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& local, Communicator* communicator) {
    context->saved_data["communicator"] = reinterpret_cast<std::int64_t>(communicator);
    context->saved_data["rows"] = local.size(0);
    return communicator->AllGather(local);
  }
  static variable_list backward(AutogradContext* context, variable_list gradients) {
    Communicator* communicator = FromContext(context);
    const std::int64_t rows = context->saved_data["rows"].toInt();
    torch::Tensor total = gradients[0].contiguous().clone();
    communicator->AllReduceSum(total);
    return {total.narrow(0, communicator->rank() * rows, rows), torch::Tensor()};
  }
};

struct AllReduceSumFunction : public torch::autograd::Function<AllReduceSumFunction> {
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& local, Communicator* communicator) {
    context->saved_data["communicator"] = reinterpret_cast<std::int64_t>(communicator);
    torch::Tensor total = local.contiguous().clone();
    communicator->AllReduceSum(total);
    return total;
  }
  static variable_list backward(AutogradContext* context, variable_list gradients) {
    torch::Tensor total = gradients[0].contiguous().clone();
    FromContext(context)->AllReduceSum(total);
    return {total, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor AllGatherWithGradient(const torch::Tensor& local, Communicator& communicator) {
  if (!communicator.distributed()) return local;
  return AllGatherFunction::apply(local, &communicator);
}

torch::Tensor AllReduceSumWithGradient(const torch::Tensor& local, Communicator& communicator) {
  if (!communicator.distributed()) return local;
  return AllReduceSumFunction::apply(local, &communicator);
}

}  // namespace dissect::train
