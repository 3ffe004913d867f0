// typenet/backend/cuda/pooling.cuh — max, average and adaptive average pooling.
//
// Forward: one thread per output, the Cpu backend's window rules
// (core/windows.hpp): the first maximum wins, a NaN wins over numbers (the
// last NaN when several). Backward: one thread per input value, gathering
// the outputs whose windows cover it in increasing order, which is the
// order the Cpu backend adds them in; no atomics, so results do not depend
// on timing.
#pragma once

#include <cstdint>
#include <limits>

#include "typenet/backend/cuda/kernels.cuh"
#include "typenet/backend/cuda/launch.cuh"
#include "typenet/core/device.hpp"
#include "typenet/core/geometry.hpp"
#include "typenet/core/windows.hpp"

namespace typenet {

namespace cuda::detail {
/// The outputs [begin, end) along one axis whose window (start o * stride -
/// pad, `kernel` taps `dilation` apart) has a tap on input position i, when
/// every tap of a window is a candidate; callers check the tap itself.
struct output_range {
  int begin, end;
};
TYPENET_HOST_DEVICE inline output_range outputs_reaching(int i, int stride, int pad, int kernel,
                                                         int dilation, int out) {
  // o * stride - pad + k * dilation == i for some k in [0, kernel).
  const int highest = i + pad;                           // k = 0
  const int lowest = i + pad - (kernel - 1) * dilation;  // k = kernel - 1
  int begin = lowest <= 0 ? 0 : (lowest + stride - 1) / stride;
  int end = highest < 0 ? 0 : highest / stride + 1;
  if (end > out) end = out;
  if (begin > end) begin = end;
  return {begin, end};
}
}  // namespace cuda::detail

template <class T>
void backend::kernels<Cuda>::max_pool2d_forward(const window_geometry& g, int batch, const T* x,
                                                T* y, std::int32_t* argmax) {
  cuda::for_each_index(
      std::int64_t{batch} * g.in_c * g.out_plane(), [=] TYPENET_HOST_DEVICE(std::int64_t o) {
        const std::int64_t plane = o / g.out_plane();
        const int oh = static_cast<int>(o % g.out_plane() / g.out_w);
        const int ow = static_cast<int>(o % g.out_w);
        const T* in = x + plane * g.in_plane();
        const int ih0 = oh * g.stride_h - g.pad_h, iw0 = ow * g.stride_w - g.pad_w;
        const auto rows = detail::taps_inside(ih0, g.kernel_h, g.dilation_h, g.in_h);
        const auto cols = detail::taps_inside(iw0, g.kernel_w, g.dilation_w, g.in_w);
        T best = -std::numeric_limits<T>::infinity();
        bool has_nan = false;
        for (int ki = rows.begin; ki < rows.end; ++ki)
          for (int kj = cols.begin; kj < cols.end; ++kj) {
            const T v = in[(ih0 + ki * g.dilation_h) * g.in_w + iw0 + kj * g.dilation_w];
            best = best < v ? v : best;
            has_nan |= v != v;
          }
        std::int32_t best_index =
            (ih0 + rows.begin * g.dilation_h) * g.in_w + iw0 + cols.begin * g.dilation_w;
        bool found = false;
        for (int ki = rows.begin; ki < rows.end && !found; ++ki)
          for (int kj = cols.begin; kj < cols.end; ++kj) {
            const int at = (ih0 + ki * g.dilation_h) * g.in_w + iw0 + kj * g.dilation_w;
            const T v = in[at];
            if (has_nan ? v != v : v == best) {
              best_index = at;
              if (!has_nan) {
                found = true;
                break;
              }
            }
          }
        y[o] = has_nan ? std::numeric_limits<T>::quiet_NaN() : best;
        argmax[o] = best_index;
      });
}

template <class T>
void backend::kernels<Cuda>::max_pool2d_backward(const window_geometry& g, int batch, const T* dy,
                                                 const std::int32_t* argmax, T* dx) {
  cuda::for_each_index(std::int64_t{batch} * g.in_c * g.in_plane(),
                       [=] TYPENET_HOST_DEVICE(std::int64_t i) {
                         const std::int64_t plane = i / g.in_plane();
                         const std::int32_t at = static_cast<std::int32_t>(i % g.in_plane());
                         const int ih = at / g.in_w, iw = at % g.in_w;
                         const auto rows = cuda::detail::outputs_reaching(
                             ih, g.stride_h, g.pad_h, g.kernel_h, g.dilation_h, g.out_h);
                         const auto cols = cuda::detail::outputs_reaching(
                             iw, g.stride_w, g.pad_w, g.kernel_w, g.dilation_w, g.out_w);
                         const std::int64_t base = plane * g.out_plane();
                         T sum{0};
                         for (int oh = rows.begin; oh < rows.end; ++oh)
                           for (int ow = cols.begin; ow < cols.end; ++ow) {
                             const std::int64_t o = base + std::int64_t{oh} * g.out_w + ow;
                             if (argmax[o] == at) sum += dy[o];
                           }
                         dx[i] = sum;
                       });
}

/// Average pooling; `d` says what it divides by.
template <class T>
void backend::kernels<Cuda>::avg_pool2d_forward(const window_geometry& g,
                                                detail::avg_pool_divisor d, int batch, const T* x,
                                                T* y) {
  cuda::for_each_index(
      std::int64_t{batch} * g.in_c * g.out_plane(), [=] TYPENET_HOST_DEVICE(std::int64_t o) {
        const T* in = x + o / g.out_plane() * g.in_plane();
        const int oh = static_cast<int>(o % g.out_plane() / g.out_w);
        const int ow = static_cast<int>(o % g.out_w);
        const auto h = detail::avg_pool_window(oh, g.stride_h, g.pad_h, g.kernel_h, g.in_h);
        const auto w = detail::avg_pool_window(ow, g.stride_w, g.pad_w, g.kernel_w, g.in_w);
        T sum{0};
        for (int ih = h.begin; ih < h.end; ++ih)
          for (int iw = w.begin; iw < w.end; ++iw) sum += in[ih * g.in_w + iw];
        y[o] = sum / static_cast<T>(d.of(h, w));
      });
}

template <class T>
void backend::kernels<Cuda>::avg_pool2d_backward(const window_geometry& g,
                                                 detail::avg_pool_divisor d, int batch, const T* dy,
                                                 T* dx) {
  cuda::for_each_index(
      std::int64_t{batch} * g.in_c * g.in_plane(), [=] TYPENET_HOST_DEVICE(std::int64_t i) {
        const T* grad_out = dy + i / g.in_plane() * g.out_plane();
        const int ih = static_cast<int>(i % g.in_plane() / g.in_w);
        const int iw = static_cast<int>(i % g.in_w);
        const auto rows =
            cuda::detail::outputs_reaching(ih, g.stride_h, g.pad_h, g.kernel_h, 1, g.out_h);
        const auto cols =
            cuda::detail::outputs_reaching(iw, g.stride_w, g.pad_w, g.kernel_w, 1, g.out_w);
        T sum{0};
        for (int oh = rows.begin; oh < rows.end; ++oh) {
          const auto h = detail::avg_pool_window(oh, g.stride_h, g.pad_h, g.kernel_h, g.in_h);
          for (int ow = cols.begin; ow < cols.end; ++ow) {
            const auto w = detail::avg_pool_window(ow, g.stride_w, g.pad_w, g.kernel_w, g.in_w);
            sum += grad_out[oh * g.out_w + ow] / static_cast<T>(d.of(h, w));
          }
        }
        dx[i] = sum;
      });
}

template <class T>
void backend::kernels<Cuda>::adaptive_avg_pool2d_forward(const window_geometry& g, int batch,
                                                         const T* x, T* y) {
  cuda::for_each_index(std::int64_t{batch} * g.in_c * g.out_plane(),
                       [=] TYPENET_HOST_DEVICE(std::int64_t o) {
                         const T* in = x + o / g.out_plane() * g.in_plane();
                         const int oh = static_cast<int>(o % g.out_plane() / g.out_w);
                         const int ow = static_cast<int>(o % g.out_w);
                         const int h0 = detail::adaptive_begin(oh, g.in_h, g.out_h);
                         const int h1 = detail::adaptive_end(oh, g.in_h, g.out_h);
                         const int w0 = detail::adaptive_begin(ow, g.in_w, g.out_w);
                         const int w1 = detail::adaptive_end(ow, g.in_w, g.out_w);
                         T sum{0};
                         for (int ih = h0; ih < h1; ++ih)
                           for (int iw = w0; iw < w1; ++iw) sum += in[ih * g.in_w + iw];
                         y[o] = sum / static_cast<T>((h1 - h0) * (w1 - w0));
                       });
}

template <class T>
void backend::kernels<Cuda>::adaptive_avg_pool2d_backward(const window_geometry& g, int batch,
                                                          const T* dy, T* dx) {
  cuda::for_each_index(
      std::int64_t{batch} * g.in_c * g.in_plane(), [=] TYPENET_HOST_DEVICE(std::int64_t i) {
        const T* grad_out = dy + i / g.in_plane() * g.out_plane();
        const int ih = static_cast<int>(i % g.in_plane() / g.in_w);
        const int iw = static_cast<int>(i % g.in_w);
        T sum{0};
        for (int oh = 0; oh < g.out_h; ++oh) {
          const int h0 = detail::adaptive_begin(oh, g.in_h, g.out_h);
          const int h1 = detail::adaptive_end(oh, g.in_h, g.out_h);
          if (ih < h0 || ih >= h1) continue;
          for (int ow = 0; ow < g.out_w; ++ow) {
            const int w0 = detail::adaptive_begin(ow, g.in_w, g.out_w);
            const int w1 = detail::adaptive_end(ow, g.in_w, g.out_w);
            if (iw < w0 || iw >= w1) continue;
            sum += grad_out[oh * g.out_w + ow] / static_cast<T>((h1 - h0) * (w1 - w0));
          }
        }
        dx[i] = sum;
      });
}

}  // namespace typenet
