// typenet/backend/cpu/im2col.hpp — unfolding image patches into GEMM columns.
//
// im2col writes a (C*KH*KW) x (OH*OW) row-major matrix whose row
// (c, ki, kj) holds, for every output position, the input value under that
// kernel tap (zero in the padding). col2im is its adjoint: it adds every
// column entry back onto the input position it came from.
#pragma once

#include <algorithm>
#include <cstdint>

#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/core/geometry.hpp"

namespace typenet::cpu {

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
    // Output columns whose input column lies inside the image: [ow_begin, ow_end).
    const int offset_w = kj * g.dilation_w - g.pad_w;
    int ow_begin = offset_w >= 0 ? 0 : (-offset_w + g.stride_w - 1) / g.stride_w;
    int ow_end = g.in_w - offset_w <= 0 ? 0 : (g.in_w - offset_w + g.stride_w - 1) / g.stride_w;
    ow_begin = std::min(ow_begin, g.out_w);
    ow_end = std::clamp(ow_end, ow_begin, g.out_w);
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
      for (int oh = 0; oh < g.out_h; ++oh) {
        const int ih = oh * g.stride_h - g.pad_h + ki * g.dilation_h;
        if (ih < 0 || ih >= g.in_h) continue;
        T* row = dst + std::int64_t{ih} * g.in_w;
        const T* col = src + std::int64_t{oh} * g.out_w;
        for (int ow = 0; ow < g.out_w; ++ow) {
          const int iw = ow * g.stride_w - g.pad_w + kj * g.dilation_w;
          if (iw >= 0 && iw < g.in_w) row[iw] += col[ow];
        }
      }
    }
  });
}

}  // namespace typenet::cpu
