// typenet/backend/cuda/blas.cuh — matrix products on the device: cuBLAS.
//
// Layers think in row-major matrices (PyTorch's layouts); cuBLAS is
// column-major. A row-major C = op(A) op(B) is the column-major
// C^T = op(B)^T op(A)^T, so each row-major call becomes one cuBLAS call with
// the operands exchanged. cuBLAS runs in its default math mode: no TF32, so
// float products are float products, as on the Cpu backend.
//
// On the host (TYPENET_CUDA_ON_HOST) the column-major primitive is a
// reference product with cuBLAS's signature and semantics (C is not read
// when beta is 0), so the row-major translation is exercised by the same
// tests that run on a GPU.
#pragma once

#include <cstdint>
#include <type_traits>

#include "typenet/backend/cuda/errors.cuh"
#include "typenet/backend/cuda/launch.cuh"

#if !TYPENET_CUDA_DEVICE
#include <Eigen/Core>
#endif

namespace typenet::cuda {

namespace detail {

#if TYPENET_CUDA_DEVICE
/// The calling thread's cuBLAS handle, created on first use, on the default stream.
inline cublasHandle_t blas_handle() {
  struct owner {
    cublasHandle_t handle = nullptr;
    owner() { check(cublasCreate(&handle), "cublasCreate"); }
    ~owner() {
      if (handle) cublasDestroy(handle);
    }
  };
  thread_local owner o;
  return o.handle;
}
#endif

/// Column-major C[m x n] = alpha op(A) op(B) + beta C over `count` matrices
/// `stride_*` elements apart (cublas<T>gemmStridedBatched).
template <class T>
void gemm_column_major(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                       T alpha, const T* a, std::int64_t lda, std::int64_t stride_a, const T* b,
                       std::int64_t ldb, std::int64_t stride_b, T beta, T* c, std::int64_t ldc,
                       std::int64_t stride_c, std::int64_t count) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "the Cuda backend's products are float or double");
  if (m <= 0 || n <= 0 || count <= 0) return;
#if TYPENET_CUDA_DEVICE
  const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const auto i = [](std::int64_t v) { return static_cast<int>(v); };
  if constexpr (std::is_same_v<T, float>) {
    check(cublasSgemmStridedBatched(blas_handle(), op_a, op_b, i(m), i(n), i(k), &alpha, a, i(lda),
                                    stride_a, b, i(ldb), stride_b, &beta, c, i(ldc), stride_c,
                                    i(count)),
          "cublasSgemmStridedBatched");
  } else {
    check(cublasDgemmStridedBatched(blas_handle(), op_a, op_b, i(m), i(n), i(k), &alpha, a, i(lda),
                                    stride_a, b, i(ldb), stride_b, &beta, c, i(ldc), stride_c,
                                    i(count)),
          "cublasDgemmStridedBatched");
  }
#else
  using matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
  using view = Eigen::Map<const matrix, 0, Eigen::OuterStride<>>;
  for (std::int64_t s = 0; s < count; ++s) {
    const view a_s(a + s * stride_a, trans_a ? k : m, trans_a ? m : k, Eigen::OuterStride<>(lda));
    const view b_s(b + s * stride_b, trans_b ? n : k, trans_b ? k : n, Eigen::OuterStride<>(ldb));
    Eigen::Map<matrix, 0, Eigen::OuterStride<>> c_s(c + s * stride_c, m, n,
                                                    Eigen::OuterStride<>(ldc));
    matrix product(m, n);
    if (k <= 0) {
      product.setZero();
    } else if (trans_a && trans_b) {
      product.noalias() = a_s.transpose() * b_s.transpose();
    } else if (trans_a) {
      product.noalias() = a_s.transpose() * b_s;
    } else if (trans_b) {
      product.noalias() = a_s * b_s.transpose();
    } else {
      product.noalias() = a_s * b_s;
    }
    if (beta == T{0}) {
      c_s = alpha * product;
    } else {
      c_s = beta * c_s + alpha * product;
    }
  }
#endif
}

}  // namespace detail

/// Row-major C[m x n] = alpha op(A)[m x k] op(B)[k x n] + beta C in device
/// memory; op(A) = A (lda >= k) or A^T stored k x m (lda >= m), likewise B.
/// With beta = 0, C is not read.
template <class T>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha,
          const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c,
          std::int64_t ldc) {
  detail::gemm_column_major(trans_b, trans_a, n, m, k, alpha, b, ldb, 0, a, lda, 0, beta, c, ldc, 0,
                            1);
}

/// gemm for `count` problems whose A, B and C are stride_a, stride_b and
/// stride_c elements apart (0: the same matrix for every problem).
template <class T>
void gemm_batched(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                  T alpha, const T* a, std::int64_t lda, std::int64_t stride_a, const T* b,
                  std::int64_t ldb, std::int64_t stride_b, T beta, T* c, std::int64_t ldc,
                  std::int64_t stride_c, std::int64_t count) {
  detail::gemm_column_major(trans_b, trans_a, n, m, k, alpha, b, ldb, stride_b, a, lda, stride_a,
                            beta, c, ldc, stride_c, count);
}

}  // namespace typenet::cuda
