// typenet/backend/cpu/gemm.hpp — row-major GEMM without allocation.
//
// C += alpha * op(A) * op(B) for row-major matrices given by pointer and
// leading dimension, the form every layer needs (convolutions, linear).
// float runs on typenet's own packed kernel (sgemm_kernel.hpp); other types
// on Eigen's GEBP driver, called with our own blocking object so that its
// packing panels live in per-thread scratch instead of malloc'd memory.
// Outside a parallel region C is split across threads, by columns or, when
// it is taller than wide, by rows; inside one (e.g. a per-sample loop) the
// product runs on the calling thread.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <type_traits>

#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/backend/cpu/scratch.hpp"
#include "typenet/backend/cpu/sgemm_kernel.hpp"

namespace typenet::cpu {

namespace detail {

template <class T>
class gemm_blocking : public Eigen::internal::level3_blocking<T, T> {
 public:
  // rows/cols as seen by Eigen's column-major driver.
  gemm_blocking(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth) {
    this->m_mc = rows;
    this->m_nc = cols;
    this->m_kc = depth;
    Eigen::internal::computeProductBlockingSizes<T, T, 1, Eigen::Index>(this->m_kc, this->m_mc,
                                                                        this->m_nc, 1);
    const std::size_t size_a = round_up(static_cast<std::size_t>(this->m_kc * this->m_mc));
    const std::size_t size_b = round_up(static_cast<std::size_t>(this->m_kc * this->m_nc));
    T* panels = scratch<T>(scratch_slot::gemm, size_a + size_b);
    this->m_blockA = panels;
    this->m_blockB = panels + size_a;
  }

 private:
  static std::size_t round_up(std::size_t n) { return (n + 15) / 16 * 16; }
};

template <class T>
void gemm_serial(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                 T alpha, const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T* c,
                 std::int64_t ldc) {
  using Eigen::ColMajor;
  using Eigen::RowMajor;
  using Eigen::internal::general_matrix_matrix_product;
  if (m <= 0 || n <= 0 || k <= 0) return;
  if constexpr (std::is_same_v<T, float>) {
    sgemm::gemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, c, ldc);
  } else {
    // A row-major result is computed by Eigen as the column-major C^T = B^T A^T,
    // so its "rows" are our n and its "cols" our m.
    gemm_blocking<T> blocking(n, m, k);
    auto run = [&](auto lhs_order, auto rhs_order) {
      general_matrix_matrix_product<Eigen::Index, T, decltype(lhs_order)::value, false, T,
                                    decltype(rhs_order)::value, false, RowMajor, 1>::run(m, n, k, a,
                                                                                         lda, b,
                                                                                         ldb, c, 1,
                                                                                         ldc, alpha,
                                                                                         blocking,
                                                                                         nullptr);
    };
    using row = std::integral_constant<int, RowMajor>;
    using col = std::integral_constant<int, ColMajor>;
    if (!trans_a && !trans_b) run(row{}, row{});
    if (!trans_a && trans_b) run(row{}, col{});
    if (trans_a && !trans_b) run(col{}, row{});
    if (trans_a && trans_b) run(col{}, col{});
  }
}

}  // namespace detail

/// C[m x n] += alpha * op(A)[m x k] * op(B)[k x n], all row-major.
/// op(A) = A (lda >= k) or A^T stored as k x m (lda >= m); likewise B.
template <class T>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha,
          const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T* c, std::int64_t ldc) {
  const std::int64_t work = 2 * m * n * k;
  if (n >= m) {
    parallel_chunks(n, 32, work, [&](std::int64_t begin, std::int64_t end) {
      const T* b_part = trans_b ? b + begin * ldb : b + begin;
      detail::gemm_serial(trans_a, trans_b, m, end - begin, k, alpha, a, lda, b_part, ldb,
                          c + begin, ldc);
    });
  } else {
    parallel_chunks(m, 48, work, [&](std::int64_t begin, std::int64_t end) {
      const T* a_part = trans_a ? a + begin : a + begin * lda;
      detail::gemm_serial(trans_a, trans_b, end - begin, n, k, alpha, a_part, lda, b, ldb,
                          c + begin * ldc, ldc);
    });
  }
}

/// C[m x n] += alpha * op(A) * B for float, where B is produced block by
/// block by `pack_b(pc, kc, jc, nc, out)` (see sgemm::gemm_serial_packed).
/// Outside a parallel region the columns of C are split across threads.
template <class PackB>
void gemm_packed(bool trans_a, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                 const float* a, std::int64_t lda, const PackB& pack_b, float* c,
                 std::int64_t ldc) {
  parallel_chunks(n, 32, 2 * m * n * k, [&](std::int64_t begin, std::int64_t end) {
    const auto shifted = [&](std::int64_t pc, std::int64_t kc, std::int64_t jc, std::int64_t nc,
                             float* out) { pack_b(pc, kc, begin + jc, nc, out); };
    sgemm::gemm_serial_packed(trans_a, m, end - begin, k, alpha, a, lda, shifted, c + begin, ldc);
  });
}

}  // namespace typenet::cpu
