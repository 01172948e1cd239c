#pragma once
// Paper: CE loss; docs/theory.md. L_CE(Z, W; Y) = (1/N) sum_i -log( exp(<w_{y_i}, z_i>) / sum_k exp(<w_k, z_i>) ),
// a bias-free linear classifier W (K x h, rows w_k) on points z_i (the columns of a dim x N matrix).

#include <Eigen/Core>
#include <limits>

namespace dissect::theory {

struct CrossEntropyResult {
  double value = std::numeric_limits<double>::quiet_NaN();  // L_CE; NaN means "not run"
  Eigen::MatrixXd points_gradient;                          // dL/dZ, dim x N (empty without gradient)
  Eigen::MatrixXd weights_gradient;                         // dL/dW, K x dim (empty without gradient)
};

// Evaluates L_CE and, when with_gradient, its analytic gradients. Stable for large logits (log-sum-exp).
// points: dim x N, finite, N >= 1; labels: N entries in [0, K); weights: K x dim, finite, K >= 2.
// Throws std::invalid_argument naming the first problem.
CrossEntropyResult CrossEntropyLoss(const Eigen::Ref<const Eigen::MatrixXd>& points,
                                    const Eigen::Ref<const Eigen::VectorXi>& labels,
                                    const Eigen::Ref<const Eigen::MatrixXd>& weights,
                                    bool with_gradient = true);

}  // namespace dissect::theory
