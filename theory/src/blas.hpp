#pragma once
// Private to theory: the two big products of the SC loss as BLAS calls. Eigen without -march runs SSE2 kernels at a
// fraction of the machine's rate; the system BLAS (OpenBLAS, selected by the set-up) runs them at full rate and
// keeps default builds portable (PLATFORM.md, Performance facts).

#include <Eigen/Core>

namespace dissect::theory::detail {

// gram = alpha * A^T A (full symmetric b x b, one GEMM: OpenBLAS' SYRK plus a mirror is slower). A: dim x b;
// gram: b x b, already sized.
void ScaledGram(const Eigen::Ref<const Eigen::MatrixXd>& a, double alpha, Eigen::Ref<Eigen::MatrixXd> gram);

// c = alpha * A * B (GEMM). A: m x k, B: k x n.
void ScaledProduct(const Eigen::Ref<const Eigen::MatrixXd>& a,
                   const Eigen::Ref<const Eigen::MatrixXd>& b,
                   double alpha,
                   Eigen::MatrixXd* c);

// c = alpha * A * (S + S^T) for a square S (two GEMMs). A: m x k, S: k x k.
void ScaledProductPlusTransposed(const Eigen::Ref<const Eigen::MatrixXd>& a,
                                 const Eigen::Ref<const Eigen::MatrixXd>& s,
                                 double alpha,
                                 Eigen::MatrixXd* c);

// A buffer of at least `size` doubles owned by the calling thread and kept between calls: optimizers evaluate the
// SC loss thousands of times, and a fresh b x b allocation costs more in page faults than the products themselves.
// The contents are unspecified.
double* ThreadWorkspace(Eigen::Index size);

}  // namespace dissect::theory::detail
