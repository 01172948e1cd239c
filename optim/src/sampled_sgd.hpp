#pragma once
// Private to optim: the sampled mode (i.i.d. batches with replacement, SGD with momentum and the poly-5 schedule).

#include <Eigen/Core>
#include <random>
#include <vector>

#include "dissect/optim/block_parametrization.hpp"
#include "dissect/optim/minimize.hpp"
#include "dissect/optim/point_objectives.hpp"

namespace dissect::optim::detail {

// i.i.d. batches of `batch_size` indices drawn uniformly with replacement from [0, num_points), each weighted 1/b
// (the per-sample normalization of training code).
std::vector<WeightedBatch> DrawBatches(int num_points, int batch_size, int count, std::mt19937_64* engine);

// Runs SGD on u from its current value: at step i a fresh i.i.d. batch, lr_i = lr0 (1 - i/T)^5, heavy-ball momentum,
// sphere blocks renormalized after each step. Reports through options.callback (true = stop). Returns the number
// of steps taken and sets *cancelled.
int RunSampledSgd(const MinimizeOptions& options,
                  const Eigen::VectorXi& labels,
                  const std::vector<Block>& blocks,
                  std::mt19937_64* engine,
                  Eigen::VectorXd* u,
                  std::vector<IterationInfo>* trace,
                  bool* cancelled);

}  // namespace dissect::optim::detail
