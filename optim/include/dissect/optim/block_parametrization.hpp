#pragma once
// The smooth parametrization of free points used by every minimization (issue "Free-point minimization").
//
// The point vector z (R^D) is a list of blocks, each a vector constrained to a sphere or a ball:
//   sphere block of radius rho: z = rho u / ||u||                  (any u != 0)
//   ball block of radius rho:   z = rho sin(||u||) u / ||u||       (z = rho u at u = 0; smooth, onto the ball)
// so that an unconstrained solver (LBFGS) over u minimizes over the product of spheres and balls. Why these maps:
// Ceres' manifolds need a dense ambient x tangent Jacobian (O(D^2) memory for N points), while these maps cost O(D).
// The sphere map is scale-invariant in u (a flat radial direction per block, harmless for LBFGS); the sine map
// reaches the boundary at ||u|| = pi/2 with zero radial derivative, so an optimum on the boundary (the CE optimum)
// is an ordinary stationary point in u.

#include <Eigen/Core>
#include <vector>

namespace dissect::optim {

enum class BlockKind { kSphere, kBall };

struct Block {
  Eigen::Index offset = 0;  // first entry in the point vector
  Eigen::Index size = 0;    // dimension of the block
  double radius = 1.0;      // rho (or the weight norm bound r)
  BlockKind kind = BlockKind::kSphere;
};

// Throws std::invalid_argument unless the blocks tile [0, total_size) in order, with sizes >= 1 and radii > 0.
void ValidateBlocks(const std::vector<Block>& blocks, Eigen::Index total_size);

// z(u), block by block.
Eigen::VectorXd PointsFromParameters(const std::vector<Block>& blocks, const Eigen::Ref<const Eigen::VectorXd>& u);

// Parameters u with z(u) = z for points on the spheres / in the balls (u = z/rho on spheres, the inverse sine map in
// balls). Throws std::invalid_argument for a zero sphere block or a ball block outside its ball.
Eigen::VectorXd ParametersFromPoints(const std::vector<Block>& blocks, const Eigen::Ref<const Eigen::VectorXd>& z);

// The chain rule: the gradient in u of f(z(u)) from the gradient g = df/dz at z(u).
Eigen::VectorXd PullBackGradient(const std::vector<Block>& blocks,
                                 const Eigen::Ref<const Eigen::VectorXd>& u,
                                 const Eigen::Ref<const Eigen::VectorXd>& gradient_z);

// Norm of the Riemannian gradient on the product of the blocks' spheres (the tangential part of g in every block,
// sphere and ball blocks alike), for points z on those spheres.
double TangentialGradientNorm(const std::vector<Block>& blocks,
                              const Eigen::Ref<const Eigen::VectorXd>& z,
                              const Eigen::Ref<const Eigen::VectorXd>& gradient_z);

// Rescales every sphere block of u to unit norm (z(u) is unchanged); keeps u well conditioned between solver runs.
void NormalizeSphereParameters(const std::vector<Block>& blocks, Eigen::Ref<Eigen::VectorXd> u);

}  // namespace dissect::optim
