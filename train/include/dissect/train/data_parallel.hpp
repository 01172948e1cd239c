#pragma once
// Data-parallel training (docs/theory.md, Experiments: one global batch of b): W ranks each hold b / W images of every
// batch. Each rank's loss is its share of the global batch's loss, so that the sum over ranks is the loss of the
// whole batch, and model gradients are summed over ranks: the trajectory is that of one process on the whole batch
// (up to the order of floating-point sums). SC sees every rank's embeddings: positives and negatives span the global
// batch, and each embedding's gradient is routed back to the rank that produced it.

#include <torch/torch.h>

#include <vector>

#include "dissect/train/communicator.hpp"
#include "dissect/train/losses.hpp"

namespace dissect::train {

// This rank's share of the loss of the global batch whose rank-ordered parts are every rank's `representations`
// (B/W x h each, equal sizes) and `labels`. CE variants: the local mean over W. SC (dense): the terms of this rank's
// anchors against the gathered batch, normalized by the global B. SC (tiled, chosen by head.UsesTiledSupCon for the
// global batch): the whole gathered loss over W (each rank computes all of it; exact, but not divided among ranks).
// With a communicator of one rank: head.forward. Throws what head.forward and the collectives throw.
torch::Tensor DataParallelLoss(LossHeadImpl& head,
                               const torch::Tensor& representations,
                               const torch::Tensor& labels,
                               Communicator& communicator);

// Sums the gradients of `parameters` over the ranks in one all-reduce of a flat buffer (undefined gradients count as
// zero and are set), together with `values` (e.g. the local loss). Returns the sums of `values`.
std::vector<double> AllReduceGradients(const std::vector<torch::Tensor>& parameters,
                                       const std::vector<double>& values,
                                       Communicator& communicator);

// Rank `root`'s parameters and buffers on every rank (the start of a run: identical models everywhere).
void BroadcastModule(torch::nn::Module& module, Communicator& communicator, int root = 0);

// Floating-point buffers (batch-norm running statistics) replaced by their mean over the ranks, so that every rank
// evaluates and checkpoints the same model. Buffers that are already equal stay bit-identical.
void AverageBuffers(torch::nn::Module& module, Communicator& communicator);

// The part [begin, end) of `count` items that rank r of W takes: contiguous, sizes differing by at most one.
std::pair<std::int64_t, std::int64_t> ShardRange(std::int64_t count, int rank, int world_size);

}  // namespace dissect::train
