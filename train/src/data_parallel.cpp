#include "dissect/train/data_parallel.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace dissect::train {

torch::Tensor DataParallelLoss(LossHeadImpl& head,
                               const torch::Tensor& representations,
                               const torch::Tensor& labels,
                               Communicator& communicator) {
  if (!communicator.distributed()) return head.forward(representations, labels);
  const double world = communicator.world_size();
  const LossOptions& options = head.options();
  // CE is a mean over the batch: the mean of W equal shares is the sum of the local means over W.
  if (options.kind != LossKind::kSupCon) return head.forward(representations, labels) / world;
  const torch::Tensor batch = AllGatherWithGradient(representations, communicator);
  const torch::Tensor batch_labels = communicator.AllGather(labels);
  if (head.UsesTiledSupCon(batch)) return head.forward(batch, batch_labels) / world;
  return SupConLossOfAnchors(representations,
                             labels,
                             batch,
                             batch_labels,
                             communicator.rank() * representations.size(0),
                             theory::Temperature::FromTemperature(options.temperature),
                             options.reduction);
}

std::vector<double> AllReduceGradients(const std::vector<torch::Tensor>& parameters,
                                       const std::vector<double>& values,
                                       Communicator& communicator) {
  if (!communicator.distributed()) return values;
  std::vector<torch::Tensor> parts;
  for (const torch::Tensor& parameter : parameters) {
    if (!parameter.requires_grad()) continue;
    if (!parameter.grad().defined()) parameter.mutable_grad() = torch::zeros_like(parameter);
    parts.push_back(parameter.grad().reshape(-1));
  }
  const auto options = parts.empty() ? torch::TensorOptions(torch::kDouble) : parts.front().options();
  parts.push_back(torch::tensor(values, torch::kDouble).to(options));
  torch::Tensor flat = torch::cat(parts);
  communicator.AllReduceSum(flat);
  std::int64_t offset = 0;
  for (const torch::Tensor& parameter : parameters) {
    if (!parameter.requires_grad()) continue;
    const std::int64_t size = parameter.numel();
    parameter.mutable_grad().copy_(flat.narrow(0, offset, size).view_as(parameter));
    offset += size;
  }
  const torch::Tensor sums =
      flat.narrow(0, offset, static_cast<std::int64_t>(values.size())).to(torch::kCPU, torch::kDouble);
  return std::vector<double>(sums.data_ptr<double>(), sums.data_ptr<double>() + sums.numel());
}

void BroadcastModule(torch::nn::Module& module, Communicator& communicator, int root) {
  if (!communicator.distributed()) return;
  torch::NoGradGuard no_grad;
  for (torch::Tensor parameter : module.parameters()) communicator.Broadcast(parameter, root);
  for (torch::Tensor buffer : module.buffers()) communicator.Broadcast(buffer, root);
}

void AverageBuffers(torch::nn::Module& module, Communicator& communicator) {
  if (!communicator.distributed()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> buffers;
  for (const torch::Tensor& buffer : module.buffers()) {
    if (buffer.is_floating_point()) buffers.push_back(buffer);
  }
  if (buffers.empty()) return;
  std::vector<torch::Tensor> parts;
  for (const torch::Tensor& buffer : buffers) parts.push_back(buffer.reshape(-1).to(torch::kDouble));
  torch::Tensor flat = torch::cat(parts);
  // Equal buffers stay bit-identical: a sum of W equal values over W is not always exact, so the mean is taken only
  // where some rank differs from rank 0 (synchronized batch norm keeps them equal).
  torch::Tensor root = flat.clone();
  communicator.Broadcast(root, 0);
  if (!communicator.AnyTrue(!torch::equal(root, flat))) return;
  communicator.AllReduceSum(flat);
  flat.div_(static_cast<double>(communicator.world_size()));
  std::int64_t offset = 0;
  for (torch::Tensor& buffer : buffers) {
    buffer.copy_(flat.narrow(0, offset, buffer.numel()).view_as(buffer));
    offset += buffer.numel();
  }
}

std::pair<std::int64_t, std::int64_t> ShardRange(std::int64_t count, int rank, int world_size) {
  if (world_size < 1 || rank < 0 || rank >= world_size || count < 0) {
    throw std::invalid_argument(
        fmt::format("ShardRange(): expected 0 <= rank < world_size and count >= 0, got rank {} of {}, count {}",
                    rank,
                    world_size,
                    count));
  }
  return {count * rank / world_size, count * (rank + 1) / world_size};
}

}  // namespace dissect::train
