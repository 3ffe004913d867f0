// typenet/backend/cuda/convolution.cuh — convolution as im2col + cuBLAS.
//
// The samples of a chunk are unfolded side by side: the im2col matrix of one
// group is [rows][chunk x plane] (rows = (channel, ky, kx), columns = (sample,
// output position)), so that
//   forward          y_s   = W · cols_s                 one batched product,
//   backward data    cols  = W^T · dy_s, then col2im    one batched product,
//   backward weight  dW   += dy · cols^T                one product of depth
//                                                       chunk x plane,
// with dy gathered channel-major for the last one. col2im gathers, for each
// input value, the column entries of the taps that read it, in tap order:
// no atomics, so results do not depend on timing. A chunk's matrix is at
// most 64 Mi values; 1x1 stride-1 convolutions need none.
#pragma once

#include <algorithm>
#include <cstdint>

#include "typenet/backend/cuda/blas.cuh"
#include "typenet/backend/cuda/kernels.cuh"
#include "typenet/backend/cuda/launch.cuh"
#include "typenet/backend/cuda/memory.cuh"
#include "typenet/backend/cuda/reduction.cuh"
#include "typenet/core/device.hpp"
#include "typenet/core/geometry.hpp"

namespace typenet {

namespace cuda::detail {

/// Samples per im2col chunk.
inline std::int64_t chunk_samples(const window_geometry& g, int batch) {
  constexpr std::int64_t max_values = std::int64_t{1} << 26;
  const std::int64_t per_sample = std::max<std::int64_t>(1, g.column_rows() * g.out_plane());
  return std::clamp<std::int64_t>(max_values / per_sample, 1, batch);
}

/// cols[r][s * plane + p] for the `count` samples from x (sample stride
/// in_size), channels of group `grp`.
template <class T>
void im2col(const window_geometry& g, int grp, std::int64_t count, const T* x, T* cols) {
  const std::int64_t plane = g.out_plane(), width = count * plane;
  const int in_per_group = g.in_c / g.groups, taps = g.kernel_h * g.kernel_w;
  for_each_index(g.column_rows() * width, [=] TYPENET_HOST_DEVICE(std::int64_t i) {
    const std::int64_t r = i / width, s = i % width / plane, p = i % plane;
    const int c = static_cast<int>(r / taps), tap = static_cast<int>(r % taps);
    const int ih =
        static_cast<int>(p / g.out_w) * g.stride_h - g.pad_h + tap / g.kernel_w * g.dilation_h;
    const int iw =
        static_cast<int>(p % g.out_w) * g.stride_w - g.pad_w + tap % g.kernel_w * g.dilation_w;
    const bool inside = ih >= 0 && ih < g.in_h && iw >= 0 && iw < g.in_w;
    cols[i] = inside ? x[s * g.in_size() + (std::int64_t{grp} * in_per_group + c) * g.in_plane() +
                         std::int64_t{ih} * g.in_w + iw]
                     : T{0};
  });
}

/// dx (channels of group `grp`, `count` samples) = col2im(cols): each input
/// value gathers the entries of the taps that read it, in tap order.
template <class T>
void col2im(const window_geometry& g, int grp, std::int64_t count, const T* cols, T* dx) {
  const std::int64_t plane = g.out_plane(), width = count * plane;
  const int in_per_group = g.in_c / g.groups, taps = g.kernel_h * g.kernel_w;
  const std::int64_t group_size = in_per_group * g.in_plane();
  for_each_index(count * group_size, [=] TYPENET_HOST_DEVICE(std::int64_t i) {
    const std::int64_t s = i / group_size, rest = i % group_size;
    const int c = static_cast<int>(rest / g.in_plane());
    const int ih = static_cast<int>(rest % g.in_plane() / g.in_w);
    const int iw = static_cast<int>(rest % g.in_w);
    T sum{0};
    for (int tap = 0; tap < taps; ++tap) {
      const int y = ih + g.pad_h - tap / g.kernel_w * g.dilation_h;
      const int x = iw + g.pad_w - tap % g.kernel_w * g.dilation_w;
      if (y < 0 || x < 0 || y % g.stride_h != 0 || x % g.stride_w != 0) continue;
      const int oh = y / g.stride_h, ow = x / g.stride_w;
      if (oh >= g.out_h || ow >= g.out_w) continue;
      sum += cols[(std::int64_t{c} * taps + tap) * width + s * plane + std::int64_t{oh} * g.out_w +
                  ow];
    }
    dx[s * g.in_size() + std::int64_t{grp} * group_size + rest] = sum;
  });
}

/// out[c][s * plane + p] = in[s * sample_step + c * plane + p] for `channels`
/// channels of `count` samples: a tensor's channels made the rows of one
/// matrix whose columns are (sample, position).
template <class T>
void channel_major(std::int64_t channels, std::int64_t count, std::int64_t plane,
                   std::int64_t sample_step, const T* in, T* out) {
  const std::int64_t width = count * plane;
  for_each_index(channels * width, [=] TYPENET_HOST_DEVICE(std::int64_t i) {
    const std::int64_t c = i / width, s = i % width / plane, p = i % plane;
    out[i] = in[s * sample_step + c * plane + p];
  });
}

}  // namespace cuda::detail

/// y = conv(x, w) (+ bias when `bias` is not null). y is overwritten.
template <class T>
void backend::kernels<Cuda>::conv2d_forward(const window_geometry& g, int batch, const T* x,
                                            const T* w, const T* bias, T* y) {
  const int in_per_group = g.in_c / g.groups, out_per_group = g.out_c / g.groups;
  const std::int64_t rows = g.column_rows(), plane = g.out_plane();
  const std::int64_t chunk = cuda::detail::chunk_samples(g, batch);
  for (std::int64_t first = 0; first < batch; first += chunk) {
    const std::int64_t count = std::min<std::int64_t>(chunk, batch - first);
    for (int grp = 0; grp < g.groups; ++grp) {
      const T* w_group = w + std::int64_t{grp} * out_per_group * rows;
      T* y_group = y + first * g.out_size() + std::int64_t{grp} * out_per_group * plane;
      if (g.is_pointwise()) {
        const T* x_group = x + first * g.in_size() + std::int64_t{grp} * in_per_group * plane;
        cuda::gemm_batched(false, false, out_per_group, plane, rows, T{1}, w_group, rows, 0,
                           x_group, plane, g.in_size(), T{0}, y_group, plane, g.out_size(), count);
        continue;
      }
      T* cols = cuda::scratch<T>(cuda::scratch_slot::columns,
                                 static_cast<std::size_t>(rows * count * plane));
      cuda::detail::im2col(g, grp, count, x + first * g.in_size(), cols);
      cuda::gemm_batched(false, false, out_per_group, plane, rows, T{1}, w_group, rows, 0, cols,
                         count * plane, plane, T{0}, y_group, plane, g.out_size(), count);
    }
  }
  if (bias) {
    const int channels = g.out_c;
    cuda::for_each_index(
        std::int64_t{batch} * g.out_size(),
        [=] TYPENET_HOST_DEVICE(std::int64_t i) { y[i] += bias[i / plane % channels]; });
  }
}

/// dx = conv^T(dy, w): the gradient of conv2d_forward with respect to x. dx is overwritten.
template <class T>
void backend::kernels<Cuda>::conv2d_backward_data(const window_geometry& g, int batch, const T* dy,
                                                  const T* w, T* dx) {
  const int in_per_group = g.in_c / g.groups, out_per_group = g.out_c / g.groups;
  const std::int64_t rows = g.column_rows(), plane = g.out_plane();
  const std::int64_t chunk = cuda::detail::chunk_samples(g, batch);
  for (std::int64_t first = 0; first < batch; first += chunk) {
    const std::int64_t count = std::min<std::int64_t>(chunk, batch - first);
    for (int grp = 0; grp < g.groups; ++grp) {
      const T* w_group = w + std::int64_t{grp} * out_per_group * rows;
      const T* dy_group = dy + first * g.out_size() + std::int64_t{grp} * out_per_group * plane;
      if (g.is_pointwise()) {
        T* dx_group = dx + first * g.in_size() + std::int64_t{grp} * in_per_group * plane;
        cuda::gemm_batched(true, false, rows, plane, out_per_group, T{1}, w_group, rows, 0,
                           dy_group, plane, g.out_size(), T{0}, dx_group, plane, g.in_size(),
                           count);
        continue;
      }
      T* cols = cuda::scratch<T>(cuda::scratch_slot::columns,
                                 static_cast<std::size_t>(rows * count * plane));
      cuda::gemm_batched(true, false, rows, plane, out_per_group, T{1}, w_group, rows, 0, dy_group,
                         plane, g.out_size(), T{0}, cols, count * plane, plane, count);
      cuda::detail::col2im(g, grp, count, static_cast<const T*>(cols), dx + first * g.in_size());
    }
  }
}

/// y = conv^T(x, w) + bias (a null bias adds nothing): ConvTranspose2d's forward.
template <class T>
void backend::kernels<Cuda>::conv_transpose2d_forward(const window_geometry& g, int batch,
                                                      const T* x, const T* w, const T* bias, T* y) {
  backend::kernels<Cuda>::conv2d_backward_data(g, batch, x, w, y);
  if (bias) backend::kernels<Cuda>::add_channel_bias(batch, g.in_c, g.in_plane(), bias, y);
}

/// dw += the gradient of conv2d_forward with respect to w, summed over the batch.
template <class T>
void backend::kernels<Cuda>::conv2d_backward_weight(const window_geometry& g, int batch, const T* x,
                                                    const T* dy, T* dw) {
  const int out_per_group = g.out_c / g.groups;
  const std::int64_t rows = g.column_rows(), plane = g.out_plane();
  const std::int64_t chunk = cuda::detail::chunk_samples(g, batch);
  for (std::int64_t first = 0; first < batch; first += chunk) {
    const std::int64_t count = std::min<std::int64_t>(chunk, batch - first);
    const std::int64_t width = count * plane;
    for (int grp = 0; grp < g.groups; ++grp) {
      // The group's dy channel-major: dyt[o][s * plane + p].
      T* dyt = cuda::scratch<T>(cuda::scratch_slot::gathered,
                                static_cast<std::size_t>(out_per_group * width));
      cuda::detail::channel_major(
          out_per_group, count, plane, g.out_size(),
          dy + first * g.out_size() + std::int64_t{grp} * out_per_group * plane, dyt);
      T* dw_group = dw + std::int64_t{grp} * out_per_group * rows;
      // (For a 1x1 convolution the columns are x's group, channel-major.)
      T* cols =
          cuda::scratch<T>(cuda::scratch_slot::columns, static_cast<std::size_t>(rows * width));
      cuda::detail::im2col(g, grp, count, x + first * g.in_size(), cols);
      cuda::gemm(false, true, out_per_group, rows, width, T{1}, dyt, width, cols, width, T{1},
                 dw_group, rows);
    }
  }
}

/// y[n, c, :] += bias[c].
template <class T>
void backend::kernels<Cuda>::add_channel_bias(int batch, int channels, std::int64_t plane,
                                              const T* bias, T* y) {
  cuda::for_each_index(
      std::int64_t{batch} * channels * plane,
      [=] TYPENET_HOST_DEVICE(std::int64_t i) { y[i] += bias[i / plane % channels]; });
}

/// db[c] += sum over n and the plane of dy[n, c, :].
template <class T>
void backend::kernels<Cuda>::channel_bias_backward(int batch, int channels, std::int64_t plane,
                                                   const T* dy, T* db) {
  double* sums = cuda::scratch<double>(cuda::scratch_slot::channel_stats, channels);
  cuda::channel_sums(
      batch, channels, plane,
      [=] TYPENET_HOST_DEVICE(std::int64_t p, std::int64_t i) {
        return static_cast<double>(dy[p * plane + i]);
      },
      sums);
  cuda::for_each_index(
      channels, [=] TYPENET_HOST_DEVICE(std::int64_t c) { db[c] += static_cast<T>(sums[c]); });
}

}  // namespace typenet
