#pragma once
// Large float64 matrix products through the system BLAS (DGEMM) where the library was built with it
// (DISSECT_USE_BLAS), for the modules above theory: Eigen without -march runs SSE2 kernels on one core, a fraction
// of the machine's rate (docs/development.md, Build options). The same kernels as the SC loss's own products.

#include <Eigen/Core>

namespace dissect::theory {

// c = alpha A^T B, c already sized m x n (what it held is ignored). A: k x m, B: k x n.
void ProductTransposedA(const Eigen::Ref<const Eigen::MatrixXd>& a,
                        const Eigen::Ref<const Eigen::MatrixXd>& b,
                        double alpha,
                        Eigen::Ref<Eigen::MatrixXd> c);

// c += alpha A B. A: m x k, B: k x n, c: m x n.
void AccumulateProduct(const Eigen::Ref<const Eigen::MatrixXd>& a,
                       const Eigen::Ref<const Eigen::MatrixXd>& b,
                       double alpha,
                       Eigen::Ref<Eigen::MatrixXd> c);

// c += alpha A B^T. A: m x k, B: n x k, c: m x n.
void AccumulateProductTransposedB(const Eigen::Ref<const Eigen::MatrixXd>& a,
                                  const Eigen::Ref<const Eigen::MatrixXd>& b,
                                  double alpha,
                                  Eigen::Ref<Eigen::MatrixXd> c);

}  // namespace dissect::theory
