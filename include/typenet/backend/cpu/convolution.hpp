// typenet/backend/cpu/convolution.hpp — convolution as im2col + GEMM, or
// for stride 1 direct (direct_convolution.hpp) or, for 3x3 kernels with
// enough channels and tiles, by Winograd's F(2x2, 3x3)
// (winograd_convolution.hpp).
//
// Three primitives on a window_geometry (input -> output of a Conv2d with
// weights [out_c, in_c/groups, KH, KW]): the forward product, its adjoint
// with respect to the input (backward data) and with respect to the weights.
// ConvTranspose2d is the same three with the roles of forward and backward
// data exchanged, so it reuses them. When the batch has at least as many
// samples as there are threads, each thread takes whole samples (im2col and
// GEMM run serially on their thread); otherwise samples run one after the
// other and the GEMMs and im2col inside use all threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "typenet/backend/cpu/direct_convolution.hpp"
#include "typenet/backend/cpu/gemm.hpp"
#include "typenet/backend/cpu/im2col.hpp"
#include "typenet/backend/cpu/reduction.hpp"
#include "typenet/backend/cpu/scratch.hpp"
#include "typenet/backend/cpu/winograd_convolution.hpp"
#include "typenet/core/device.hpp"
#include "typenet/core/geometry.hpp"

namespace typenet {

namespace detail {
/// Runs `sample(n)` for every sample: one sample per thread at a time when the
/// batch fills the team (each sample's im2col and GEMM then run serially on
/// their thread, with thread-local scratch), else one sample after the other
/// with every thread inside each. `body(thread, begin, end)` form, so callers
/// can keep per-thread partial sums.
template <class Body>
void for_each_sample(int batch, std::int64_t work_per_sample, Body&& body) {
  if (cpu::team_size(batch, work_per_sample * batch) > 1) {
    cpu::parallel_ranges(batch, work_per_sample * batch, body);
  } else {
    body(0, std::int64_t{0}, std::int64_t{batch});
  }
}

/// The im2col matrix of `image` in the calling thread's scratch, or the image
/// itself for a 1x1 convolution, whose matrix it already is.
template <class T>
const T* unfolded(const window_geometry& g, int channels, const T* image) {
  if (g.is_pointwise()) return image;
  T* columns = cpu::scratch<T>(cpu::scratch_slot::columns, g.column_rows() * g.out_plane());
  cpu::im2col(g, channels, image, columns);
  return columns;
}
}  // namespace detail

/// y = conv(x, w) (+ bias when `bias` is not null). y is overwritten.
template <class T>
void conv2d_forward(Cpu, const window_geometry& g, int batch, const T* x, const T* w, const T* bias,
                    T* y) {
  const int in_per_group = g.in_c / g.groups, out_per_group = g.out_c / g.groups;
  const std::int64_t rows = g.column_rows(), plane = g.out_plane();
  if constexpr (std::is_same_v<T, float>) {
    if (cpu::winograd_convolution_applies(g, batch)) {
      cpu::conv2d_winograd(g, batch, x, w, bias, y);
      return;
    }
  }
  const auto sample = [&](std::int64_t n) {
    T* yn = y + n * g.out_size();
    const T* xn = x + n * g.in_size();
    for (int grp = 0; grp < g.groups; ++grp) {
      const T* image = xn + std::int64_t{grp} * in_per_group * g.in_plane();
      const T* w_group = w + std::int64_t{grp} * out_per_group * rows;
      const T* bias_group = bias ? bias + std::int64_t{grp} * out_per_group : nullptr;
      T* y_group = yn + std::int64_t{grp} * out_per_group * plane;
      if constexpr (std::is_same_v<T, float>) {
        if (cpu::direct_convolution_applies(g)) {
          cpu::conv2d_direct(g, in_per_group, out_per_group, image, w_group, bias_group, y_group);
          continue;
        }
      }
      // The GEMMs below add to y: it starts as the bias.
      cpu::parallel_for(out_per_group, plane, [&](std::int64_t o) {
        std::fill(y_group + o * plane, y_group + (o + 1) * plane,
                  bias_group ? bias_group[o] : T{0});
      });
      if constexpr (std::is_same_v<T, float>) {
        if (!g.is_pointwise()) {
          cpu::gemm_packed(false, out_per_group, plane, rows, 1.0f, w_group, rows,
                           cpu::im2col_panels{g, image}, y_group, plane);
          continue;
        }
      }
      const T* columns = detail::unfolded(g, in_per_group, image);
      cpu::gemm(false, false, out_per_group, plane, rows, T{1}, w_group, rows, columns, plane,
                y_group, plane);
    }
  };
  detail::for_each_sample(batch, 2 * g.out_c * plane * rows,
                          [&](int, std::int64_t first, std::int64_t last) {
                            for (std::int64_t n = first; n < last; ++n) sample(n);
                          });
}

/// dx = conv^T(dy, w): the gradient of conv2d_forward with respect to x. dx is overwritten.
template <class T>
void conv2d_backward_data(Cpu, const window_geometry& g, int batch, const T* dy, const T* w,
                          T* dx) {
  const int in_per_group = g.in_c / g.groups, out_per_group = g.out_c / g.groups;
  const std::int64_t rows = g.column_rows(), plane = g.out_plane();
  if constexpr (std::is_same_v<T, float>) {
    // With stride 1 the adjoint is itself a convolution: of dy, with the
    // kernel flipped and its in/out channels exchanged, padded by
    // dilation * (kernel - 1) - pad. It then runs on the packed forward path
    // instead of GEMM + col2im.
    const int pad_h = g.dilation_h * (g.kernel_h - 1) - g.pad_h;
    const int pad_w = g.dilation_w * (g.kernel_w - 1) - g.pad_w;
    if (g.stride_h == 1 && g.stride_w == 1 && pad_h >= 0 && pad_w >= 0 && !g.is_pointwise()) {
      window_geometry adjoint = g;
      adjoint.in_c = g.out_c, adjoint.in_h = g.out_h, adjoint.in_w = g.out_w;
      adjoint.out_c = g.in_c, adjoint.out_h = g.in_h, adjoint.out_w = g.in_w;
      adjoint.pad_h = pad_h, adjoint.pad_w = pad_w;
      const int taps = g.kernel_h * g.kernel_w;
      float* flipped = cpu::scratch<float>(cpu::scratch_slot::extra,
                                           static_cast<std::size_t>(g.out_c) * in_per_group * taps);
      // flipped[grp][ci][co][t] = w[grp][co][ci][taps - 1 - t]
      cpu::parallel_for(g.in_c, std::int64_t{out_per_group} * taps, [&](std::int64_t c) {
        const std::int64_t grp = c / in_per_group, ci = c % in_per_group;
        for (int co = 0; co < out_per_group; ++co) {
          const float* src = w + ((grp * out_per_group + co) * in_per_group + ci) * taps;
          float* dst = flipped + (c * out_per_group + co) * taps;
          for (int t = 0; t < taps; ++t) dst[t] = src[taps - 1 - t];
        }
      });
      conv2d_forward(Cpu{}, adjoint, batch, dy, static_cast<const float*>(flipped),
                     static_cast<const float*>(nullptr), dx);
      return;
    }
  }
  const auto sample = [&](std::int64_t n) {
    T* dxn = dx + n * g.in_size();
    const T* dyn = dy + n * g.out_size();
    std::fill(dxn, dxn + g.in_size(), T{0});
    for (int grp = 0; grp < g.groups; ++grp) {
      T* image = dxn + std::int64_t{grp} * in_per_group * g.in_plane();
      const T* w_group = w + std::int64_t{grp} * out_per_group * rows;
      const T* dy_group = dyn + std::int64_t{grp} * out_per_group * plane;
      if (g.is_pointwise()) {
        cpu::gemm(true, false, rows, plane, out_per_group, T{1}, w_group, rows, dy_group, plane,
                  image, plane);
        continue;
      }
      T* columns = cpu::scratch<T>(cpu::scratch_slot::columns, rows * plane);
      std::fill(columns, columns + rows * plane, T{0});
      cpu::gemm(true, false, rows, plane, out_per_group, T{1}, w_group, rows, dy_group, plane,
                columns, plane);
      cpu::col2im(g, in_per_group, columns, image);
    }
  };
  detail::for_each_sample(batch, 2 * g.out_c * plane * rows,
                          [&](int, std::int64_t first, std::int64_t last) {
                            for (std::int64_t n = first; n < last; ++n) sample(n);
                          });
}

/// dw += the gradient of conv2d_forward with respect to w, summed over the batch.
template <class T>
void conv2d_backward_weight(Cpu, const window_geometry& g, int batch, const T* x, const T* dy,
                            T* dw) {
  const int in_per_group = g.in_c / g.groups, out_per_group = g.out_c / g.groups;
  const std::int64_t rows = g.column_rows(), plane = g.out_plane();
  const std::int64_t weights = std::int64_t{g.out_c} * rows;
  const std::int64_t work = 2 * g.out_c * plane * rows;
  if constexpr (std::is_same_v<T, float>) {
    if (cpu::winograd_convolution_applies(g, batch)) {
      cpu::conv2d_winograd_weight_gradient(g, batch, x, dy, dw);
      return;
    }
  }
  const auto sample = [&](std::int64_t n, T* target) {
    const T* xn = x + n * g.in_size();
    const T* dyn = dy + n * g.out_size();
    for (int grp = 0; grp < g.groups; ++grp) {
      const T* image = xn + std::int64_t{grp} * in_per_group * g.in_plane();
      const T* dy_group = dyn + std::int64_t{grp} * out_per_group * plane;
      T* dw_group = target + std::int64_t{grp} * out_per_group * rows;
      if constexpr (std::is_same_v<T, float>) {
        if (!g.is_pointwise()) {
          cpu::gemm_packed(false, out_per_group, rows, plane, 1.0f, dy_group, plane,
                           cpu::im2col_transposed_panels{g, image}, dw_group, rows);
          continue;
        }
      }
      const T* columns = detail::unfolded(g, in_per_group, image);
      cpu::gemm(false, true, out_per_group, rows, plane, T{1}, dy_group, plane, columns, plane,
                dw_group, rows);
    }
  };
  // With one sample per thread, each thread sums its samples' gradients in
  // its own slice of `partial`; the slices are added in thread order after,
  // so the result does not depend on timing.
  const int team = cpu::team_size(batch, work * batch);
  T* partial =
      team > 1 ? cpu::scratch<T>(cpu::scratch_slot::extra, static_cast<std::size_t>(team) * weights)
               : nullptr;
  detail::for_each_sample(batch, work, [&](int thread, std::int64_t first, std::int64_t last) {
    T* target = dw;
    if (partial) {
      target = partial + thread * weights;
      std::fill(target, target + weights, T{0});
    }
    if constexpr (std::is_same_v<T, float>) {
      if (cpu::direct_weight_gradient_applies(g)) {
        for (int grp = 0; grp < g.groups; ++grp)
          cpu::conv2d_direct_weight_gradient(
              g, in_per_group, out_per_group, last - first,
              x + first * g.in_size() + std::int64_t{grp} * in_per_group * g.in_plane(),
              g.in_size(), dy + first * g.out_size() + std::int64_t{grp} * out_per_group * plane,
              g.out_size(), target + std::int64_t{grp} * out_per_group * rows);
        return;
      }
    }
    for (std::int64_t n = first; n < last; ++n) sample(n, target);
  });
  if (partial) {
    cpu::parallel_for(weights, team, [&](std::int64_t i) {
      T sum = dw[i];
      for (int t = 0; t < team; ++t) sum += partial[t * weights + i];
      dw[i] = sum;
    });
  }
}

/// y[n, c, :] += bias[c].
template <class T>
void add_channel_bias(Cpu, int batch, int channels, std::int64_t plane, const T* bias, T* y) {
  cpu::parallel_for(std::int64_t{batch} * channels, plane, [&](std::int64_t nc) {
    const T b = bias[nc % channels];
    T* p = y + nc * plane;
    for (std::int64_t i = 0; i < plane; ++i) p[i] += b;
  });
}

/// db[c] += sum over n and the plane of dy[n, c, :].
template <class T>
void channel_bias_backward(Cpu, int batch, int channels, std::int64_t plane, const T* dy, T* db) {
  cpu::parallel_for(channels, batch * plane, [&](std::int64_t c) {
    double sum = 0;
    for (int n = 0; n < batch; ++n)
      sum += cpu::blocked_sum(dy + (std::int64_t{n} * channels + c) * plane, plane);
    db[c] += static_cast<T>(sum);
  });
}

}  // namespace typenet
