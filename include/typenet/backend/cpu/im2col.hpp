// typenet/backend/cpu/im2col.hpp — unfolding image patches into GEMM columns.
//
// im2col writes a (C*KH*KW) x (OH*OW) row-major matrix whose row
// (c, ki, kj) holds, for every output position, the input value under that
// kernel tap (zero in the padding). col2im is its adjoint: it adds every
// column entry back onto the input position it came from. im2col_panels and
// im2col_transposed_panels write blocks of that matrix (or of its
// transpose) straight into the GEMM's packed panels, so a float convolution
// never stores the whole matrix: its blocks are built in L2 and used there.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#if defined(__AVX__)
#include <immintrin.h>
#endif

#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/backend/cpu/sgemm_kernel.hpp"
#include "typenet/core/geometry.hpp"

namespace typenet::cpu {

namespace detail {
/// The output columns [begin, end) whose input column, ow * stride_w +
/// offset_w, lies inside the image.
struct column_range {
  int begin, end;
};
inline column_range inside_columns(const window_geometry& g, int offset_w) {
  int begin = offset_w >= 0 ? 0 : (-offset_w + g.stride_w - 1) / g.stride_w;
  int end = g.in_w - offset_w <= 0 ? 0 : (g.in_w - offset_w + g.stride_w - 1) / g.stride_w;
  begin = std::min(begin, g.out_w);
  end = std::clamp(end, begin, g.out_w);
  return {begin, end};
}
}  // namespace detail

/// `image`: `channels` planes of in_h x in_w. `columns`: channels*KH*KW rows of out_h*out_w.
template <class T>
void im2col(const window_geometry& g, int channels, const T* image, T* columns) {
  const std::int64_t plane = g.out_plane();
  const int taps = g.kernel_h * g.kernel_w;
  parallel_for(std::int64_t{channels} * taps, plane, [&](std::int64_t row) {
    const int c = static_cast<int>(row / taps);
    const int ki = static_cast<int>(row % taps) / g.kernel_w;
    const int kj = static_cast<int>(row % taps) % g.kernel_w;
    const T* src = image + c * g.in_plane();
    T* dst = columns + row * plane;
    const int offset_w = kj * g.dilation_w - g.pad_w;
    const auto [ow_begin, ow_end] = detail::inside_columns(g, offset_w);
    for (int oh = 0; oh < g.out_h; ++oh) {
      T* out = dst + std::int64_t{oh} * g.out_w;
      const int ih = oh * g.stride_h - g.pad_h + ki * g.dilation_h;
      if (ih < 0 || ih >= g.in_h) {
        std::fill(out, out + g.out_w, T{0});
        continue;
      }
      const T* in = src + std::int64_t{ih} * g.in_w + offset_w;
      std::fill(out, out + ow_begin, T{0});
      if (g.stride_w == 1) {
        std::copy(in + ow_begin, in + ow_end, out + ow_begin);
      } else {
        for (int ow = ow_begin; ow < ow_end; ++ow) out[ow] = in[ow * g.stride_w];
      }
      std::fill(out + ow_end, out + g.out_w, T{0});
    }
  });
}

/// Adds `columns` (as produced by im2col) onto `image`, which the caller zeroes.
template <class T>
void col2im(const window_geometry& g, int channels, const T* columns, T* image) {
  const std::int64_t plane = g.out_plane();
  const int taps = g.kernel_h * g.kernel_w;
  // One thread per channel: every write of a channel comes from its own rows.
  parallel_for(channels, taps * plane, [&](std::int64_t c) {
    T* dst = image + c * g.in_plane();
    for (int tap = 0; tap < taps; ++tap) {
      const int ki = tap / g.kernel_w, kj = tap % g.kernel_w;
      const T* src = columns + (c * taps + tap) * plane;
      const int offset_w = kj * g.dilation_w - g.pad_w;
      const auto [ow_begin, ow_end] = detail::inside_columns(g, offset_w);
      for (int oh = 0; oh < g.out_h; ++oh) {
        const int ih = oh * g.stride_h - g.pad_h + ki * g.dilation_h;
        if (ih < 0 || ih >= g.in_h) continue;
        T* row = dst + std::int64_t{ih} * g.in_w + offset_w;
        const T* col = src + std::int64_t{oh} * g.out_w;
        if (g.stride_w == 1) {
          for (int ow = ow_begin; ow < ow_end; ++ow) row[ow] += col[ow];
        } else {
          for (int ow = ow_begin; ow < ow_end; ++ow) row[ow * g.stride_w] += col[ow];
        }
      }
    }
  });
}

namespace detail {
/// A run of consecutive output positions within one output row.
struct position_run {
  int first, count, oh, ow;
};

/// Splits positions [begin, begin + count) into runs within output rows.
inline int position_runs(const window_geometry& g, std::int64_t begin, std::int64_t count,
                         position_run* runs) {
  int n = 0;
  for (std::int64_t j = 0; j < count;) {
    const std::int64_t pos = begin + j;
    const int oh = static_cast<int>(pos / g.out_w), ow = static_cast<int>(pos % g.out_w);
    const int run = static_cast<int>(std::min<std::int64_t>(count - j, g.out_w - ow));
    runs[n++] = {static_cast<int>(j), run, oh, ow};
    j += run;
  }
  return n;
}

/// The taps t in [begin, end) of a run of `count` whose column iw0 + t *
/// stride lies inside [0, width).
struct tap_range {
  int begin, end;
};
inline tap_range inside_taps(int iw0, int stride, int width, int count) {
  const int begin = iw0 >= 0 ? 0 : std::min(count, (-iw0 + stride - 1) / stride);
  const int end =
      width <= iw0 ? begin : std::clamp((width - iw0 + stride - 1) / stride, begin, count);
  return {begin, end};
}

/// The input values under tap (ki, kj) of channel plane `src` for the
/// positions of `run`, into dst[0, run.count) (zero in the padding). Stride
/// is g.stride_w where it is 1 or 2 (with_column_stride), 0 otherwise: a
/// compile-time stride costs the runs (one output row each, often short: 28
/// positions for a 56 -> 28 layer) no division and makes their copies vector
/// moves.
template <int Stride>
inline void gather_row(const window_geometry& g, const float* src, int ki, int kj,
                       const position_run& run, float* dst) {
  const int ih = run.oh * g.stride_h - g.pad_h + ki * g.dilation_h;
  if (ih < 0 || ih >= g.in_h) {
    std::fill(dst, dst + run.count, 0.0f);
    return;
  }
  const int stride = Stride ? Stride : g.stride_w;
  const float* row = src + std::int64_t{ih} * g.in_w;
  const int iw0 = run.ow * stride - g.pad_w + kj * g.dilation_w;
  const auto [lo, hi] = inside_taps(iw0, stride, g.in_w, run.count);
  if constexpr (Stride == 1) {
    if (run.count == sgemm::nr && lo == 0 && hi == run.count) {
      // The forward packer's common case, a whole panel inside one image
      // row: a fixed-size copy the compiler turns into a few vector moves.
      for (int k = 0; k < sgemm::nr; ++k) dst[k] = row[iw0 + k];
      return;
    }
  }
  std::fill(dst, dst + lo, 0.0f);
  int t = lo;
#if defined(__AVX2__)
  if constexpr (Stride == 2) {
    // Eight even floats of sixteen: the even lanes of each 128-bit half by
    // vshufps, the halves put in order by vpermpd. A vector also reads the
    // odd float after its last tap, so it stops where that leaves the row.
    const int vector_end = inside_taps(iw0 + 1, 2, g.in_w, hi).end;
    for (; t + 8 <= vector_end; t += 8) {
      const float* p = row + iw0 + 2 * t;
      const __m256 evens =
          _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
      _mm256_storeu_ps(dst + t, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(evens),
                                                                       _MM_SHUFFLE(3, 1, 2, 0))));
    }
  }
#endif
  for (; t < hi; ++t) dst[t] = row[iw0 + t * stride];
  std::fill(dst + hi, dst + run.count, 0.0f);
}

/// Calls body(std::integral_constant<int, S>{}) with S = g.stride_w where the
/// packers have a compile-time version of it (1, 2), else S = 0.
template <class Body>
void with_column_stride(const window_geometry& g, Body&& body) {
  switch (g.stride_w) {
    case 1:
      return body(std::integral_constant<int, 1>{});
    case 2:
      return body(std::integral_constant<int, 2>{});
    default:
      return body(std::integral_constant<int, 0>{});
  }
}

/// Walks the rows (c, ki, kj) of the im2col matrix from a given row on
/// without a division per row.
struct tap_cursor {
  const window_geometry& g;
  std::int64_t c;
  int ki, kj;
  tap_cursor(const window_geometry& geometry, std::int64_t row) : g(geometry) {
    const int taps = g.kernel_h * g.kernel_w;
    c = row / taps;
    ki = static_cast<int>(row % taps) / g.kernel_w;
    kj = static_cast<int>(row % taps) % g.kernel_w;
  }
  void next() {
    if (++kj < g.kernel_w) return;
    kj = 0;
    if (++ki < g.kernel_h) return;
    ki = 0;
    ++c;
  }
};
}  // namespace detail

/// The GEMM B-packer of a convolution's forward product: B = im2col(image),
/// depth (c, ki, kj) by output positions; see sgemm::gemm_serial_packed.
struct im2col_panels {
  const window_geometry& g;
  const float* image;  ///< the group's input channels

  void operator()(std::int64_t pc, std::int64_t kc, std::int64_t jc, std::int64_t nc,
                  float* out) const {
    detail::with_column_stride(g, [&]<int Stride>(std::integral_constant<int, Stride>) {
      pack<Stride>(pc, kc, jc, nc, out);
    });
  }

  /// Stride: see gather_row. A stride-2 row is a vector extract (the stem
  /// and the downsampling layers of a ResNet: their packing was a tenth of
  /// ResNet-18's inference).
  template <int Stride>
  void pack(std::int64_t pc, std::int64_t kc, std::int64_t jc, std::int64_t nc, float* out) const {
    constexpr int nr = sgemm::nr;
    detail::position_run runs[nr];
    for (std::int64_t jp = 0; jp < nc; jp += nr, out += nr * kc) {
      const int cols = static_cast<int>(std::min<std::int64_t>(nr, nc - jp));
      const int run_count = detail::position_runs(g, jc + jp, cols, runs);
      detail::tap_cursor tap(g, pc);
      for (std::int64_t p = 0; p < kc; ++p, tap.next()) {
        const float* src = image + tap.c * g.in_plane();
        float* dst = out + p * nr;
        for (int q = 0; q < run_count; ++q)
          detail::gather_row<Stride>(g, src, tap.ki, tap.kj, runs[q], dst + runs[q].first);
        for (int j = cols; j < nr; ++j) dst[j] = 0.0f;
      }
    }
  }
};

namespace detail {
/// dst[p * dst_step + j] = src[j * src_step + p] for j, p < 8: one 8 x 8
/// block transposed, in registers where AVX is available (24 shuffles for
/// 64 floats instead of 64 scalar stores to 8 cache lines).
inline void transpose_8x8(const float* src, std::int64_t src_step, float* dst,
                          std::int64_t dst_step) {
#if defined(__AVX__)
  __m256 r[8], t[8];
  for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(src + j * src_step);
  for (int j = 0; j < 8; j += 2) {
    t[j] = _mm256_unpacklo_ps(r[j], r[j + 1]);  // r_j0 r_j+1,0 r_j1 r_j+1,1 (each lane)
    t[j + 1] = _mm256_unpackhi_ps(r[j], r[j + 1]);
  }
  for (int j = 0; j < 8; j += 4) {
    r[j] = _mm256_shuffle_ps(t[j], t[j + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[j + 1] = _mm256_shuffle_ps(t[j], t[j + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[j + 2] = _mm256_shuffle_ps(t[j + 1], t[j + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[j + 3] = _mm256_shuffle_ps(t[j + 1], t[j + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  // r[0..3] hold columns 0-3 (low lane) and 4-7 (high lane) of rows 0-3, r[4..7] of rows 4-7.
  for (int p = 0; p < 4; ++p) {
    _mm256_storeu_ps(dst + p * dst_step, _mm256_permute2f128_ps(r[p], r[p + 4], 0x20));
    _mm256_storeu_ps(dst + (p + 4) * dst_step, _mm256_permute2f128_ps(r[p], r[p + 4], 0x31));
  }
#else
  for (int p = 0; p < 8; ++p)
    for (int j = 0; j < 8; ++j) dst[p * dst_step + j] = src[j * src_step + p];
#endif
}
}  // namespace detail

/// The B-packer of a convolution's weight gradient: B = im2col(image)^T,
/// depth = output positions by (c, ki, kj). The panel wants each position's
/// nr taps side by side, but a tap's positions are what lie together in the
/// image; so eight taps at a time are gathered tap by tap into rows of a
/// small L1 buffer (contiguous copies), and the buffer is written to the
/// panel in 8 x 8 transposed blocks. Writing each tap straight into its panel
/// column stored one float per cache line, 2.7 cycles a value on Zen 3.
struct im2col_transposed_panels {
  const window_geometry& g;
  const float* image;

  void operator()(std::int64_t pc, std::int64_t kc, std::int64_t jc, std::int64_t nc,
                  float* out) const {
#if defined(__AVX512F__)
    // Where it measured faster than the transposes (1.5-2.3x on 4-wide
    // kernels, 1.8-6x on wide strided ones, 0.3-0.9x on 3x3, 5x5 and 7x7).
    if (g.dilation_w == 1 &&
        (g.kernel_w == 4 || (g.kernel_w >= 8 && g.kernel_w <= 16 && g.stride_w > 1))) {
      pack_kernel_rows(pc, kc, jc, nc, out);
      return;
    }
#endif
    detail::with_column_stride(g, [&]<int Stride>(std::integral_constant<int, Stride>) {
      pack<Stride>(pc, kc, jc, nc, out);
    });
  }

#if defined(__AVX512F__)
  /// The panel's taps of one channel and kernel row (c, ki), kernel_w of
  /// them (fewer where the panel cuts a row), read kernel_w consecutive
  /// floats of one image row at every position: a masked vector load and
  /// store per row of taps and position instead of gathers and transposes.
  void pack_kernel_rows(std::int64_t pc, std::int64_t kc, std::int64_t jc, std::int64_t nc,
                        float* out) const {
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
#endif

  template <int Stride>
  void pack(std::int64_t pc, std::int64_t kc, std::int64_t jc, std::int64_t nc, float* out) const {
    constexpr int nr = sgemm::nr, block = 8;
    static_assert(nr % block == 0);
    // Rows of kc_max floats; the last kc % 8 positions are copied one by one.
    constexpr std::int64_t row_step = sgemm::kc_max;
    alignas(64) float staged[block][row_step];
    detail::position_run runs[sgemm::kc_max];
    const int run_count = detail::position_runs(g, pc, kc, runs);
    const std::int64_t whole = kc / block * block;
    for (std::int64_t jp = 0; jp < nc; jp += nr, out += nr * kc) {
      const int cols = static_cast<int>(std::min<std::int64_t>(nr, nc - jp));
      detail::tap_cursor tap(g, jc + jp);
      for (int j0 = 0; j0 < nr; j0 += block) {
        for (int j = 0; j < block; ++j) {
          float* row = staged[j];
          if (j0 + j >= cols) {
            std::fill(row, row + kc, 0.0f);
            continue;
          }
          const float* src = image + tap.c * g.in_plane();
          for (int q = 0; q < run_count; ++q)
            detail::gather_row<Stride>(g, src, tap.ki, tap.kj, runs[q], row + runs[q].first);
          tap.next();
        }
        for (std::int64_t p = 0; p < whole; p += block)
          detail::transpose_8x8(staged[0] + p, row_step, out + p * nr + j0, nr);
        for (std::int64_t p = whole; p < kc; ++p)
          for (int j = 0; j < block; ++j) out[p * nr + j0 + j] = staged[j][p];
      }
    }
  }
};

}  // namespace typenet::cpu
