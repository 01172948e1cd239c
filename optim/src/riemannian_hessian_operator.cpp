#include "dissect/optim/riemannian_hessian_operator.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <dissect/theory/check.hpp>
#include <stdexcept>
#include <utility>

#include "dissect/optim/certificate.hpp"

namespace dissect::optim {
namespace {

// The central difference's shift, relative to ||z||: the truncation error (shift^2) and the rounding of the gradient
// difference (eps / shift) balance near 1e-5, as for the dense certificate's per-block step.
constexpr double kRelativeShift = 1e-5;

void RequireLength(const char* function, Eigen::Index expected, Eigen::Index got) {
  if (expected != got) {
    theory::ThrowInvalidArgument(function, fmt::format("expected a vector of {} entries, got {}", expected, got));
  }
}

}  // namespace

RiemannianHessianOperator::RiemannianHessianOperator(const Objective& points_objective,
                                                     const Eigen::Ref<const Eigen::VectorXd>& z,
                                                     std::vector<Block> blocks)
    : points_objective_(points_objective), blocks_(std::move(blocks)), z_(z) {
  ValidateBlocks(blocks_, z_.size());
  points_objective_.Evaluate(z_, &gradient_);
  double min_multiplier = std::numeric_limits<double>::infinity();
  bool has_ball = false;
  for (const Block& block : blocks_) {
    const auto zb = z_.segment(block.offset, block.size);
    const double norm = zb.norm();
    if (on_spheres_ && std::abs(norm - block.radius) > 1e-6 * block.radius) {
      on_spheres_ = false;
      message_ = fmt::format(
          "a block at offset {} has norm {}, not on its sphere of radius {}", block.offset, norm, block.radius);
    }
    const double radial = zb.dot(gradient_.segment(block.offset, block.size));
    if (block.kind == BlockKind::kBall) {
      has_ball = true;
      min_multiplier = std::min(min_multiplier, -radial / block.radius);
    }
    curvature_.push_back(radial / (block.radius * block.radius));
    min_radius_ = std::min(min_radius_, block.radius);
  }
  if (has_ball) min_multiplier_ = min_multiplier;
  tangential_gradient_norm_ = TangentialGradientNorm(blocks_, z_, gradient_);
}

Eigen::Index RiemannianHessianOperator::tangent_dim() const { return TangentDimension(blocks_); }

void RiemannianHessianOperator::ProjectToTangent(Eigen::Ref<Eigen::VectorXd> v) const {
  RequireLength("RiemannianHessianOperator::ProjectToTangent", z_.size(), v.size());
  for (const Block& block : blocks_) {
    const auto zb = z_.segment(block.offset, block.size);
    auto vb = v.segment(block.offset, block.size);
    vb -= (zb.dot(vb) / zb.squaredNorm()) * zb;
  }
}

Eigen::VectorXd RiemannianHessianOperator::Apply(const Eigen::Ref<const Eigen::VectorXd>& v) const {
  RequireLength("RiemannianHessianOperator::Apply", z_.size(), v.size());
  if (!on_spheres_) throw std::logic_error("RiemannianHessianOperator::Apply(): " + message_);
  ++num_products_;
  const double length = v.norm();
  if (length == 0.0) return Eigen::VectorXd::Zero(v.size());
  const double step = kRelativeShift * z_.norm() / length;
  // Three parameter-sized vectors at a time besides the objective's own: the shifted point and two gradients.
  Eigen::VectorXd shifted = z_ + step * v;
  Eigen::VectorXd result, minus_gradient;
  points_objective_.Evaluate(shifted, &result);
  shifted = z_ - step * v;
  points_objective_.Evaluate(shifted, &minus_gradient);
  shifted.resize(0);
  result -= minus_gradient;
  minus_gradient.resize(0);
  result /= 2.0 * step;
  ProjectToTangent(result);
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    const Block& block = blocks_[b];
    result.segment(block.offset, block.size) -= curvature_[b] * v.segment(block.offset, block.size);
  }
  return result;
}

}  // namespace dissect::optim
