// typenet/backend/cpu/elementwise.hpp — element-wise kernels: activations, sums, dropout.
//
// Activations are functors with static `forward(x)` and `backward(x, y, dy)`
// (layers/activations.hpp); the backends only supply the loops, so each
// activation is written once for the CPU and the GPU.
#pragma once

#include <algorithm>
#include <cstdint>

#include "typenet/backend/cpu/kernels.hpp"
#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/core/context.hpp"
#include "typenet/core/device.hpp"

namespace typenet {

/// y[i] = Fn::forward(x[i]).
template <class Fn, class T>
void backend::kernels<Cpu>::map_forward(std::int64_t n, const T* x, T* y) {
  constexpr std::int64_t chunk = 4096;
  cpu::parallel_for((n + chunk - 1) / chunk, chunk * 8, [&](std::int64_t c) {
    const std::int64_t end = std::min(n, (c + 1) * chunk);
    for (std::int64_t i = c * chunk; i < end; ++i) y[i] = Fn::forward(x[i]);
  });
}

/// dx[i] = Fn::backward(x[i], y[i], dy[i]).
template <class Fn, class T>
void backend::kernels<Cpu>::map_backward(std::int64_t n, const T* x, const T* y, const T* dy,
                                         T* dx) {
  constexpr std::int64_t chunk = 4096;
  cpu::parallel_for((n + chunk - 1) / chunk, chunk * 8, [&](std::int64_t c) {
    const std::int64_t end = std::min(n, (c + 1) * chunk);
    for (std::int64_t i = c * chunk; i < end; ++i) dx[i] = Fn::backward(x[i], y[i], dy[i]);
  });
}

/// out[i] = a[i] + b[i].
template <class T>
void backend::kernels<Cpu>::add(std::int64_t n, const T* a, const T* b, T* out) {
  constexpr std::int64_t chunk = 4096;
  cpu::parallel_for((n + chunk - 1) / chunk, chunk, [&](std::int64_t c) {
    const std::int64_t end = std::min(n, (c + 1) * chunk);
    for (std::int64_t i = c * chunk; i < end; ++i) out[i] = a[i] + b[i];
  });
}

/// out[i] = in[i].
template <class T>
void backend::kernels<Cpu>::copy_values(std::int64_t n, const T* in, T* out) {
  std::copy_n(in, n, out);
}

/// out[i] = value.
template <class T>
void backend::kernels<Cpu>::fill_values(std::int64_t n, T* out, T value) {
  std::fill_n(out, n, value);
}

/// Inverted dropout: mask[i] = 0 with probability p, else 1/(1-p); y = x * mask.
template <class T>
void backend::kernels<Cpu>::dropout_forward(std::int64_t n, double p, std::uint64_t stream,
                                            const T* x, T* mask, T* y) {
  const T keep_scale = static_cast<T>(1.0 / (1.0 - p));
  cpu::parallel_for(n, 16, [&](std::int64_t i) {
    mask[i] = uniform_at(stream, static_cast<std::uint64_t>(i)) < p ? T{0} : keep_scale;
    y[i] = x[i] * mask[i];
  });
}

/// out[i] = a[i] * b[i].
template <class T>
void backend::kernels<Cpu>::multiply(std::int64_t n, const T* a, const T* b, T* out) {
  cpu::parallel_for(n, 4, [&](std::int64_t i) { out[i] = a[i] * b[i]; });
}

/// Row r of dst (dst_stride apart) = (or +=) row r of src (src_stride apart), `block` values each.
template <class T>
void backend::kernels<Cpu>::copy_blocks(std::int64_t rows, std::int64_t block, const T* src,
                                        std::int64_t src_stride, T* dst, std::int64_t dst_stride,
                                        bool accumulate) {
  cpu::parallel_for(rows, block, [&](std::int64_t r) {
    const T* s = src + r * src_stride;
    T* d = dst + r * dst_stride;
    if (accumulate) {
      for (std::int64_t i = 0; i < block; ++i) d[i] += s[i];
    } else {
      std::copy_n(s, block, d);
    }
  });
}

/// y[p][oy][ox] = x[p][oy - top][ox - left] inside x, 0 outside.
template <class T>
void backend::kernels<Cpu>::pad_planes(std::int64_t planes, int in_h, int in_w, int out_h,
                                       int out_w, int top, int left, const T* x, T* y) {
  // The columns of an output row that fall inside x: [x0, x1).
  const int x0 = std::clamp(left, 0, out_w), x1 = std::clamp(left + in_w, x0, out_w);
  cpu::parallel_for(planes, std::int64_t{out_h} * out_w, [&](std::int64_t p) {
    const T* src = x + p * in_h * in_w;
    T* dst = y + p * out_h * out_w;
    for (int oy = 0; oy < out_h; ++oy, dst += out_w) {
      const int iy = oy - top;
      if (iy < 0 || iy >= in_h) {
        std::fill_n(dst, out_w, T{0});
        continue;
      }
      std::fill(dst, dst + x0, T{0});
      if (x1 > x0) std::copy_n(src + std::int64_t{iy} * in_w + (x0 - left), x1 - x0, dst + x0);
      std::fill(dst + x1, dst + out_w, T{0});
    }
  });
}

}  // namespace typenet
