// typenet/backend/cpu/upsample.hpp — nearest and bilinear upsampling by integer factors.
//
// Bilinear follows PyTorch's align_corners=False with a given scale factor
// (detail::bilinear_tap in core/windows.hpp).
#pragma once

#include <algorithm>
#include <cstdint>

#include "typenet/backend/cpu/kernels.hpp"
#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/core/device.hpp"
#include "typenet/core/geometry.hpp"
#include "typenet/core/windows.hpp"

namespace typenet {

namespace detail {
/// Nearest upsampling, row by row: each input row is widened once (every
/// value repeated stride_w times) and copied to the other stride_h - 1 rows;
/// factor 2 along the row gets its own loop, which GCC vectorizes with
/// interleaving stores.
template <class T>
void nearest_upsample_plane(const window_geometry& g, const T* in, T* out) {
  for (int ih = 0; ih < g.in_h; ++ih) {
    const T* row = in + std::int64_t{ih} * g.in_w;
    T* first = out + std::int64_t{ih} * g.stride_h * g.out_w;
    if (g.stride_w == 2) {
      for (int iw = 0; iw < g.in_w; ++iw) first[2 * iw] = first[2 * iw + 1] = row[iw];
    } else {
      for (int iw = 0; iw < g.in_w; ++iw)
        for (int s = 0; s < g.stride_w; ++s) first[iw * g.stride_w + s] = row[iw];
    }
    for (int r = 1; r < g.stride_h; ++r) std::copy_n(first, g.out_w, first + r * g.out_w);
  }
}

/// The adjoint: each input value's gradient sums its stride_h x stride_w
/// block, row by row of the block.
template <class T>
void nearest_upsample_plane_backward(const window_geometry& g, const T* grad_out, T* grad_in) {
  for (int ih = 0; ih < g.in_h; ++ih) {
    T* grad = grad_in + std::int64_t{ih} * g.in_w;
    const T* block = grad_out + std::int64_t{ih} * g.stride_h * g.out_w;
    for (int r = 0; r < g.stride_h; ++r) {
      const T* row = block + r * g.out_w;
      if (g.stride_w == 2) {
        if (r == 0)
          for (int iw = 0; iw < g.in_w; ++iw) grad[iw] = row[2 * iw] + row[2 * iw + 1];
        else
          for (int iw = 0; iw < g.in_w; ++iw) grad[iw] += row[2 * iw] + row[2 * iw + 1];
        continue;
      }
      for (int iw = 0; iw < g.in_w; ++iw) {
        T sum = row[iw * g.stride_w];
        for (int s = 1; s < g.stride_w; ++s) sum += row[iw * g.stride_w + s];
        grad[iw] = r == 0 ? sum : grad[iw] + sum;
      }
    }
  }
}

}  // namespace detail

/// g.in_* is the input map, g.out_* the upsampled one, g.stride_* the scale factors.
template <class T>
void backend::kernels<Cpu>::upsample_forward(bool bilinear, const window_geometry& g, int batch,
                                             const T* x, T* y) {
  cpu::parallel_for(std::int64_t{batch} * g.in_c, g.out_plane() * 4, [&](std::int64_t plane) {
    const T* in = x + plane * g.in_plane();
    T* out = y + plane * g.out_plane();
    if (!bilinear) return detail::nearest_upsample_plane(g, in, out);
    for (int oh = 0; oh < g.out_h; ++oh) {
      const auto h = detail::bilinear_tap(oh, g.stride_h, g.in_h);
      for (int ow = 0; ow < g.out_w; ++ow) {
        const auto w = detail::bilinear_tap(ow, g.stride_w, g.in_w);
        out[oh * g.out_w + ow] = static_cast<T>(
            h.w0 * (w.w0 * in[h.i0 * g.in_w + w.i0] + w.w1 * in[h.i0 * g.in_w + w.i1]) +
            h.w1 * (w.w0 * in[h.i1 * g.in_w + w.i0] + w.w1 * in[h.i1 * g.in_w + w.i1]));
      }
    }
  });
}

template <class T>
void backend::kernels<Cpu>::upsample_backward(bool bilinear, const window_geometry& g, int batch,
                                              const T* dy, T* dx) {
  cpu::parallel_for(std::int64_t{batch} * g.in_c, g.out_plane() * 4, [&](std::int64_t plane) {
    T* grad_in = dx + plane * g.in_plane();
    const T* grad_out = dy + plane * g.out_plane();
    if (!bilinear) return detail::nearest_upsample_plane_backward(g, grad_out, grad_in);
    for (std::int64_t i = 0; i < g.in_plane(); ++i) grad_in[i] = T{0};
    for (int oh = 0; oh < g.out_h; ++oh) {
      const auto h = detail::bilinear_tap(oh, g.stride_h, g.in_h);
      for (int ow = 0; ow < g.out_w; ++ow) {
        const auto w = detail::bilinear_tap(ow, g.stride_w, g.in_w);
        const double d = grad_out[oh * g.out_w + ow];
        grad_in[h.i0 * g.in_w + w.i0] += static_cast<T>(h.w0 * w.w0 * d);
        grad_in[h.i0 * g.in_w + w.i1] += static_cast<T>(h.w0 * w.w1 * d);
        grad_in[h.i1 * g.in_w + w.i0] += static_cast<T>(h.w1 * w.w0 * d);
        grad_in[h.i1 * g.in_w + w.i1] += static_cast<T>(h.w1 * w.w1 * d);
      }
    }
  });
}

}  // namespace typenet
