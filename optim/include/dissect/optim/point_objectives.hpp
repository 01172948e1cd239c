#pragma once
// The CE and SC losses of docs/theory.md as Objectives over the flat point vector z (no parametrization yet):
//   SC: z = vec(Z), Z the dim x N point matrix (column-major flattening, docs/development.md).
//   CE: z = [vec(Z); vec(W^T)]: the points, then the rows of the classifier W (K x dim), each row contiguous.

#include <Eigen/Core>
#include <vector>

#include "dissect/optim/block_parametrization.hpp"
#include "dissect/optim/objective.hpp"

namespace dissect::optim {

// One batch: indices into the N points (a multiset: an index may repeat) and the weight of its loss in the sum.
struct WeightedBatch {
  std::vector<int> indices;
  double weight = 1.0;
};

// What SupConPointObjective::Evaluate returns.
enum class SupConValue {
  kLoss,    // the loss itself
  kExcess,  // the loss minus CollapseValue(): same gradient, full relative precision near collapse (optimizers)
};

// Paper: SC loss, sum_B weight_B l_SC(Z; Y, B) with l_SC the theory's per-batch sum (reduction "sum"), logits
// <z_i, z_j> (temperature 1: the scale lives in the radius of the points). The gradient of repeated indices is
// accumulated onto their point.
class SupConPointObjective : public Objective {
 public:
  // labels: N entries >= 0; batches: each non-empty with indices in [0, N). Throws std::invalid_argument.
  SupConPointObjective(int dim,
                       Eigen::VectorXi labels,
                       std::vector<WeightedBatch> batches,
                       SupConValue value = SupConValue::kLoss);

  Eigen::Index NumParameters() const override;
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& z, Eigen::VectorXd* gradient) const override;

  // sum_B weight_B sum_{i in B with P_i >= 1} log P_i: the constant that kExcess leaves out (theory's
  // SupConResult::collapse_value summed over the batches). Depends on the labels only.
  double CollapseValue() const { return collapse_value_; }
  int dim() const { return dim_; }
  const Eigen::VectorXi& labels() const { return labels_; }
  const std::vector<WeightedBatch>& batches() const { return batches_; }

 private:
  int dim_;
  Eigen::VectorXi labels_;
  std::vector<WeightedBatch> batches_;
  bool full_batch_;  // the single batch is 0..N-1 once each: no gather/scatter needed
  SupConValue value_;
  double collapse_value_ = 0.0;
};

// Paper: CE loss, (1/N) sum_i -log softmax(W z_i)_{y_i}, bias-free, over z = [vec(Z); vec(W^T)].
class CrossEntropyPointObjective : public Objective {
 public:
  // labels: N entries in [0, K). Throws std::invalid_argument.
  CrossEntropyPointObjective(int dim, int num_classes, Eigen::VectorXi labels);

  Eigen::Index NumParameters() const override;
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& z, Eigen::VectorXd* gradient) const override;

 private:
  int dim_;
  int num_classes_;
  Eigen::VectorXi labels_;
};

// f(z(u)) for a point objective f and the block parametrization z(u) of block_parametrization.hpp.
class ParametrizedObjective : public Objective {
 public:
  // Keeps a reference to `points_objective`, which must outlive this object. Throws for blocks that do not tile it.
  ParametrizedObjective(const Objective& points_objective, std::vector<Block> blocks);

  Eigen::Index NumParameters() const override;
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& u, Eigen::VectorXd* gradient) const override;

  const std::vector<Block>& blocks() const { return blocks_; }

 private:
  const Objective& points_objective_;
  std::vector<Block> blocks_;
};

}  // namespace dissect::optim
