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

#include "typenet/backend/cpu/arch/even_floats.hpp"
#include "typenet/backend/cpu/arch/kernel_rows.hpp"
#include "typenet/backend/cpu/arch/transpose.hpp"
#include "typenet/backend/cpu/im2col_positions.hpp"
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
  if constexpr (Stride == 2 && arch::even_float_lanes > 0) {
    // A vector also reads the odd float after its last tap, so it stops
    // where that leaves the row.
    t = arch::copy_even_floats(row + iw0, dst, t, inside_taps(iw0 + 1, 2, g.in_w, hi).end);
  }
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
    if (arch::pack_kernel_rows_where_faster(g, image, pc, kc, jc, nc, out)) return;
    detail::with_column_stride(g, [&]<int Stride>(std::integral_constant<int, Stride>) {
      pack<Stride>(pc, kc, jc, nc, out);
    });
  }

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
          arch::transpose_8x8(staged[0] + p, row_step, out + p * nr + j0, nr);
        for (std::int64_t p = whole; p < kc; ++p)
          for (int j = 0; j < block; ++j) out[p * nr + j0 + j] = staged[j][p];
      }
    }
  }
};

}  // namespace typenet::cpu
