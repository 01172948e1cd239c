#include "dissect/train/sync_batch_norm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace dissect::train {

SyncBatchNorm2dImpl::SyncBatchNorm2dImpl(std::int64_t channels, double eps, double momentum)
    : eps_(eps), momentum_(momentum) {
  // The names and initial values of torch::nn::BatchNorm2d, so that state dicts and checkpoints are interchangeable.
  weight = register_parameter("weight", torch::ones({channels}));
  bias = register_parameter("bias", torch::zeros({channels}));
  running_mean = register_buffer("running_mean", torch::zeros({channels}));
  running_var = register_buffer("running_var", torch::ones({channels}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
}

torch::Tensor SyncBatchNorm2dImpl::forward(const torch::Tensor& input) {
  if (input.dim() != 4 || input.size(1) != weight.size(0)) {
    throw std::invalid_argument(
        fmt::format("SyncBatchNorm2d: expected B x {} x H x W input, got {} dimensions", weight.size(0), input.dim()));
  }
  if (is_training()) {
    torch::NoGradGuard no_grad;
    num_batches_tracked.add_(1);
  }
  if (!is_training() || communicator_ == nullptr || !communicator_->distributed()) {
    return torch::batch_norm(input,
                             weight,
                             bias,
                             running_mean,
                             running_var,
                             is_training(),
                             momentum_,
                             eps_,
                             /*cudnn_enabled=*/true);
  }
  const std::int64_t channels = input.size(1);
  const std::vector<std::int64_t> reduced = {0, 2, 3};
  const std::vector<std::int64_t> shape = {1, channels, 1, 1};
  torch::Tensor count = torch::tensor({static_cast<double>(input.numel() / channels)}, torch::kDouble);
  communicator_->AllReduceSum(count);
  const double n = count.item<double>();
  // Two passes (mean, then the centred second moment), as one process's batch norm computes them.
  const torch::Tensor mean = AllReduceSumWithGradient(input.sum(reduced), *communicator_) / n;
  const torch::Tensor centred = input - mean.view(shape);
  const torch::Tensor variance = AllReduceSumWithGradient(centred.pow(2).sum(reduced), *communicator_) / n;
  const torch::Tensor output =
      centred * torch::rsqrt(variance + eps_).view(shape) * weight.view(shape) + bias.view(shape);
  torch::NoGradGuard no_grad;
  running_mean.mul_(1.0 - momentum_).add_(mean.detach(), momentum_);
  // The running variance is the unbiased one, as in torch's batch norm.
  running_var.mul_(1.0 - momentum_).add_(variance.detach() * (n / std::max(1.0, n - 1.0)), momentum_);
  return output;
}

int SynchronizeBatchNorm(torch::nn::Module& module, Communicator* communicator) {
  int layers = 0;
  for (const std::shared_ptr<torch::nn::Module>& child : module.modules(/*include_self=*/true)) {
    if (auto* norm = child->as<SyncBatchNorm2dImpl>()) {
      norm->set_communicator(communicator);
      ++layers;
    }
  }
  return layers;
}

}  // namespace dissect::train
