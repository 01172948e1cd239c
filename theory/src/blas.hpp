#pragma once
// Private to theory: the two big products of the SC loss as BLAS calls. Eigen without -march runs SSE2 kernels at a
// fraction of the machine's rate; the system BLAS (OpenBLAS, selected by the set-up) runs them at full rate and
// keeps default builds portable (PLATFORM.md, Performance facts).

#include <Eigen/Core>

namespace dissect::theory::detail {

// c = alpha * A^T B (GEMM), c already sized. A: k x m, B: k x n, c: m x n.
void ScaledProductTransposedA(const Eigen::Ref<const Eigen::MatrixXd>& a,
                              const Eigen::Ref<const Eigen::MatrixXd>& b,
                              double alpha,
                              Eigen::Ref<Eigen::MatrixXd> c);

// c += alpha * A * B (GEMM). A: m x k, B: k x n, c: m x n.
void AccumulateProduct(const Eigen::Ref<const Eigen::MatrixXd>& a,
                       const Eigen::Ref<const Eigen::MatrixXd>& b,
                       double alpha,
                       Eigen::Ref<Eigen::MatrixXd> c);

// c += alpha * A * B^T (GEMM). A: m x k, B: n x k, c: m x n.
void AccumulateProductTransposedB(const Eigen::Ref<const Eigen::MatrixXd>& a,
                                  const Eigen::Ref<const Eigen::MatrixXd>& b,
                                  double alpha,
                                  Eigen::Ref<Eigen::MatrixXd> c);

// A buffer of at least `size` doubles owned by the calling thread and kept between calls: optimizers evaluate the
// SC loss thousands of times, and a fresh b x b allocation costs more in page faults than the products themselves.
// The contents are unspecified.
double* ThreadWorkspace(Eigen::Index size);

}  // namespace dissect::theory::detail
