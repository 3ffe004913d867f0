// typenet/backend/cpu/pooling.hpp — max, average and adaptive average pooling.
//
// One (sample, channel) plane per parallel task: every write of a plane
// comes from its own task, so backward needs no atomics and results do not
// depend on the thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "typenet/backend/cpu/arch/max_pool.hpp"
#include "typenet/backend/cpu/kernels.hpp"
#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/core/device.hpp"
#include "typenet/core/geometry.hpp"
#include "typenet/core/windows.hpp"

namespace typenet {

namespace detail {
/// One max-pooling window at output (oh, ow) of a plane, any geometry.
template <class T>
void max_window(const window_geometry& g, const T* in, int oh, int ow, T& out,
                std::int32_t& index) {
  const int ih0 = oh * g.stride_h - g.pad_h, iw0 = ow * g.stride_w - g.pad_w;
  const auto rows = taps_inside(ih0, g.kernel_h, g.dilation_h, g.in_h);
  const auto cols = taps_inside(iw0, g.kernel_w, g.dilation_w, g.in_w);
  // Two passes, both without unpredictable branches: the maximum (and
  // whether a NaN is present), then the index of its first occurrence (of
  // the last NaN when there is one, as PyTorch).
  T best = -std::numeric_limits<T>::infinity();
  bool has_nan = false;
  for (int ki = rows.begin; ki < rows.end; ++ki) {
    const T* row = in + (ih0 + ki * g.dilation_h) * g.in_w + iw0;
    for (int kj = cols.begin; kj < cols.end; ++kj) {
      const T v = row[kj * g.dilation_w];
      best = best < v ? v : best;
      has_nan |= v != v;
    }
  }
  std::int32_t best_index =
      (ih0 + rows.begin * g.dilation_h) * g.in_w + iw0 + cols.begin * g.dilation_w;
  if (has_nan) best = std::numeric_limits<T>::quiet_NaN();
  bool found = false;
  for (int ki = rows.begin; ki < rows.end && !found; ++ki) {
    const int row = (ih0 + ki * g.dilation_h) * g.in_w + iw0;
    for (int kj = cols.begin; kj < cols.end; ++kj) {
      const int at = row + kj * g.dilation_w;
      if (has_nan ? std::isnan(in[at]) : in[at] == best) {
        best_index = at;
        if (!has_nan) {
          found = true;
          break;
        }
      }
    }
  }
  out = best;
  index = best_index;
}

/// A plane of a K x K, stride S, undilated max pooling. Windows wholly
/// inside the image run a branch-free loop over the output row, which the
/// compiler vectorizes (a data-dependent branch per tap mispredicts half the
/// time on real data); border windows, and rows holding a NaN, take
/// max_window.
template <int K, int S, class T>
void max_pool_plane(const window_geometry& g, const T* in, T* out, std::int32_t* idx) {
  // Output columns whose windows lie inside the image: [ow_begin, ow_end).
  const int ow_begin = std::min(g.out_w, (g.pad_w + S - 1) / S);
  const int ow_end = std::max(ow_begin, std::min(g.out_w, (g.in_w + g.pad_w - K) / S + 1));
  for (int oh = 0; oh < g.out_h; ++oh) {
    const int ih0 = oh * S - g.pad_h;
    T* out_row = out + oh * g.out_w;
    std::int32_t* idx_row = idx + oh * g.out_w;
    bool interior = ih0 >= 0 && ih0 + K <= g.in_h;
    if (interior) {
      const T* base = in + ih0 * g.in_w - g.pad_w;
      const std::int32_t origin = ih0 * g.in_w - g.pad_w;
      int nan_count = 0;
      int ow = ow_begin;
      if constexpr (cpu::arch::max_pool_stride2_lanes > 0 && std::is_same_v<T, float> && S == 2 &&
                    (K == 2 || K == 3)) {
        constexpr int lanes = cpu::arch::max_pool_stride2_lanes;
        for (; ow < ow_end; ow += lanes)
          nan_count += cpu::arch::max_pool_stride2<K>(base + ow * S, g.in_w, origin + ow * S,
                                                      std::min(lanes, ow_end - ow), out_row + ow,
                                                      idx_row + ow);
      }
      for (; ow < ow_end; ++ow) {
        const T* window = base + ow * S;
        T best = window[0];
        std::int32_t best_at = 0;
        nan_count += __builtin_isunordered(best, best);
#pragma GCC unroll 9
        for (int tap = 1; tap < K * K; ++tap) {
          const int at = tap / K * g.in_w + tap % K;
          const T v = window[at];
          // Quiet comparisons: they cannot trap, so the compiler may select instead of branch.
          const bool take = __builtin_isgreater(v, best);
          best = take ? v : best;
          best_at = take ? at : best_at;
          nan_count += __builtin_isunordered(v, v);
        }
        out_row[ow] = best;
        idx_row[ow] = origin + ow * S + best_at;
      }
      interior = nan_count == 0;
    }
    // The border columns, or the whole row: not a test per column, which
    // cost as much as the vector loop on LeNet's 14-wide rows.
    const int first_done = interior ? ow_begin : g.out_w;
    for (int ow = 0; ow < first_done; ++ow) max_window(g, in, oh, ow, out_row[ow], idx_row[ow]);
    for (int ow = interior ? ow_end : g.out_w; ow < g.out_w; ++ow)
      max_window(g, in, oh, ow, out_row[ow], idx_row[ow]);
  }
}
}  // namespace detail

/// y = max over each window (padding never wins); `argmax` gets the flat
/// index within the input plane, as PyTorch's return_indices. As in PyTorch,
/// the first maximum wins, a NaN wins over numbers (the last NaN when
/// several), and a window of -inf gives its first tap's index. The 2x2
/// stride-2 and 3x3 stride-2 windows of LeNet, VGG and ResNet have
/// unrolled kernels.
template <class T>
void backend::kernels<Cpu>::max_pool2d_forward(const window_geometry& g, int batch, const T* x,
                                               T* y, std::int32_t* argmax) {
  const bool square = g.kernel_h == g.kernel_w && g.stride_h == g.stride_w && g.dilation_h == 1 &&
                      g.dilation_w == 1;
  cpu::parallel_for(std::int64_t{batch} * g.in_c, g.out_plane() * g.kernel_h * g.kernel_w,
                    [&](std::int64_t plane) {
                      const T* in = x + plane * g.in_plane();
                      T* out = y + plane * g.out_plane();
                      std::int32_t* idx = argmax + plane * g.out_plane();
                      if (square && g.kernel_h == 2 && g.stride_h == 2) {
                        detail::max_pool_plane<2, 2>(g, in, out, idx);
                      } else if (square && g.kernel_h == 3 && g.stride_h == 2) {
                        detail::max_pool_plane<3, 2>(g, in, out, idx);
                      } else {
                        for (int oh = 0; oh < g.out_h; ++oh)
                          for (int ow = 0; ow < g.out_w; ++ow)
                            detail::max_window(g, in, oh, ow, out[oh * g.out_w + ow],
                                               idx[oh * g.out_w + ow]);
                      }
                    });
}

template <class T>
void backend::kernels<Cpu>::max_pool2d_backward(const window_geometry& g, int batch, const T* dy,
                                                const std::int32_t* argmax, T* dx) {
  cpu::parallel_for(std::int64_t{batch} * g.in_c, g.out_plane(), [&](std::int64_t plane) {
    T* grad_in = dx + plane * g.in_plane();
    const T* grad_out = dy + plane * g.out_plane();
    const std::int32_t* idx = argmax + plane * g.out_plane();
    for (std::int64_t i = 0; i < g.in_plane(); ++i) grad_in[i] = T{0};
    for (std::int64_t o = 0; o < g.out_plane(); ++o)
      if (idx[o] >= 0) grad_in[idx[o]] += grad_out[o];
  });
}

/// Average pooling with count_include_pad=True (PyTorch's default).
template <class T>
void backend::kernels<Cpu>::avg_pool2d_forward(const window_geometry& g, detail::avg_pool_divisor d,
                                               int batch, const T* x, T* y) {
  cpu::parallel_for(
      std::int64_t{batch} * g.in_c, g.out_plane() * g.kernel_h * g.kernel_w,
      [&](std::int64_t plane) {
        const T* in = x + plane * g.in_plane();
        T* out = y + plane * g.out_plane();
        for (int oh = 0; oh < g.out_h; ++oh) {
          const auto h = detail::avg_pool_window(oh, g.stride_h, g.pad_h, g.kernel_h, g.in_h);
          for (int ow = 0; ow < g.out_w; ++ow) {
            const auto w = detail::avg_pool_window(ow, g.stride_w, g.pad_w, g.kernel_w, g.in_w);
            T sum{0};
            for (int ih = h.begin; ih < h.end; ++ih)
              for (int iw = w.begin; iw < w.end; ++iw) sum += in[ih * g.in_w + iw];
            out[oh * g.out_w + ow] = sum / static_cast<T>(d.of(h, w));
          }
        }
      });
}

template <class T>
void backend::kernels<Cpu>::avg_pool2d_backward(const window_geometry& g,
                                                detail::avg_pool_divisor d, int batch, const T* dy,
                                                T* dx) {
  cpu::parallel_for(
      std::int64_t{batch} * g.in_c, g.out_plane() * g.kernel_h * g.kernel_w,
      [&](std::int64_t plane) {
        T* grad_in = dx + plane * g.in_plane();
        const T* grad_out = dy + plane * g.out_plane();
        for (std::int64_t i = 0; i < g.in_plane(); ++i) grad_in[i] = T{0};
        for (int oh = 0; oh < g.out_h; ++oh) {
          const auto h = detail::avg_pool_window(oh, g.stride_h, g.pad_h, g.kernel_h, g.in_h);
          for (int ow = 0; ow < g.out_w; ++ow) {
            const auto w = detail::avg_pool_window(ow, g.stride_w, g.pad_w, g.kernel_w, g.in_w);
            const T share = grad_out[oh * g.out_w + ow] / static_cast<T>(d.of(h, w));
            for (int ih = h.begin; ih < h.end; ++ih)
              for (int iw = w.begin; iw < w.end; ++iw) grad_in[ih * g.in_w + iw] += share;
          }
        }
      });
}

template <class T>
void backend::kernels<Cpu>::adaptive_avg_pool2d_forward(const window_geometry& g, int batch,
                                                        const T* x, T* y) {
  cpu::parallel_for(std::int64_t{batch} * g.in_c, g.in_plane(), [&](std::int64_t plane) {
    const T* in = x + plane * g.in_plane();
    T* out = y + plane * g.out_plane();
    for (int oh = 0; oh < g.out_h; ++oh) {
      const int h0 = detail::adaptive_begin(oh, g.in_h, g.out_h);
      const int h1 = detail::adaptive_end(oh, g.in_h, g.out_h);
      for (int ow = 0; ow < g.out_w; ++ow) {
        const int w0 = detail::adaptive_begin(ow, g.in_w, g.out_w);
        const int w1 = detail::adaptive_end(ow, g.in_w, g.out_w);
        T sum{0};
        for (int ih = h0; ih < h1; ++ih)
          for (int iw = w0; iw < w1; ++iw) sum += in[ih * g.in_w + iw];
        out[oh * g.out_w + ow] = sum / static_cast<T>((h1 - h0) * (w1 - w0));
      }
    }
  });
}

template <class T>
void backend::kernels<Cpu>::adaptive_avg_pool2d_backward(const window_geometry& g, int batch,
                                                         const T* dy, T* dx) {
  cpu::parallel_for(std::int64_t{batch} * g.in_c, g.in_plane(), [&](std::int64_t plane) {
    T* grad_in = dx + plane * g.in_plane();
    const T* grad_out = dy + plane * g.out_plane();
    for (std::int64_t i = 0; i < g.in_plane(); ++i) grad_in[i] = T{0};
    for (int oh = 0; oh < g.out_h; ++oh) {
      const int h0 = detail::adaptive_begin(oh, g.in_h, g.out_h);
      const int h1 = detail::adaptive_end(oh, g.in_h, g.out_h);
      for (int ow = 0; ow < g.out_w; ++ow) {
        const int w0 = detail::adaptive_begin(ow, g.in_w, g.out_w);
        const int w1 = detail::adaptive_end(ow, g.in_w, g.out_w);
        const T share = grad_out[oh * g.out_w + ow] / static_cast<T>((h1 - h0) * (w1 - w0));
        for (int ih = h0; ih < h1; ++ih)
          for (int iw = w0; iw < w1; ++iw) grad_in[ih * g.in_w + iw] += share;
      }
    }
  });
}

}  // namespace typenet
