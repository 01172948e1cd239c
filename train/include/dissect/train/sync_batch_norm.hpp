#pragma once
// Batch normalization whose training-mode statistics can span the ranks of data-parallel training: with a
// communicator of W > 1 ranks, mean and variance are those of the global batch (every rank's images), computed with
// differentiable all-reduces, so forward and backward equal one process's BatchNorm2d on the whole batch. Without
// one (the default) it is torch::nn::BatchNorm2d; parameter and buffer names are the same, so checkpoints of either
// load into the other.

#include <torch/torch.h>

#include "dissect/train/communicator.hpp"

namespace dissect::train {

class SyncBatchNorm2dImpl : public torch::nn::Module {
 public:
  // Batch norm over C channels, affine, with running statistics (torch::nn::BatchNorm2d's defaults).
  explicit SyncBatchNorm2dImpl(std::int64_t channels, double eps = 1e-5, double momentum = 0.1);
  // input: B x C x H x W. In training mode with a distributed communicator: statistics over all ranks' batches
  // (equal local batch sizes are not required); otherwise exactly torch::nn::BatchNorm2d (torch::batch_norm).
  torch::Tensor forward(const torch::Tensor& input);
  // The group whose batches are normalized together (nullptr: this process's batch only). Not owned.
  void set_communicator(Communicator* communicator) { communicator_ = communicator; }

  torch::Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 private:
  double eps_;
  double momentum_;
  Communicator* communicator_ = nullptr;
};
TORCH_MODULE(SyncBatchNorm2d);

// Sets the communicator of every SyncBatchNorm2d inside `module` (nullptr: back to local statistics). Returns how
// many layers it set.
int SynchronizeBatchNorm(torch::nn::Module& module, Communicator* communicator);

}  // namespace dissect::train
