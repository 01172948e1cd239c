#include "sampled_sgd.hpp"

#include <chrono>
#include <cmath>

#include "dissect/theory/learning_rate_schedule.hpp"

namespace dissect::optim::detail {

std::vector<WeightedBatch> DrawBatches(int num_points, int batch_size, int count, std::mt19937_64* engine) {
  std::uniform_int_distribution<int> index(0, num_points - 1);
  std::vector<WeightedBatch> batches(count);
  for (WeightedBatch& batch : batches) {
    batch.indices.resize(batch_size);
    for (int& i : batch.indices) i = index(*engine);
    batch.weight = 1.0 / batch_size;
  }
  return batches;
}

int RunSampledSgd(const MinimizeOptions& options,
                  const Eigen::VectorXi& labels,
                  const std::vector<Block>& blocks,
                  std::mt19937_64* engine,
                  Eigen::VectorXd* u,
                  std::vector<IterationInfo>* trace,
                  bool* cancelled) {
  const auto start = std::chrono::steady_clock::now();
  const int num_points = static_cast<int>(labels.size());
  const int steps = options.sgd_iterations;
  Eigen::VectorXd velocity = Eigen::VectorXd::Zero(u->size());
  Eigen::VectorXd gradient;
  *cancelled = false;
  for (int step = 0; step < steps; ++step) {
    const double learning_rate = theory::Poly5LearningRate(options.learning_rate, step, steps);
    double loss = 0.0;
    if (options.loss == LossKind::kSupCon) {
      const SupConPointObjective batch_objective(
          options.dim, labels, DrawBatches(num_points, options.batch_size, 1, engine));
      const ParametrizedObjective objective(batch_objective, blocks);
      loss = objective.Evaluate(*u, &gradient);
    } else {
      // CE is a per-sample mean: a batch is the mean over its points (with W shared), gathered by index.
      const std::vector<WeightedBatch> batch = DrawBatches(num_points, options.batch_size, 1, engine);
      const Eigen::Index h = options.dim;
      const Eigen::Index k = options.num_classes;
      Eigen::VectorXi batch_labels(options.batch_size);
      std::vector<Block> batch_blocks;
      Eigen::VectorXd batch_u(h * (options.batch_size + k));
      for (int j = 0; j < options.batch_size; ++j) {
        const int i = batch[0].indices[j];
        batch_labels[j] = labels[i];
        batch_u.segment(h * j, h) = u->segment(h * i, h);
        batch_blocks.push_back(Block{h * j, h, blocks[i].radius, blocks[i].kind});
      }
      batch_u.tail(h * k) = u->tail(h * k);
      for (std::size_t b = num_points; b < blocks.size(); ++b) {
        Block weight_block = blocks[b];
        weight_block.offset = weight_block.offset - h * num_points + h * options.batch_size;
        batch_blocks.push_back(weight_block);
      }
      const CrossEntropyPointObjective batch_objective(options.dim, options.num_classes, batch_labels);
      const ParametrizedObjective objective(batch_objective, batch_blocks);
      Eigen::VectorXd batch_gradient;
      loss = objective.Evaluate(batch_u, &batch_gradient);
      gradient.setZero(u->size());
      for (int j = 0; j < options.batch_size; ++j) {
        gradient.segment(h * batch[0].indices[j], h) += batch_gradient.segment(h * j, h);
      }
      gradient.tail(h * k) = batch_gradient.tail(h * k);
    }
    velocity = options.momentum * velocity + gradient;
    *u -= learning_rate * velocity;
    NormalizeSphereParameters(blocks, *u);

    IterationInfo info;
    info.iteration = step + 1;
    info.loss = loss;
    info.grad_norm = gradient.norm();
    info.step_size = learning_rate;
    info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    info.stage = "sgd";
    info.radius = options.temperature.radius();
    trace->push_back(info);
    if (options.callback && options.callback(info)) {
      *cancelled = true;
      return step + 1;
    }
  }
  return steps;
}

}  // namespace dissect::optim::detail
