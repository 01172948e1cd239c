#include "newton_polish.hpp"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>

#include "dissect/optim/certificate.hpp"

namespace dissect::optim::detail {

int NewtonPolish(const Objective& points_objective,
                 const std::vector<Block>& blocks,
                 Eigen::Index max_tangent_dim,
                 int max_steps,
                 Eigen::VectorXd* z,
                 const std::function<void(int, const Eigen::VectorXd&, double, double)>& on_step) {
  int kept = 0;
  double value = points_objective.Evaluate(*z, nullptr);
  for (int step = 0; step < max_steps; ++step) {
    const RiemannianHessian riemannian = ComputeRiemannianHessian(points_objective, *z, blocks, max_tangent_dim);
    if (!riemannian.computed || riemannian.tangent_dim == 0) break;
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(riemannian.hessian);
    const Eigen::VectorXd& eigenvalues = solver.eigenvalues();
    const double resolution = std::max({10.0 * riemannian.asymmetry, 1e-9 * eigenvalues.cwiseAbs().maxCoeff(), 1e-300});
    const Eigen::VectorXd projected = solver.eigenvectors().transpose() * riemannian.tangent_gradient;
    Eigen::VectorXd scaled = Eigen::VectorXd::Zero(projected.size());
    for (Eigen::Index i = 0; i < projected.size(); ++i) {
      if (std::abs(eigenvalues[i]) > resolution) scaled[i] = -projected[i] / std::abs(eigenvalues[i]);
    }
    // The Newton decrement -g.xi predicts the decrease 2x over; below the rounding of f there is nothing to gain.
    const double decrement = -projected.dot(scaled);
    if (!(decrement > 1e-14 * std::abs(value))) break;
    const Eigen::VectorXd tangent_step = solver.eigenvectors() * scaled;
    // The step in ambient coordinates, block by block.
    Eigen::VectorXd direction = Eigen::VectorXd::Zero(z->size());
    Eigen::Index row = 0;
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      const Block& block = blocks[b];
      direction.segment(block.offset, block.size) = riemannian.bases[b] * tangent_step.segment(row, block.size - 1);
      row += block.size - 1;
    }
    bool improved = false;
    double length = 1.0;
    for (int halving = 0; halving < 30 && !improved; ++halving, length *= 0.5) {
      Eigen::VectorXd candidate = *z + length * direction;
      for (const Block& block : blocks) {
        auto cb = candidate.segment(block.offset, block.size);
        cb *= block.radius / cb.norm();
      }
      const double candidate_value = points_objective.Evaluate(candidate, nullptr);
      if (candidate_value < value) {
        *z = std::move(candidate);
        value = candidate_value;
        improved = true;
        if (on_step) on_step(kept + 1, *z, value, length);
      }
    }
    if (!improved) break;
    ++kept;
  }
  return kept;
}

}  // namespace dissect::optim::detail
