// typenet/backend/cpu/convolution.hpp — convolution as im2col + GEMM, or
// for stride 1 direct (direct_convolution.hpp) or, for 3x3 kernels with
// enough channels and tiles, by Winograd's F(2x2, 3x3)
// (winograd_convolution.hpp). Strided convolutions whose kernel is a
// multiple of the stride run as a stride-1 one on their input's phases, and
// strided adjoints with few channels phase by phase of their output: both
// are then stride-1 problems, without im2col.
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
#include <array>
#include <cstdint>
#include <type_traits>

#include "typenet/backend/cpu/direct_convolution.hpp"
#include "typenet/backend/cpu/gemm.hpp"
#include "typenet/backend/cpu/im2col.hpp"
#include "typenet/backend/cpu/kernels.hpp"
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

/// A strided, undilated convolution whose kernel is a multiple of its stride
/// (ConvTranspose2d k4 s2's input gradient) is a stride-1 convolution of its
/// input's phases: x_ab[c][i][j] = x[c][i * s + a - pad][j * s + b - pad]
/// (zero outside), stacked as channels (group by group, phase by phase),
/// with the kernel's taps (a + s * jy, b + s * jx) as the phase's kernel.
/// Every product is one of the strided convolution's, and the stride-1
/// kernels (direct, GEMM) run it without an im2col matrix. (The weight
/// gradient the same way measured 15% slower than im2col + GEMM.)
inline bool splits_into_phases(const window_geometry& g) {
  return (g.stride_h > 1 || g.stride_w > 1) && g.dilation_h == 1 && g.dilation_w == 1 &&
         g.kernel_h % g.stride_h == 0 && g.kernel_w % g.stride_w == 0;
}

/// The stride-1 geometry on the phases of splits_into_phases(g).
inline window_geometry phase_split_geometry(const window_geometry& g) {
  window_geometry sub = g;
  sub.in_c = g.in_c * g.stride_h * g.stride_w;
  sub.kernel_h = g.kernel_h / g.stride_h, sub.kernel_w = g.kernel_w / g.stride_w;
  sub.in_h = g.out_h + sub.kernel_h - 1, sub.in_w = g.out_w + sub.kernel_w - 1;
  sub.stride_h = sub.stride_w = 1, sub.pad_h = sub.pad_w = 0;
  return sub;
}

/// The positions i of one phase r along an axis, i * stride + r - pad, that
/// lie inside [0, size): i in [begin, end), end clipped to `count`.
struct phase_range {
  int begin, end;
};
inline phase_range phase_positions(int size, int pad, int r, int stride, int count) {
  const int begin = std::min(count, std::max(0, (pad - r + stride - 1) / stride));
  return {begin, std::clamp((size + pad - r + stride - 1) / stride, begin, count)};
}

/// The phase images of x for `sub` = phase_split_geometry(g), into `out`.
inline void split_into_phases(const window_geometry& g, const window_geometry& sub, int batch,
                              const float* x, float* out) {
  const int in_per_group = g.in_c / g.groups, phases = g.stride_h * g.stride_w;
  cpu::parallel_for(std::int64_t{batch} * sub.in_c, sub.in_plane(), [&](std::int64_t plane) {
    const std::int64_t n = plane / sub.in_c;
    const int c = static_cast<int>(plane % sub.in_c);
    const int grp = c / (phases * in_per_group), phase = c / in_per_group % phases;
    const int ci = c % in_per_group, a = phase / g.stride_w, b = phase % g.stride_w;
    const float* src = x + (n * g.in_c + std::int64_t{grp} * in_per_group + ci) * g.in_plane();
    float* dst = out + plane * sub.in_plane();
    const auto [j_begin, j_end] = phase_positions(g.in_w, g.pad_w, b, g.stride_w, sub.in_w);
    for (int i = 0; i < sub.in_h; ++i) {
      const int iy = i * g.stride_h + a - g.pad_h;
      float* row = dst + std::int64_t{i} * sub.in_w;
      if (iy < 0 || iy >= g.in_h) {
        std::fill(row, row + sub.in_w, 0.0f);
        continue;
      }
      const float* src_row = src + std::int64_t{iy} * g.in_w + b - g.pad_w;
      std::fill(row, row + j_begin, 0.0f);
      for (int j = j_begin; j < j_end; ++j) row[j] = src_row[j * g.stride_w];
      std::fill(row + j_end, row + sub.in_w, 0.0f);
    }
  });
}

/// Index in w of tap (jy, jx) of stacked channel c of the phase split's
/// kernel, for output channel o: w[o][ci][a + s * jy][b + s * jx].
inline std::int64_t phase_tap(const window_geometry& g, int o, int c, int jy, int jx) {
  const int in_per_group = g.in_c / g.groups, phases = g.stride_h * g.stride_w;
  const int phase = c / in_per_group % phases, ci = c % in_per_group;
  const int ky = phase / g.stride_w + g.stride_h * jy, kx = phase % g.stride_w + g.stride_w * jx;
  return ((std::int64_t{o} * in_per_group + ci) * g.kernel_h + ky) * g.kernel_w + kx;
}

/// The adjoint's kernel for phase (ry, rx) with th x tw taps, into `dst`:
/// dst[grp][ci][co][jy][jx] = w[grp][co][ci][ry + stride_h (th - 1 - jy)]
/// [rx + stride_w (tw - 1 - jx)]: the phase's taps flipped, in and out
/// channels exchanged. With stride 1 and the whole kernel it is the
/// stride-1 adjoint's flipped kernel.
inline void flipped_phase_kernel(const window_geometry& g, const float* w, int ry, int rx, int th,
                                 int tw, float* dst) {
  const int in_per_group = g.in_c / g.groups, out_per_group = g.out_c / g.groups;
  const int taps = g.kernel_h * g.kernel_w;
  cpu::parallel_for(g.in_c, std::int64_t{out_per_group} * th * tw, [&](std::int64_t c) {
    const std::int64_t grp = c / in_per_group, ci = c % in_per_group;
    for (int co = 0; co < out_per_group; ++co) {
      const float* src = w + ((grp * out_per_group + co) * in_per_group + ci) * taps;
      float* out = dst + (c * out_per_group + co) * th * tw;
      for (int jy = 0; jy < th; ++jy)
        for (int jx = 0; jx < tw; ++jx)
          out[jy * tw + jx] =
              src[(ry + g.stride_h * (th - 1 - jy)) * g.kernel_w + rx + g.stride_w * (tw - 1 - jx)];
    }
  });
}
}  // namespace detail

/// y = conv(x, w) (+ bias when `bias` is not null). y is overwritten.
template <class T>
void backend::kernels<Cpu>::conv2d_forward(const window_geometry& g, int batch, const T* x,
                                           const T* w, const T* bias, T* y) {
  const int in_per_group = g.in_c / g.groups, out_per_group = g.out_c / g.groups;
  const std::int64_t rows = g.column_rows(), plane = g.out_plane();
  if constexpr (std::is_same_v<T, float>) {
    if (cpu::winograd_convolution_applies(g, batch)) {
      cpu::conv2d_winograd(g, batch, x, w, bias, y);
      return;
    }
    if (detail::splits_into_phases(g)) {
      const window_geometry sub = detail::phase_split_geometry(g);
      const int sub_per_group = sub.in_c / g.groups;
      const std::int64_t taps = std::int64_t{sub.kernel_h} * sub.kernel_w;
      float* sub_w = cpu::scratch<float>(cpu::scratch_slot::extra,
                                         static_cast<std::size_t>(sub.out_c * sub.column_rows()));
      cpu::parallel_for(g.out_c, sub.column_rows(), [&](std::int64_t o) {
        for (int c = 0; c < sub_per_group; ++c)
          for (int jy = 0; jy < sub.kernel_h; ++jy)
            for (int jx = 0; jx < sub.kernel_w; ++jx)
              sub_w[(o * sub_per_group + c) * taps + jy * sub.kernel_w + jx] =
                  w[detail::phase_tap(g, static_cast<int>(o), c, jy, jx)];
      });
      float* phases = cpu::scratch<float>(cpu::scratch_slot::phase_output,
                                          static_cast<std::size_t>(batch * sub.in_size()));
      detail::split_into_phases(g, sub, batch, x, phases);
      backend::kernels<Cpu>::conv2d_forward(sub, batch, static_cast<const float*>(phases),
                                            static_cast<const float*>(sub_w), bias, y);
      return;
    }
    if (cpu::channel_vectors(g) > 0) {
      // The weights transposed once, output channel fastest, for every sample.
      float* wt = cpu::scratch<float>(cpu::scratch_slot::transposed_weights,
                                      static_cast<std::size_t>(g.out_c * rows));
      cpu::parallel_for(g.groups * rows, out_per_group, [&](std::int64_t r) {
        const std::int64_t grp = r / rows, k = r % rows;
        for (int o = 0; o < out_per_group; ++o)
          wt[r * out_per_group + o] = w[(grp * out_per_group + o) * rows + k];
      });
      cpu::with_channel_vectors(g, [&]<int V>(std::integral_constant<int, V>) {
        detail::for_each_sample(
            batch, 2 * g.out_c * plane * rows, [&](int, std::int64_t first, std::int64_t last) {
              for (std::int64_t n = first; n < last; ++n)
                for (int grp = 0; grp < g.groups; ++grp)
                  cpu::conv2d_channel_vector<V>(
                      g, in_per_group,
                      x + n * g.in_size() + std::int64_t{grp} * in_per_group * g.in_plane(),
                      wt + std::int64_t{grp} * rows * out_per_group,
                      bias ? bias + std::int64_t{grp} * out_per_group : nullptr,
                      y + n * g.out_size() + std::int64_t{grp} * out_per_group * plane);
            });
      });
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

namespace detail {
/// Whether a strided adjoint runs phase by phase: where the GEMM + col2im
/// would be shallow (depth out_per_group): at 64 its col2im and short
/// accumulations cost more than the phases' scatter (ConvTranspose2d 64 ->
/// 32 k4 s2 at batch 8: 3.3 -> 2.3 ms at one thread); at 128 and more the
/// GEMM is 5-15% faster.
inline bool backward_data_by_phases_applies(const window_geometry& g) {
  return (g.stride_h > 1 || g.stride_w > 1) && g.stride_h <= 4 && g.stride_w <= 4 &&
         g.dilation_h == 1 && g.dilation_w == 1 && g.out_c / g.groups <= 64;
}

/// dx = conv^T(dy, w) (+ bias[c] on channel c where bias is not null) for a
/// strided, undilated convolution, phase by phase.
/// The input positions iy = m * stride_h + ry - pad_h of one phase ry (and
/// likewise along the row) receive only the taps ky = ry + stride_h * j,
/// from outputs oy = m - j: their gradient is a stride-1 convolution of dy
/// with that sub-kernel, flipped, padded by its size - 1 (the "full"
/// correlation), which the stride-1 kernels compute (direct, Winograd or
/// GEMM). Every product is one the adjoint needs, and there is no im2col
/// matrix and no col2im scatter-add; ConvTranspose2d's forward runs here.
inline void conv2d_backward_data_by_phases(const window_geometry& g, int batch, const float* dy,
                                           const float* w, float* dx, const float* bias = nullptr) {
  const int out_per_group = g.out_c / g.groups;
  struct phase {
    window_geometry sub;  // the stride-1 convolution of dy that gives it
    int ry, rx;
    phase_range rows, cols;  // its full output's rows and columns inside dx
    std::int64_t weights;    // offset of its sub-kernel
  };
  // At most 16 phases (stride 4 by 4) take this path; each has its sub-kernel.
  std::array<phase, 16> phases;
  int count = 0;
  // When the kernel is a multiple of the stride, every phase's sub-kernel
  // reads the same window of dy: one convolution computes them all, as
  // count * in_c output channels (a taller GEMM tile, one padded copy of dy).
  const bool stacked =
      g.groups == 1 && g.kernel_h % g.stride_h == 0 && g.kernel_w % g.stride_w == 0;
  std::int64_t weights = 0, full_plane = 0, covered = 0;
  const auto taps_of = [](int r, int size, int stride) {
    return r < size ? (size - r + stride - 1) / stride : 0;
  };
  for (int ry = 0; ry < g.stride_h; ++ry) {
    for (int rx = 0; rx < g.stride_w; ++rx) {
      const int th = taps_of(ry, g.kernel_h, g.stride_h), tw = taps_of(rx, g.kernel_w, g.stride_w);
      if (th == 0 || tw == 0) continue;
      phase& p = phases[count++];
      p.sub.in_c = g.out_c, p.sub.in_h = g.out_h, p.sub.in_w = g.out_w;
      p.sub.out_c = g.in_c, p.sub.out_h = g.out_h + th - 1, p.sub.out_w = g.out_w + tw - 1;
      p.sub.kernel_h = th, p.sub.kernel_w = tw, p.sub.pad_h = th - 1, p.sub.pad_w = tw - 1;
      p.sub.groups = g.groups;
      p.ry = ry, p.rx = rx;
      // Full output (m, mx) is input position (m * stride + r - pad), where that is inside.
      p.rows = phase_positions(g.in_h, g.pad_h, ry, g.stride_h, p.sub.out_h);
      p.cols = phase_positions(g.in_w, g.pad_w, rx, g.stride_w, p.sub.out_w);
      covered += std::int64_t{p.rows.end - p.rows.begin} * (p.cols.end - p.cols.begin);
      p.weights = weights;
      const std::int64_t size = std::int64_t{g.in_c} * out_per_group * th * tw;
      weights += stacked ? size : (size + 15) / 16 * 16;
      full_plane = std::max(full_plane, p.sub.out_plane());
    }
  }
  float* sub_w = cpu::scratch<float>(cpu::scratch_slot::extra, static_cast<std::size_t>(weights));
  for (int k = 0; k < count; ++k) {
    const phase& p = phases[k];
    flipped_phase_kernel(g, w, p.ry, p.rx, p.sub.kernel_h, p.sub.kernel_w, sub_w + p.weights);
  }
  // Every position of dx in some phase, two phases per row: see below.
  const bool interleaved = stacked && g.stride_w == 2 && covered == g.in_plane();
  // Sample by sample, so that each phase's full output is scattered from
  // L2: each thread its own samples when the batch fills the team.
  const std::int64_t work = 2 * g.out_c * g.out_plane() * g.column_rows();
  for_each_sample(batch, work, [&](int, std::int64_t first_sample, std::int64_t last_sample) {
    const std::int64_t full_size = (stacked ? count : 1) * g.in_c * full_plane;
    float* full =
        cpu::scratch<float>(cpu::scratch_slot::phase_output, static_cast<std::size_t>(full_size));
    window_geometry all = phases[0].sub;
    all.out_c = count * g.in_c;
    for (std::int64_t n = first_sample; n < last_sample; ++n) {
      float* dxn = dx + n * g.in_size();
      const float* dyn = dy + n * g.out_size();
      // Positions no window reaches, where there are any, keep zeros (the bias).
      if (covered < g.in_plane())
        for (int c = 0; c < g.in_c; ++c)
          std::fill(dxn + c * g.in_plane(), dxn + (c + 1) * g.in_plane(), bias ? bias[c] : 0.0f);
      if (stacked)
        backend::kernels<Cpu>::conv2d_forward(all, 1, dyn, static_cast<const float*>(sub_w),
                                              static_cast<const float*>(nullptr), full);
      if (interleaved) {
        // Column phases rx = 0 and 1 of a row phase ry alternate along each
        // row of dx: dx row x is I[x + pad_w] of the sequence I[2j] = phase
        // (ry, 0)[j], I[2j + 1] = phase (ry, 1)[j], written as pairs.
        const std::int64_t phase_plane = phases[0].sub.out_plane();
        const int phase_w = phases[0].sub.out_w;
        cpu::parallel_for(g.in_c, g.in_plane(), [&](std::int64_t c) {
          const float b = bias ? bias[c] : 0.0f;
          for (int ry = 0; ry < g.stride_h; ++ry) {
            const float* even = full + ((2 * ry) * g.in_c + c) * phase_plane;
            const float* odd = full + ((2 * ry + 1) * g.in_c + c) * phase_plane;
            const phase_range rows = phases[2 * ry].rows;
            for (int m = rows.begin; m < rows.end; ++m) {
              float* dst =
                  dxn + c * g.in_plane() + std::int64_t{m * g.stride_h + ry - g.pad_h} * g.in_w;
              const float* e = even + std::int64_t{m} * phase_w + (g.pad_w + 1) / 2;
              const float* o = odd + std::int64_t{m} * phase_w + g.pad_w / 2;
              int x = 0;
              if (g.pad_w % 2) dst[x++] = *o++ + b;
              for (; x + 1 < g.in_w; x += 2) {
                dst[x] = *e++ + b;
                dst[x + 1] = *o++ + b;
              }
              if (x < g.in_w) dst[x] = *e + b;
            }
          }
        });
        continue;
      }
      for (int k = 0; k < count; ++k) {
        const phase& p = phases[k];
        const float* phase_full = stacked ? full + k * g.in_c * p.sub.out_plane() : full;
        if (!stacked)
          backend::kernels<Cpu>::conv2d_forward(p.sub, 1, dyn,
                                                static_cast<const float*>(sub_w + p.weights),
                                                static_cast<const float*>(nullptr), full);
        cpu::parallel_for(g.in_c, p.sub.out_plane(), [&](std::int64_t c) {
          const float* src = phase_full + c * p.sub.out_plane();
          float* dst = dxn + c * g.in_plane() + p.rx - g.pad_w;
          const float b = bias ? bias[c] : 0.0f;
          for (int m = p.rows.begin; m < p.rows.end; ++m) {
            const float* src_row = src + std::int64_t{m} * p.sub.out_w;
            float* dst_row = dst + std::int64_t{m * g.stride_h + p.ry - g.pad_h} * g.in_w;
            for (int mx = p.cols.begin; mx < p.cols.end; ++mx)
              dst_row[mx * g.stride_w] = src_row[mx] + b;
          }
        });
      }
    }
  });
}
}  // namespace detail

/// y = conv^T(x, w) + bias (a null bias adds nothing): ConvTranspose2d's
/// forward, conv2d_backward_data of the convolution g with the bias added
/// where the phases write their outputs instead of in a pass of its own.
template <class T>
void backend::kernels<Cpu>::conv_transpose2d_forward(const window_geometry& g, int batch,
                                                     const T* x, const T* w, const T* bias, T* y) {
  if constexpr (std::is_same_v<T, float>) {
    if (detail::backward_data_by_phases_applies(g)) {
      detail::conv2d_backward_data_by_phases(g, batch, x, w, y, bias);
      return;
    }
  }
  backend::kernels<Cpu>::conv2d_backward_data(g, batch, x, w, y);
  if (bias) backend::kernels<Cpu>::add_channel_bias(batch, g.in_c, g.in_plane(), bias, y);
}

/// dx = conv^T(dy, w): the gradient of conv2d_forward with respect to x. dx is overwritten.
template <class T>
void backend::kernels<Cpu>::conv2d_backward_data(const window_geometry& g, int batch, const T* dy,
                                                 const T* w, T* dx) {
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
      detail::flipped_phase_kernel(g, w, 0, 0, g.kernel_h, g.kernel_w, flipped);
      backend::kernels<Cpu>::conv2d_forward(adjoint, batch, dy, static_cast<const float*>(flipped),
                                            static_cast<const float*>(nullptr), dx);
      return;
    }
    if (detail::backward_data_by_phases_applies(g)) {
      detail::conv2d_backward_data_by_phases(g, batch, dy, w, dx);
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
void backend::kernels<Cpu>::conv2d_backward_weight(const window_geometry& g, int batch, const T* x,
                                                   const T* dy, T* dw) {
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
      if (cpu::channel_vectors(g) > 0) {
        cpu::with_channel_vectors(g, [&]<int V>(std::integral_constant<int, V>) {
          for (int grp = 0; grp < g.groups; ++grp)
            cpu::conv2d_channel_vector_weight_gradient<V>(
                g, in_per_group, last - first,
                x + first * g.in_size() + std::int64_t{grp} * in_per_group * g.in_plane(),
                g.in_size(), dy + first * g.out_size() + std::int64_t{grp} * out_per_group * plane,
                g.out_size(), target + std::int64_t{grp} * out_per_group * rows);
        });
        return;
      }
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
void backend::kernels<Cpu>::add_channel_bias(int batch, int channels, std::int64_t plane,
                                             const T* bias, T* y) {
  cpu::parallel_for(std::int64_t{batch} * channels, plane, [&](std::int64_t nc) {
    const T b = bias[nc % channels];
    T* p = y + nc * plane;
    for (std::int64_t i = 0; i < plane; ++i) p[i] += b;
  });
}

/// db[c] += sum over n and the plane of dy[n, c, :].
template <class T>
void backend::kernels<Cpu>::channel_bias_backward(int batch, int channels, std::int64_t plane,
                                                  const T* dy, T* db) {
  cpu::parallel_for(channels, batch * plane, [&](std::int64_t c) {
    double sum = 0;
    for (int n = 0; n < batch; ++n)
      sum += cpu::blocked_sum(dy + (std::int64_t{n} * channels + c) * plane, plane);
    db[c] += static_cast<T>(sum);
  });
}

}  // namespace typenet
