#include "dissect/theory/cross_entropy_loss.hpp"

#include <fmt/format.h>
#include <cmath>

#include "dissect/theory/check.hpp"

namespace dissect::theory {

CrossEntropyResult CrossEntropyLoss(const Eigen::Ref<const Eigen::MatrixXd>& points,
                                    const Eigen::Ref<const Eigen::VectorXi>& labels,
                                    const Eigen::Ref<const Eigen::MatrixXd>& weights,
                                    bool with_gradient) {
  constexpr const char* kFunction = "CrossEntropyLoss";
  RequireAtLeast(kFunction, "number of points (N)", points.cols(), 1);
  RequireAtLeast(kFunction, "number of classes (rows of W)", weights.rows(), 2);
  if (weights.cols() != points.rows()) {
    ThrowInvalidArgument(
        kFunction,
        fmt::format(
            "expected W with h = {} columns (the dimension of the points), got {}", points.rows(), weights.cols()));
  }
  RequireFinite(kFunction, "points", points);
  RequireFinite(kFunction, "weights", weights);
  RequireLabels(kFunction, labels, points.cols(), static_cast<int>(weights.rows()));

  const Eigen::Index n = points.cols();
  // logits(k, i) = <w_k, z_i>; overwritten below by softmax - onehot, the gradient of each term w.r.t. its logits.
  Eigen::MatrixXd logits = weights * points;
  double total = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    auto column = logits.col(i);
    const double max_logit = column.maxCoeff();
    const double label_logit = column[labels[i]];
    column = (column.array() - max_logit).exp().matrix();
    const double sum_exp = column.sum();
    // (max - logit_y) + log(sum): no cancellation of two large numbers.
    total += (max_logit - label_logit) + std::log(sum_exp);
    if (with_gradient) {
      // softmax = exp(l - max) / sum, accurate for any logit size (exp(l - lse) loses digits of lse).
      column /= sum_exp;
      column[labels[i]] -= 1.0;
    }
  }
  CrossEntropyResult result;
  result.value = total / static_cast<double>(n);
  if (with_gradient) {
    logits /= static_cast<double>(n);
    result.points_gradient.noalias() = weights.transpose() * logits;
    result.weights_gradient.noalias() = logits * points.transpose();
  }
  return result;
}

}  // namespace dissect::theory
