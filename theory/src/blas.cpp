#include "blas.hpp"

#include <algorithm>
#include <cstddef>
#include <dissect/theory/matrix_products.hpp>
#include <vector>

// DISSECT_NO_BLAS (CMake's DISSECT_USE_BLAS=OFF, for a machine without a BLAS): Eigen's own products instead.
#ifndef DISSECT_NO_BLAS
extern "C" {
// Fortran BLAS, with the hidden string-length arguments of the GNU calling
// convention.
void dgemm_(const char* transa,
            const char* transb,
            const int* m,
            const int* n,
            const int* k,
            const double* alpha,
            const double* a,
            const int* lda,
            const double* b,
            const int* ldb,
            const double* beta,
            double* c,
            const int* ldc,
            std::size_t transa_length,
            std::size_t transb_length);
void sgemm_(const char* transa,
            const char* transb,
            const int* m,
            const int* n,
            const int* k,
            const float* alpha,
            const float* a,
            const int* lda,
            const float* b,
            const int* ldb,
            const float* beta,
            float* c,
            const int* ldc,
            std::size_t transa_length,
            std::size_t transb_length);
void dsyrk_(const char* uplo,
            const char* trans,
            const int* n,
            const int* k,
            const double* alpha,
            const double* a,
            const int* lda,
            const double* beta,
            double* c,
            const int* ldc,
            std::size_t uplo_length,
            std::size_t trans_length);
void ssyrk_(const char* uplo,
            const char* trans,
            const int* n,
            const int* k,
            const float* alpha,
            const float* a,
            const int* lda,
            const float* beta,
            float* c,
            const int* ldc,
            std::size_t uplo_length,
            std::size_t trans_length);
}

#endif

namespace dissect::theory::detail {
namespace {

#ifndef DISSECT_NO_BLAS

void Fortran(const char* ta,
             const char* tb,
             const int* m,
             const int* n,
             const int* k,
             const double* alpha,
             const double* a,
             const int* lda,
             const double* b,
             const int* ldb,
             const double* beta,
             double* c,
             const int* ldc) {
  dgemm_(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1, 1);
}

void Fortran(const char* ta,
             const char* tb,
             const int* m,
             const int* n,
             const int* k,
             const float* alpha,
             const float* a,
             const int* lda,
             const float* b,
             const int* ldb,
             const float* beta,
             float* c,
             const int* ldc) {
  sgemm_(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1, 1);
}

void FortranSyrk(const int* n,
                 const int* k,
                 const double* alpha,
                 const double* a,
                 const int* lda,
                 const double* beta,
                 double* c,
                 const int* ldc) {
  dsyrk_("L", "T", n, k, alpha, a, lda, beta, c, ldc, 1, 1);
}

void FortranSyrk(const int* n,
                 const int* k,
                 const float* alpha,
                 const float* a,
                 const int* lda,
                 const float* beta,
                 float* c,
                 const int* ldc) {
  ssyrk_("L", "T", n, k, alpha, a, lda, beta, c, ldc, 1, 1);
}

#endif

// op(a(i, j), a(j, i)) for every i >= j of a square matrix, in blocks of 16 x 16: the strided side (row j) of a
// block stays in the L1 cache. Block columns over the threads for large matrices; each pair is visited once, so
// the result does not depend on the threads.
template <typename Scalar, typename Operation>
void ForEachLowerPair(Eigen::Ref<Matrix<Scalar>> a, Operation op) {
  constexpr Eigen::Index kBlock = 16;
  const Eigen::Index n = a.rows();
  const Eigen::Index ld = a.outerStride();
  Scalar* data = a.data();
#pragma omp parallel for schedule(dynamic, 4) if (n * n >= (1 << 18))
  for (Eigen::Index jb = 0; jb < n; jb += kBlock) {
    for (Eigen::Index ib = jb; ib < n; ib += kBlock) {
      const Eigen::Index i_end = std::min(ib + kBlock, n);
      for (Eigen::Index j = jb; j < std::min(jb + kBlock, n); ++j) {
        Scalar* column = data + j * ld;  // a(., j)
        Scalar* row = data + j;          // a(j, .), stride ld
        for (Eigen::Index i = std::max(ib, j); i < i_end; ++i) op(column[i], row[i * ld]);
      }
    }
  }
}

// c = alpha op_a(A) op_b(B) + beta c, with c already sized m x n.
template <typename Scalar>
void Gemm(char trans_a,
          char trans_b,
          const Eigen::Ref<const Matrix<Scalar>>& a,
          const Eigen::Ref<const Matrix<Scalar>>& b,
          Scalar alpha,
          Scalar beta,
          Eigen::Ref<Matrix<Scalar>> c) {
  const int m = static_cast<int>(c.rows());
  const int n = static_cast<int>(c.cols());
  const int k = static_cast<int>(trans_a == 'N' ? a.cols() : a.rows());
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == Scalar(0)) c.setZero();
    return;
  }
#ifdef DISSECT_NO_BLAS
  // As BLAS: beta = 0 ignores what c held (NaN included).
  if (beta == Scalar(0)) {
    c.setZero();
  } else if (beta != Scalar(1)) {
    c *= beta;
  }
  if (trans_a == 'T') {
    c.noalias() += alpha * (a.transpose() * b);
  } else if (trans_b == 'T') {
    c.noalias() += alpha * (a * b.transpose());
  } else {
    c.noalias() += alpha * (a * b);
  }
#else
  const int lda = static_cast<int>(std::max<Eigen::Index>(1, a.outerStride()));
  const int ldb = static_cast<int>(std::max<Eigen::Index>(1, b.outerStride()));
  const int ldc = static_cast<int>(std::max<Eigen::Index>(1, c.outerStride()));
  Fortran(&trans_a, &trans_b, &m, &n, &k, &alpha, a.data(), &lda, b.data(), &ldb, &beta, c.data(), &ldc);
#endif
}

}  // namespace

template <typename Scalar>
void ScaledProductTransposedA(const Eigen::Ref<const Matrix<Scalar>>& a,
                              const Eigen::Ref<const Matrix<Scalar>>& b,
                              Scalar alpha,
                              Eigen::Ref<Matrix<Scalar>> c) {
  Gemm<Scalar>('T', 'N', a, b, alpha, Scalar(0), c);
}

template <typename Scalar>
void ScaledGram(const Eigen::Ref<const Matrix<Scalar>>& a, Scalar alpha, Eigen::Ref<Matrix<Scalar>> c) {
  const int n = static_cast<int>(c.rows());
  const int k = static_cast<int>(a.rows());
  if (n == 0) return;
#ifdef DISSECT_NO_BLAS
  c.template triangularView<Eigen::Lower>() = alpha * (a.transpose() * a);
#else
  if (k == 0) {
    c.setZero();
    return;
  }
  const int lda = static_cast<int>(std::max<Eigen::Index>(1, a.outerStride()));
  const int ldc = static_cast<int>(std::max<Eigen::Index>(1, c.outerStride()));
  const Scalar beta = Scalar(0);
  FortranSyrk(&n, &k, &alpha, a.data(), &lda, &beta, c.data(), &ldc);
#endif
  ForEachLowerPair<Scalar>(c, [](Scalar& lower, Scalar& upper) { upper = lower; });
}

template <typename Scalar>
void AddTransposeInPlace(Eigen::Ref<Matrix<Scalar>> a) {
  ForEachLowerPair<Scalar>(a, [](Scalar& lower, Scalar& upper) { lower = upper = lower + upper; });
}

template <typename Scalar>
void AccumulateProduct(const Eigen::Ref<const Matrix<Scalar>>& a,
                       const Eigen::Ref<const Matrix<Scalar>>& b,
                       Scalar alpha,
                       Eigen::Ref<Matrix<Scalar>> c) {
  Gemm<Scalar>('N', 'N', a, b, alpha, Scalar(1), c);
}

template <typename Scalar>
void AccumulateProductTransposedB(const Eigen::Ref<const Matrix<Scalar>>& a,
                                  const Eigen::Ref<const Matrix<Scalar>>& b,
                                  Scalar alpha,
                                  Eigen::Ref<Matrix<Scalar>> c) {
  Gemm<Scalar>('N', 'T', a, b, alpha, Scalar(1), c);
}

template <typename Scalar>
Scalar* ThreadWorkspace(Eigen::Index size) {
  thread_local std::vector<Scalar> buffer;
  if (static_cast<Eigen::Index>(buffer.size()) < size) buffer = std::vector<Scalar>(static_cast<std::size_t>(size));
  return buffer.data();
}

#define DISSECT_INSTANTIATE_BLAS(Scalar)                                                                         \
  template void ScaledProductTransposedA<Scalar>(const Eigen::Ref<const Matrix<Scalar>>&,                        \
                                                 const Eigen::Ref<const Matrix<Scalar>>&,                        \
                                                 Scalar,                                                         \
                                                 Eigen::Ref<Matrix<Scalar>>);                                    \
  template void ScaledGram<Scalar>(const Eigen::Ref<const Matrix<Scalar>>&, Scalar, Eigen::Ref<Matrix<Scalar>>); \
  template void AddTransposeInPlace<Scalar>(Eigen::Ref<Matrix<Scalar>>);                                         \
  template void AccumulateProduct<Scalar>(const Eigen::Ref<const Matrix<Scalar>>&,                               \
                                          const Eigen::Ref<const Matrix<Scalar>>&,                               \
                                          Scalar,                                                                \
                                          Eigen::Ref<Matrix<Scalar>>);                                           \
  template void AccumulateProductTransposedB<Scalar>(const Eigen::Ref<const Matrix<Scalar>>&,                    \
                                                     const Eigen::Ref<const Matrix<Scalar>>&,                    \
                                                     Scalar,                                                     \
                                                     Eigen::Ref<Matrix<Scalar>>);                                \
  template Scalar* ThreadWorkspace<Scalar>(Eigen::Index);

DISSECT_INSTANTIATE_BLAS(double)
DISSECT_INSTANTIATE_BLAS(float)
#undef DISSECT_INSTANTIATE_BLAS

}  // namespace dissect::theory::detail

namespace dissect::theory {

void ProductTransposedA(const Eigen::Ref<const Eigen::MatrixXd>& a,
                        const Eigen::Ref<const Eigen::MatrixXd>& b,
                        double alpha,
                        Eigen::Ref<Eigen::MatrixXd> c) {
  detail::ScaledProductTransposedA<double>(a, b, alpha, c);
}

void AccumulateProduct(const Eigen::Ref<const Eigen::MatrixXd>& a,
                       const Eigen::Ref<const Eigen::MatrixXd>& b,
                       double alpha,
                       Eigen::Ref<Eigen::MatrixXd> c) {
  detail::AccumulateProduct<double>(a, b, alpha, c);
}

void AccumulateProductTransposedB(const Eigen::Ref<const Eigen::MatrixXd>& a,
                                  const Eigen::Ref<const Eigen::MatrixXd>& b,
                                  double alpha,
                                  Eigen::Ref<Eigen::MatrixXd> c) {
  detail::AccumulateProductTransposedB<double>(a, b, alpha, c);
}

}  // namespace dissect::theory
