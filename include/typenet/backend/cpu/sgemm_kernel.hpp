// typenet/backend/cpu/sgemm_kernel.hpp — typenet's own single-precision GEMM.
//
// The BLIS scheme: C is computed in micro-tiles of `mr` rows by `nr` columns
// held in vector registers, from B packed into nr-column panels, with k cut
// into blocks that keep a B panel in L1 and the A rows of a block in L2. A is
// not packed: the micro-tile broadcasts one element of each of its mr rows
// per step, and a broadcast reads a single float wherever it lies, so A is
// read in place (BLIS packs A for the sake of other kernels' vector loads). The micro-tile is
// written with intrinsics for the widest instruction set the translation unit is compiled for
// (AVX-512, AVX2 + FMA, or SSE2), so the same source reaches most of the machine's floating-point
// peak when built with -march=native and stays correct on baseline x86-64. On other architectures
// the same loops run on scalars.
//
// Only the serial product is here; gemm.hpp splits C between threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

#include "typenet/backend/cpu/arch/float_vector.hpp"
#include "typenet/backend/cpu/scratch.hpp"

namespace typenet::cpu::sgemm {

// One SIMD register of floats (backend/cpu/arch/float_vector.hpp).
using arch::vec;
using arch::vec_broadcast;
using arch::vec_floats;
using arch::vec_fmadd;
using arch::vec_load;
using arch::vec_store;
using arch::vec_zero;
inline constexpr int mr = arch::micro_rows;

inline constexpr int nr = 2 * vec_floats;    // micro-tile columns: two registers
inline constexpr std::int64_t kc_max = 256;  // a B panel, kc x nr, stays in L1
inline constexpr std::int64_t mc_max = 16 * mr;
inline constexpr std::int64_t nc_max = 512;  // a packed B block, kc x nc, stays in L2

/// C[rows x cols] += alpha * A * B_panel for one micro-tile: A(i, p) is
/// a[i * row_step + p * depth_step], read in place (a broadcast does not need
/// contiguous data, so A is never packed); B_panel is kc x nr with its rows
/// b_step floats apart (nr when packed).
template <int Rows>
void micro_tile(std::int64_t kc, const float* a, std::int64_t row_step, std::int64_t depth_step,
                const float* b, std::int64_t b_step, float* c, std::int64_t ldc, int cols,
                float alpha) {
  // C's rows are far apart in memory; start loading them now so that the
  // update at the end does not wait on them.
  for (int i = 0; i < Rows; ++i) {
    __builtin_prefetch(c + i * ldc, 1);
    __builtin_prefetch(c + i * ldc + nr - 1, 1);
  }
  vec acc[Rows][2];
  for (int i = 0; i < Rows; ++i) acc[i][0] = acc[i][1] = vec_zero();
  for (std::int64_t p = 0; p < kc; ++p, a += depth_step, b += b_step) {
    const vec b0 = vec_load(b), b1 = vec_load(b + vec_floats);
#pragma GCC unroll 16
    for (int i = 0; i < Rows; ++i) {
      const vec ai = vec_broadcast(a[i * row_step]);
      acc[i][0] = vec_fmadd(ai, b0, acc[i][0]);
      acc[i][1] = vec_fmadd(ai, b1, acc[i][1]);
    }
  }
  const vec scale = vec_broadcast(alpha);
  if (cols == nr) {
    for (int i = 0; i < Rows; ++i) {
      float* row = c + i * ldc;
      vec_store(row, vec_fmadd(scale, acc[i][0], vec_load(row)));
      vec_store(row + vec_floats, vec_fmadd(scale, acc[i][1], vec_load(row + vec_floats)));
    }
    return;
  }
  alignas(64) float tile[nr];
  for (int i = 0; i < Rows; ++i) {
    vec_store(tile, acc[i][0]);
    vec_store(tile + vec_floats, acc[i][1]);
    for (int j = 0; j < cols; ++j) c[i * ldc + j] += alpha * tile[j];
  }
}

template <int... Rows>
void micro_tile_rows(int rows, std::int64_t kc, const float* a, std::int64_t row_step,
                     std::int64_t depth_step, const float* b, std::int64_t b_step, float* c,
                     std::int64_t ldc, int cols, float alpha, std::integer_sequence<int, Rows...>) {
  // The last, partial row block runs the kernel for its exact row count.
  ((rows == Rows + 1
        ? micro_tile<Rows + 1>(kc, a, row_step, depth_step, b, b_step, c, ldc, cols, alpha)
        : void()),
   ...);
}

/// Packs depth [0, kc) x columns [0, n) of op(B) into nr-column panels, zero-padded.
inline void pack_b(bool trans, std::int64_t kc, std::int64_t n, const float* b, std::int64_t ldb,
                   float* out) {
  const std::int64_t panels = (n + nr - 1) / nr, full = n / nr;
  if (!trans) {  // op(B)(p, j) = b[p * ldb + j]
    // Row by row across every panel: each row of B is read once, front to
    // back, which the prefetchers follow; panel by panel, each of the kc
    // rows would be a new cache line (and a new page when ldb is large) per
    // 16 floats, and packing cost more than the products on short GEMMs.
    for (std::int64_t p = 0; p < kc; ++p) {
      const float* src = b + p * ldb;
      float* dst = out + p * nr;
      for (std::int64_t panel = 0; panel < full; ++panel, src += nr, dst += nr * kc)
        for (int j = 0; j < nr; ++j) dst[j] = src[j];
      if (full < panels) {
        const int cols = static_cast<int>(n - full * nr);
        for (int j = 0; j < cols; ++j) dst[j] = src[j];
        for (int j = cols; j < nr; ++j) dst[j] = 0.0f;
      }
    }
    return;
  }
  for (std::int64_t j0 = 0; j0 < n; j0 += nr, out += nr * kc) {
    const int cols = static_cast<int>(std::min<std::int64_t>(nr, n - j0));
    for (int j = 0; j < cols; ++j) {
      const float* src = b + (j0 + j) * ldb;
      for (std::int64_t p = 0; p < kc; ++p) out[p * nr + j] = src[p];
    }
    for (int j = cols; j < nr; ++j)
      for (std::int64_t p = 0; p < kc; ++p) out[p * nr + j] = 0.0f;
  }
}

/// Packs op(B) from a row-major matrix in memory.
struct matrix_panels {
  bool trans;
  const float* b;
  std::int64_t ldb;
  /// Depth [pc, pc + kc) x columns [jc, jc + nc) into nr-column panels at `out`.
  void operator()(std::int64_t pc, std::int64_t kc, std::int64_t jc, std::int64_t nc,
                  float* out) const {
    pack_b(trans, kc, nc, trans ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, out);
  }
};

/// C[m x n] += alpha * op(A) * B on the calling thread, C and A row-major.
/// `pack_b(pc, kc, jc, nc, out)` writes B's block (depth [pc, pc+kc),
/// columns [jc, jc+nc)) as nr-column panels; convolutions pass a packer that
/// reads the image directly, so B (the im2col matrix) never exists whole.
template <class PackB>
void gemm_serial_packed(bool trans_a, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                        const float* a, std::int64_t lda, const PackB& pack_b, float* c,
                        std::int64_t ldc) {
  if (m <= 0 || n <= 0 || k <= 0) return;
  const std::int64_t row_step = trans_a ? 1 : lda, depth_step = trans_a ? lda : 1;
  const std::int64_t nc_cap = std::min(nc_max, (n + nr - 1) / nr * nr);
  float* packed_b = scratch<float>(scratch_slot::gemm, std::min(kc_max, k) * nc_cap);
  for (std::int64_t jc = 0; jc < n; jc += nc_max) {
    const std::int64_t nc = std::min(nc_max, n - jc);
    for (std::int64_t pc = 0; pc < k; pc += kc_max) {
      const std::int64_t kc = std::min(kc_max, k - pc);
      pack_b(pc, kc, jc, nc, packed_b);
      for (std::int64_t ic = 0; ic < m; ic += mc_max) {
        const std::int64_t mc = std::min(mc_max, m - ic);
        for (std::int64_t jr = 0; jr < nc; jr += nr) {
          const int cols = static_cast<int>(std::min<std::int64_t>(nr, nc - jr));
          const float* b_panel = packed_b + jr * kc;
          for (std::int64_t ir = 0; ir < mc; ir += mr) {
            const int rows = static_cast<int>(std::min<std::int64_t>(mr, mc - ir));
            float* c_tile = c + (ic + ir) * ldc + jc + jr;
            const float* a_tile = a + (ic + ir) * row_step + pc * depth_step;
            if (rows == mr)
              micro_tile<mr>(kc, a_tile, row_step, depth_step, b_panel, nr, c_tile, ldc, cols,
                             alpha);
            else
              micro_tile_rows(rows, kc, a_tile, row_step, depth_step, b_panel, nr, c_tile, ldc,
                              cols, alpha, std::make_integer_sequence<int, mr - 1>{});
          }
        }
      }
    }
  }
}

/// C[m x n] += alpha * op(A) * op(B) on the calling thread; all row-major.
inline void gemm_serial(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                        float alpha, const float* a, std::int64_t lda, const float* b,
                        std::int64_t ldb, float* c, std::int64_t ldc) {
  gemm_serial_packed(trans_a, m, n, k, alpha, a, lda, matrix_panels{trans_b, b, ldb}, c, ldc);
}

}  // namespace typenet::cpu::sgemm
