// typenet/backend/cpu/convolution.hpp — convolution as im2col + GEMM.
//
// Three primitives on a window_geometry (input -> output of a Conv2d with
// weights [out_c, in_c/groups, KH, KW]): the forward product, its adjoint
// with respect to the input (backward data) and with respect to the weights.
// ConvTranspose2d is the same three with the roles of forward and backward
// data exchanged, so it reuses them. Samples are processed one after the
// other; the GEMMs and im2col inside use all threads.
#pragma once

#include <algorithm>
#include <cstdint>

#include "typenet/backend/cpu/gemm.hpp"
#include "typenet/backend/cpu/im2col.hpp"
#include "typenet/backend/cpu/scratch.hpp"
#include "typenet/core/device.hpp"
#include "typenet/core/geometry.hpp"

namespace typenet {

/// y = conv(x, w) (+ bias when `bias` is not null). y is overwritten.
template <class T>
void conv2d_forward(Cpu, const window_geometry& g, int batch, const T* x, const T* w, const T* bias,
                    T* y) {
  const int in_per_group = g.in_c / g.groups, out_per_group = g.out_c / g.groups;
  const std::int64_t rows = g.column_rows(), plane = g.out_plane();
  for (int n = 0; n < batch; ++n) {
    T* yn = y + n * g.out_size();
    const T* xn = x + n * g.in_size();
    cpu::parallel_for(g.out_c, plane, [&](std::int64_t o) {
      std::fill(yn + o * plane, yn + (o + 1) * plane, bias ? bias[o] : T{0});
    });
    for (int grp = 0; grp < g.groups; ++grp) {
      const T* image = xn + std::int64_t{grp} * in_per_group * g.in_plane();
      const T* columns = image;
      if (!g.is_pointwise()) {
        T* buffer = cpu::scratch<T>(cpu::scratch_slot::columns, rows * plane);
        cpu::im2col(g, in_per_group, image, buffer);
        columns = buffer;
      }
      cpu::gemm(false, false, out_per_group, plane, rows, T{1},
                w + std::int64_t{grp} * out_per_group * rows, rows, columns, plane,
                yn + std::int64_t{grp} * out_per_group * plane, plane);
    }
  }
}

/// dx = conv^T(dy, w): the gradient of conv2d_forward with respect to x. dx is overwritten.
template <class T>
void conv2d_backward_data(Cpu, const window_geometry& g, int batch, const T* dy, const T* w,
                          T* dx) {
  const int in_per_group = g.in_c / g.groups, out_per_group = g.out_c / g.groups;
  const std::int64_t rows = g.column_rows(), plane = g.out_plane();
  for (int n = 0; n < batch; ++n) {
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
  }
}

/// dw += the gradient of conv2d_forward with respect to w, summed over the batch.
template <class T>
void conv2d_backward_weight(Cpu, const window_geometry& g, int batch, const T* x, const T* dy,
                            T* dw) {
  const int in_per_group = g.in_c / g.groups, out_per_group = g.out_c / g.groups;
  const std::int64_t rows = g.column_rows(), plane = g.out_plane();
  for (int n = 0; n < batch; ++n) {
    const T* xn = x + n * g.in_size();
    const T* dyn = dy + n * g.out_size();
    for (int grp = 0; grp < g.groups; ++grp) {
      const T* image = xn + std::int64_t{grp} * in_per_group * g.in_plane();
      const T* columns = image;
      if (!g.is_pointwise()) {
        T* buffer = cpu::scratch<T>(cpu::scratch_slot::columns, rows * plane);
        cpu::im2col(g, in_per_group, image, buffer);
        columns = buffer;
      }
      cpu::gemm(false, true, out_per_group, rows, plane, T{1},
                dyn + std::int64_t{grp} * out_per_group * plane, plane, columns, plane,
                dw + std::int64_t{grp} * out_per_group * rows, rows);
    }
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
    T sum{0};
    for (int n = 0; n < batch; ++n) {
      const T* p = dy + (std::int64_t{n} * channels + c) * plane;
      for (std::int64_t i = 0; i < plane; ++i) sum += p[i];
    }
    db[c] += sum;
  });
}

}  // namespace typenet
