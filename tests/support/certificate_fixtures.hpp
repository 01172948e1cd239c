#pragma once
// Objectives and blocks shared by the certificate tests of optim/ (dense and matrix-free): a quadratic with known
// Riemannian Hessians, sphere blocks, SC over one full batch.

#include <Eigen/Core>
#include <utility>
#include <vector>

#include "dissect/optim/block_parametrization.hpp"
#include "dissect/optim/objective.hpp"
#include "dissect/optim/point_objectives.hpp"

namespace dissect::test {

// f(z) = c^T z + 0.5 z^T A z over one vector: on a sphere its critical points and Riemannian Hessians are known.
class QuadraticObjective : public optim::Objective {
 public:
  QuadraticObjective(Eigen::VectorXd linear, Eigen::MatrixXd quadratic)
      : linear_(std::move(linear)), quadratic_(std::move(quadratic)) {}
  Eigen::Index NumParameters() const override { return linear_.size(); }
  double Evaluate(const Eigen::Ref<const Eigen::VectorXd>& z, Eigen::VectorXd* gradient) const override {
    if (gradient != nullptr) *gradient = linear_ + quadratic_ * z;
    return linear_.dot(z) + 0.5 * z.dot(quadratic_ * z);
  }

 private:
  Eigen::VectorXd linear_;
  Eigen::MatrixXd quadratic_;
};

// num_points blocks of size dim, each a sphere (or ball) of the given radius.
inline std::vector<optim::Block> SphereBlocks(int num_points,
                                              int dim,
                                              double radius,
                                              optim::BlockKind kind = optim::BlockKind::kSphere) {
  std::vector<optim::Block> blocks;
  for (int i = 0; i < num_points; ++i) blocks.push_back(optim::Block{dim * i, dim, radius, kind});
  return blocks;
}

// SC over all points in one batch.
inline optim::SupConPointObjective FullBatch(int dim, const Eigen::VectorXi& labels) {
  optim::WeightedBatch all;
  for (int i = 0; i < labels.size(); ++i) all.indices.push_back(i);
  return optim::SupConPointObjective(dim, labels, {all});
}

}  // namespace dissect::test
