#include "blas.hpp"

#include <algorithm>
#include <cstddef>
#include <vector>

extern "C" {
// Fortran BLAS, with the hidden string-length arguments of the GNU calling convention.
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* b, const int* ldb, const double* beta, double* c,
            const int* ldc, std::size_t transa_length, std::size_t transb_length);
}

namespace dissect::theory::detail {
namespace {

// c = alpha op_a(A) op_b(B) + beta c, with c already sized m x n.
void Gemm(char trans_a, char trans_b, const Eigen::Ref<const Eigen::MatrixXd>& a,
          const Eigen::Ref<const Eigen::MatrixXd>& b, double alpha, double beta, Eigen::Ref<Eigen::MatrixXd> c) {
  const int m = static_cast<int>(c.rows());
  const int n = static_cast<int>(c.cols());
  const int k = static_cast<int>(trans_a == 'N' ? a.cols() : a.rows());
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == 0.0) c.setZero();
    return;
  }
  const int lda = static_cast<int>(std::max<Eigen::Index>(1, a.outerStride()));
  const int ldb = static_cast<int>(std::max<Eigen::Index>(1, b.outerStride()));
  const int ldc = static_cast<int>(std::max<Eigen::Index>(1, c.outerStride()));
  dgemm_(&trans_a, &trans_b, &m, &n, &k, &alpha, a.data(), &lda, b.data(), &ldb, &beta, c.data(), &ldc, 1, 1);
}

}  // namespace

void ScaledProductTransposedA(const Eigen::Ref<const Eigen::MatrixXd>& a,
                              const Eigen::Ref<const Eigen::MatrixXd>& b,
                              double alpha,
                              Eigen::Ref<Eigen::MatrixXd> c) {
  Gemm('T', 'N', a, b, alpha, 0.0, c);
}

void AccumulateProduct(const Eigen::Ref<const Eigen::MatrixXd>& a,
                       const Eigen::Ref<const Eigen::MatrixXd>& b,
                       double alpha,
                       Eigen::Ref<Eigen::MatrixXd> c) {
  Gemm('N', 'N', a, b, alpha, 1.0, c);
}

void AccumulateProductTransposedB(const Eigen::Ref<const Eigen::MatrixXd>& a,
                                  const Eigen::Ref<const Eigen::MatrixXd>& b,
                                  double alpha,
                                  Eigen::Ref<Eigen::MatrixXd> c) {
  Gemm('N', 'T', a, b, alpha, 1.0, c);
}

double* ThreadWorkspace(Eigen::Index size) {
  thread_local std::vector<double> buffer;
  if (static_cast<Eigen::Index>(buffer.size()) < size) buffer = std::vector<double>(static_cast<std::size_t>(size));
  return buffer.data();
}

}  // namespace dissect::theory::detail
