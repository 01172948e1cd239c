#pragma once
// Products with the Riemannian Hessian on the product of the blocks' spheres, never the matrix: what a
// second-order certificate needs at sizes where a dense Hessian cannot be held (issue 22). Paper: Certificate;
// docs/theory.md.

#include <Eigen/Core>
#include <limits>
#include <string>
#include <vector>

#include "dissect/optim/block_parametrization.hpp"
#include "dissect/optim/objective.hpp"

namespace dissect::optim {

// The Riemannian Hessian of `points_objective` at z on the product of the spheres of radius block.radius (ball
// blocks on their boundary), in the ambient representation: a tangent direction v has v_b orthogonal to z_b in
// every block, and
//   Hess f[v] = P(grad^2 f v) - (<z_b, g_b> / rho_b^2) v_b  per block,
// P the projection onto the tangent space and grad^2 f v a central difference of the analytic gradient along the
// whole direction v, with the step scaled so that the shift has norm 1e-5 ||z|| (the dense certificate's 1e-5 rho
// per block, in the mean).
class RiemannianHessianOperator {
 public:
  // Evaluates the gradient at z. Keeps a reference to `points_objective`, which must outlive this object. Throws
  // std::invalid_argument for blocks that do not tile z. A block off its sphere (or a ball block inside its ball)
  // is no error: on_spheres() is false and message() says which.
  RiemannianHessianOperator(const Objective& points_objective,
                            const Eigen::Ref<const Eigen::VectorXd>& z,
                            std::vector<Block> blocks);

  bool on_spheres() const { return on_spheres_; }
  const std::string& message() const { return message_; }
  const std::vector<Block>& blocks() const { return blocks_; }
  const Eigen::VectorXd& point() const { return z_; }
  const Eigen::VectorXd& gradient() const { return gradient_; }  // the ambient gradient at z
  // Per block: <z_b, g_b> / rho_b^2, the Weingarten term of the sphere.
  const std::vector<double>& curvature() const { return curvature_; }
  // Ball blocks: the smallest Lagrange multiplier -<z_b, g_b>/rho_b of the norm constraint; NaN without ball blocks.
  double min_multiplier() const { return min_multiplier_; }
  double min_radius() const { return min_radius_; }
  // The norm of the Riemannian gradient (TangentialGradientNorm at z).
  double tangential_gradient_norm() const { return tangential_gradient_norm_; }
  Eigen::Index tangent_dim() const;

  // Removes the normal component of every block: v_b -= (<z_b, v_b>/rho_b^2) z_b. Throws std::invalid_argument for
  // a vector of another length.
  void ProjectToTangent(Eigen::Ref<Eigen::VectorXd> v) const;
  // Hess f[v] for a tangent direction v (two gradient evaluations; the zero vector maps to zero). Throws
  // std::invalid_argument for a vector of another length, std::logic_error when !on_spheres().
  Eigen::VectorXd Apply(const Eigen::Ref<const Eigen::VectorXd>& v) const;
  // The products computed so far.
  Eigen::Index num_products() const { return num_products_; }

 private:
  const Objective& points_objective_;
  std::vector<Block> blocks_;
  Eigen::VectorXd z_;
  Eigen::VectorXd gradient_;
  std::vector<double> curvature_;
  bool on_spheres_ = true;
  std::string message_ = "on the spheres";
  double min_multiplier_ = std::numeric_limits<double>::quiet_NaN();
  double min_radius_ = std::numeric_limits<double>::infinity();
  double tangential_gradient_norm_ = std::numeric_limits<double>::quiet_NaN();
  mutable Eigen::Index num_products_ = 0;
};

}  // namespace dissect::optim
