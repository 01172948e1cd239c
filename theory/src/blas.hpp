#pragma once
// Private to theory: the big products of the SC loss and of the geometry
// metrics as BLAS calls, in float64 (DGEMM) and float32 (SGEMM). Eigen without
// -march runs SSE2 kernels at a fraction of the machine's rate; the system BLAS
// (OpenBLAS, selected by the set-up) runs them at full rate and keeps default
// builds portable (docs/development.md, Platform facts).

#include <Eigen/Core>

namespace dissect::theory::detail {

template <typename Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

// c = alpha * A^T B (GEMM), c already sized. A: k x m, B: k x n, c: m x n.
template <typename Scalar>
void ScaledProductTransposedA(const Eigen::Ref<const Matrix<Scalar>>& a,
                              const Eigen::Ref<const Matrix<Scalar>>& b,
                              Scalar alpha,
                              Eigen::Ref<Matrix<Scalar>> c);

// c = alpha * A^T A (SYRK: half the flops of the GEMM), the whole symmetric matrix: the lower triangle from BLAS,
// mirrored into the upper one. A: k x m, c: m x m already sized.
template <typename Scalar>
void ScaledGram(const Eigen::Ref<const Matrix<Scalar>>& a, Scalar alpha, Eigen::Ref<Matrix<Scalar>> c);

// a = a + a^T for a square matrix, in place (each entry one addition).
template <typename Scalar>
void AddTransposeInPlace(Eigen::Ref<Matrix<Scalar>> a);

// c += alpha * A * B (GEMM). A: m x k, B: k x n, c: m x n.
template <typename Scalar>
void AccumulateProduct(const Eigen::Ref<const Matrix<Scalar>>& a,
                       const Eigen::Ref<const Matrix<Scalar>>& b,
                       Scalar alpha,
                       Eigen::Ref<Matrix<Scalar>> c);

// c += alpha * A * B^T (GEMM). A: m x k, B: n x k, c: m x n.
template <typename Scalar>
void AccumulateProductTransposedB(const Eigen::Ref<const Matrix<Scalar>>& a,
                                  const Eigen::Ref<const Matrix<Scalar>>& b,
                                  Scalar alpha,
                                  Eigen::Ref<Matrix<Scalar>> c);

// A buffer of at least `size` scalars owned by the calling thread and kept
// between calls: optimizers evaluate the SC loss thousands of times, and a
// fresh b x b allocation costs more in page faults than the products
// themselves. The contents are unspecified. Defined for double and float.
template <typename Scalar>
Scalar* ThreadWorkspace(Eigen::Index size);

}  // namespace dissect::theory::detail
