// typenet/backend/cpu/arch/avx512/kernel_rows.hpp — weight-gradient panels by kernel rows, AVX-512.
//
// A variant of im2col_transposed_panels (backend/cpu/im2col.hpp) for the
// kernels where it measured faster than gathering taps and transposing
// 8 x 8 blocks: 1.5-2.3x on 4-wide kernels, 1.8-6x on wide strided ones
// (0.3-0.9x on 3x3, 5x5 and 7x7, which keep the transposes).
#pragma once

#include <algorithm>
#include <cstdint>

#include "typenet/backend/cpu/arch/isa.hpp"
#include "typenet/backend/cpu/im2col_positions.hpp"
#include "typenet/backend/cpu/sgemm_kernel.hpp"
#include "typenet/core/geometry.hpp"

namespace typenet::cpu::arch {

/// The panel's taps of one channel and kernel row (c, ki), kernel_w of
/// them (fewer where the panel cuts a row), read kernel_w consecutive
/// floats of one image row at every position: a masked vector load and
/// store per row of taps and position instead of gathers and transposes.
inline void pack_kernel_rows(const window_geometry& g, const float* image, std::int64_t pc,
                             std::int64_t kc, std::int64_t jc, std::int64_t nc, float* out) {
  constexpr int nr = sgemm::nr;
  struct kernel_row {
    const float* plane;
    int ki, kj, count, lane;  // taps kj .. kj + count - 1 of row ki, at panel lane `lane`
  };
  kernel_row kernel_rows[nr];
  detail::position_run runs[sgemm::kc_max];
  const int run_count = detail::position_runs(g, pc, kc, runs);
  const __m512 zero = _mm512_setzero_ps();
  for (std::int64_t jp = 0; jp < nc; jp += nr, out += nr * kc) {
    const int cols = static_cast<int>(std::min<std::int64_t>(nr, nc - jp));
    int count = 0;
    detail::tap_cursor tap(g, jc + jp);
    for (int j = 0; j < cols;) {
      const int taps = std::min(g.kernel_w - tap.kj, cols - j);
      kernel_rows[count++] = {image + tap.c * g.in_plane(), tap.ki, tap.kj, taps, j};
      j += taps;
      for (int t = 0; t < taps; ++t) tap.next();
    }
    if (cols < nr) {
      const __mmask16 lanes = static_cast<__mmask16>(0xffffu << (cols % 16));
      for (std::int64_t p = 0; p < kc; ++p) {
        float* row = out + p * nr;
        if (cols < 16) {
          _mm512_mask_storeu_ps(row, lanes, zero);
          _mm512_storeu_ps(row + 16, zero);
        } else {
          _mm512_mask_storeu_ps(row + 16, lanes, zero);
        }
      }
    }
    // Taps k of one position p of `run`, their kernel row's image row `src` (null: padding).
    const auto store_taps = [&](const kernel_row& r, const float* src, int iw, float* dst) {
      const __mmask16 all = static_cast<__mmask16>((1u << r.count) - 1);
      if (src && iw >= 0 && iw + r.count <= g.in_w) {
        _mm512_mask_storeu_ps(dst, all, _mm512_maskz_loadu_ps(all, src + iw));
        return;
      }
      // Partly in the padding: zeros, then the taps inside.
      _mm512_mask_storeu_ps(dst, all, zero);
      const int lo = std::max(0, -iw), hi = std::min(r.count, g.in_w - iw);
      if (src && lo < hi) {
        const __mmask16 inside = static_cast<__mmask16>((1u << (hi - lo)) - 1);
        _mm512_mask_storeu_ps(dst + lo, inside, _mm512_maskz_loadu_ps(inside, src + iw + lo));
      }
    };
    // Four whole rows of four taps fill a vector: built from 128-bit loads
    // and stored whole (a 4-wide kernel, ConvTranspose2d k4's; 8 loads and
    // 2 stores for a position's 32 taps instead of 8 masked stores).
    const bool quads = g.kernel_w == 4 && count == nr / 4;
    for (int q = 0; q < run_count; ++q) {
      const detail::position_run& run = runs[q];
      const float* src[nr];
      bool rows_inside = true;
      for (int k = 0; k < count; ++k) {
        const int ih = run.oh * g.stride_h - g.pad_h + kernel_rows[k].ki * g.dilation_h;
        src[k] =
            ih >= 0 && ih < g.in_h ? kernel_rows[k].plane + std::int64_t{ih} * g.in_w : nullptr;
        rows_inside = rows_inside && src[k];
      }
      float* dst = out + std::int64_t{run.first} * nr;
      const int iw0 = run.ow * g.stride_w - g.pad_w;
      for (int p = 0; p < run.count; ++p, dst += nr) {
        const int iw = iw0 + p * g.stride_w;
        if (quads && rows_inside && iw >= 0 && iw + 4 <= g.in_w) {
          for (int half = 0; half < 2; ++half) {
            const float* const* s4 = src + 4 * half;
            __m512 v = _mm512_castps128_ps512(_mm_loadu_ps(s4[0] + iw));
            v = _mm512_insertf32x4(v, _mm_loadu_ps(s4[1] + iw), 1);
            v = _mm512_insertf32x4(v, _mm_loadu_ps(s4[2] + iw), 2);
            v = _mm512_insertf32x4(v, _mm_loadu_ps(s4[3] + iw), 3);
            _mm512_storeu_ps(dst + 16 * half, v);
          }
          continue;
        }
        for (int k = 0; k < count; ++k)
          store_taps(kernel_rows[k], src[k], iw + kernel_rows[k].kj, dst + kernel_rows[k].lane);
      }
    }
  }
}

/// Packs the panel block by kernel rows and returns true where that is the
/// faster way (4-wide kernels, 8- to 16-wide strided ones, undilated).
inline bool pack_kernel_rows_where_faster(const window_geometry& g, const float* image,
                                          std::int64_t pc, std::int64_t kc, std::int64_t jc,
                                          std::int64_t nc, float* out) {
  if (g.dilation_w != 1 ||
      !(g.kernel_w == 4 || (g.kernel_w >= 8 && g.kernel_w <= 16 && g.stride_w > 1)))
    return false;
  pack_kernel_rows(g, image, pc, kc, jc, nc, out);
  return true;
}

}  // namespace typenet::cpu::arch
