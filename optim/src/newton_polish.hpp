#pragma once
// Private to optim: Riemannian Newton steps that finish what LBFGS leaves at small tau, where the between-class
// curvature (~exp(-rho^2 K/(K-1))) is 1e-12 of the within-class one and LBFGS stalls at its precision floor.

#include <Eigen/Core>
#include <functional>
#include <vector>

#include "dissect/optim/block_parametrization.hpp"
#include "dissect/optim/objective.hpp"

namespace dissect::optim::detail {

// Newton steps on the product of the blocks' spheres: the step solves H xi = -grad in the tangent space with the
// eigenvalues' absolute values (saddle-free), leaving out directions flatter than the Hessian's resolution (the
// rotations); retraction by normalization; a step is kept only where it lowers f (halving up to 30 times).
// *z must lie on the spheres. Stops after max_steps or when no step lowers f. Returns the number of steps kept;
// on_step (may be null) sees each kept step: its number (from 1), the new point, f there and the step length.
int NewtonPolish(const Objective& points_objective,
                 const std::vector<Block>& blocks,
                 Eigen::Index max_tangent_dim,
                 int max_steps,
                 Eigen::VectorXd* z,
                 const std::function<void(int, const Eigen::VectorXd&, double, double)>& on_step = nullptr);

}  // namespace dissect::optim::detail
