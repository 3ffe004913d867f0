// typenet/backend/cuda/upsample.cuh — nearest and bilinear upsampling by integer factors.
//
// Forward: one thread per output. Backward: one thread per input value,
// gathering its outputs' contributions in the Cpu backend's order and
// grouping, so both backends round alike.
#pragma once

#include <cstdint>

#include "typenet/backend/cuda/kernels.cuh"
#include "typenet/backend/cuda/launch.cuh"
#include "typenet/core/device.hpp"
#include "typenet/core/geometry.hpp"
#include "typenet/core/windows.hpp"

namespace typenet {

/// g.in_* is the input map, g.out_* the upsampled one, g.stride_* the scale factors.
template <class T>
void backend::kernels<Cuda>::upsample_forward(bool bilinear, const window_geometry& g, int batch,
                                              const T* x, T* y) {
  cuda::for_each_index(
      std::int64_t{batch} * g.in_c * g.out_plane(), [=] TYPENET_HOST_DEVICE(std::int64_t o) {
        const T* in = x + o / g.out_plane() * g.in_plane();
        const int oh = static_cast<int>(o % g.out_plane() / g.out_w);
        const int ow = static_cast<int>(o % g.out_w);
        if (!bilinear) {
          y[o] = in[oh / g.stride_h * g.in_w + ow / g.stride_w];
          return;
        }
        const auto h = detail::bilinear_tap(oh, g.stride_h, g.in_h);
        const auto w = detail::bilinear_tap(ow, g.stride_w, g.in_w);
        y[o] = static_cast<T>(
            h.w0 * (w.w0 * in[h.i0 * g.in_w + w.i0] + w.w1 * in[h.i0 * g.in_w + w.i1]) +
            h.w1 * (w.w0 * in[h.i1 * g.in_w + w.i0] + w.w1 * in[h.i1 * g.in_w + w.i1]));
      });
}

template <class T>
void backend::kernels<Cuda>::upsample_backward(bool bilinear, const window_geometry& g, int batch,
                                               const T* dy, T* dx) {
  cuda::for_each_index(std::int64_t{batch} * g.in_c * g.in_plane(), [=] TYPENET_HOST_DEVICE(
                                                                        std::int64_t i) {
    const T* grad_out = dy + i / g.in_plane() * g.out_plane();
    const int ih = static_cast<int>(i % g.in_plane() / g.in_w);
    const int iw = static_cast<int>(i % g.in_w);
    if (!bilinear) {
      // Row by row of the block, each row's values summed first.
      T total{0};
      for (int r = 0; r < g.stride_h; ++r) {
        const T* row = grad_out + std::int64_t{ih * g.stride_h + r} * g.out_w + iw * g.stride_w;
        T sum = row[0];
        for (int s = 1; s < g.stride_w; ++s) sum += row[s];
        total = r == 0 ? sum : total + sum;
      }
      dx[i] = total;
      return;
    }
    // Outputs whose neighbours can include this input: source positions
    // within one input of it.
    const int h_begin = ih * g.stride_h - 2 * g.stride_h > 0 ? ih * g.stride_h - 2 * g.stride_h : 0;
    const int h_end = (ih + 2) * g.stride_h < g.out_h ? (ih + 2) * g.stride_h : g.out_h;
    const int w_begin = iw * g.stride_w - 2 * g.stride_w > 0 ? iw * g.stride_w - 2 * g.stride_w : 0;
    const int w_end = (iw + 2) * g.stride_w < g.out_w ? (iw + 2) * g.stride_w : g.out_w;
    T sum{0};
    for (int oh = h_begin; oh < h_end; ++oh) {
      const auto h = detail::bilinear_tap(oh, g.stride_h, g.in_h);
      if (h.i0 != ih && h.i1 != ih) continue;
      for (int ow = w_begin; ow < w_end; ++ow) {
        const auto w = detail::bilinear_tap(ow, g.stride_w, g.in_w);
        if (w.i0 != iw && w.i1 != iw) continue;
        const double d = grad_out[oh * g.out_w + ow];
        if (h.i0 == ih && w.i0 == iw) sum += static_cast<T>(h.w0 * w.w0 * d);
        if (h.i0 == ih && w.i1 == iw) sum += static_cast<T>(h.w0 * w.w1 * d);
        if (h.i1 == ih && w.i0 == iw) sum += static_cast<T>(h.w1 * w.w0 * d);
        if (h.i1 == ih && w.i1 == iw) sum += static_cast<T>(h.w1 * w.w1 * d);
      }
    }
    dx[i] = sum;
  });
}

}  // namespace typenet
