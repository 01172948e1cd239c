#pragma once
// The regular simplex inscribed in a sphere: the optimum of both the CE and the SC loss.
// Paper: regular simplex; docs/theory.md. sum_k zeta_k = 0, ||zeta_k|| = rho, <zeta_k, zeta_l> = -rho^2/(K-1), k != l.

#include <Eigen/Core>
#include <cstdint>
#include <optional>

namespace dissect::theory {

// Returns the dim x num_classes matrix whose columns zeta_1..zeta_K are the vertices of a regular simplex inscribed
// in the sphere of radius `radius` (rho) in R^dim (h). Without a seed the simplex spans the first K-1 coordinates
// (zeta_k = rho*sqrt(K/(K-1))*(e_k - 1/K) in the Helmert basis); with a seed it is rotated by a random orthogonal
// matrix drawn from that seed (Haar measure), so equal seeds give equal simplices.
// Throws std::invalid_argument for K < 2, radius <= 0 or non-finite, and dim < K-1 ("a regular simplex with K
// vertices needs h >= K-1").
Eigen::MatrixXd RegularSimplex(int num_classes,
                               int dim,
                               double radius,
                               std::optional<std::uint64_t> seed = std::nullopt);

// A dim x dim orthogonal matrix drawn from the Haar measure (QR of a Gaussian matrix with sign correction), seeded.
// Throws std::invalid_argument for dim < 1.
Eigen::MatrixXd RandomRotation(int dim, std::uint64_t seed);

// The K x K Gram matrix of the simplex: rho^2 on the diagonal, -rho^2/(K-1) elsewhere. Throws for K < 2, rho <= 0.
Eigen::MatrixXd SimplexGram(int num_classes, double radius);

// The cosine between two vertices, -1/(K-1). Throws for K < 2.
double SimplexCosine(int num_classes);

}  // namespace dissect::theory
