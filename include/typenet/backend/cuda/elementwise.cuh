// typenet/backend/cuda/elementwise.cuh — element-wise kernels: activations, sums, dropout.
//
// The activations' functors (layers/activations.hpp) are __host__ __device__,
// so these loops run the very same formulas as the Cpu backend.
#pragma once

#include <thrust/copy.h>
#include <thrust/device_ptr.h>
#include <thrust/fill.h>
#include <cstdint>

#include "typenet/backend/cuda/kernels.cuh"
#include "typenet/backend/cuda/launch.cuh"
#include "typenet/core/context.hpp"
#include "typenet/core/device.hpp"

namespace typenet {

/// y[i] = Fn::forward(x[i]).
template <class Fn, class T>
void backend::kernels<Cuda>::map_forward(std::int64_t n, const T* x, T* y) {
  cuda::for_each_index(n, [=] TYPENET_HOST_DEVICE(std::int64_t i) { y[i] = Fn::forward(x[i]); });
}

/// dx[i] = Fn::backward(x[i], y[i], dy[i]).
template <class Fn, class T>
void backend::kernels<Cuda>::map_backward(std::int64_t n, const T* x, const T* y, const T* dy,
                                          T* dx) {
  cuda::for_each_index(
      n, [=] TYPENET_HOST_DEVICE(std::int64_t i) { dx[i] = Fn::backward(x[i], y[i], dy[i]); });
}

/// out[i] = a[i] + b[i].
template <class T>
void backend::kernels<Cuda>::add(std::int64_t n, const T* a, const T* b, T* out) {
  cuda::for_each_index(n, [=] TYPENET_HOST_DEVICE(std::int64_t i) { out[i] = a[i] + b[i]; });
}

/// out[i] = a[i] * b[i].
template <class T>
void backend::kernels<Cuda>::multiply(std::int64_t n, const T* a, const T* b, T* out) {
  cuda::for_each_index(n, [=] TYPENET_HOST_DEVICE(std::int64_t i) { out[i] = a[i] * b[i]; });
}

/// out[i] = in[i].
template <class T>
void backend::kernels<Cuda>::copy_values(std::int64_t n, const T* in, T* out) {
  if (n > 0)
    thrust::copy_n(cuda::policy(), thrust::device_pointer_cast(in), n,
                   thrust::device_pointer_cast(out));
}

/// out[i] = value.
template <class T>
void backend::kernels<Cuda>::fill_values(std::int64_t n, T* out, T value) {
  if (n > 0) thrust::fill_n(cuda::policy(), thrust::device_pointer_cast(out), n, value);
}

/// Inverted dropout with the Cpu backend's counter-based numbers, so both
/// backends drop the same elements for the same stream.
template <class T>
void backend::kernels<Cuda>::dropout_forward(std::int64_t n, double p, std::uint64_t stream,
                                             const T* x, T* mask, T* y) {
  const T keep_scale = static_cast<T>(1.0 / (1.0 - p));
  cuda::for_each_index(n, [=] TYPENET_HOST_DEVICE(std::int64_t i) {
    mask[i] = uniform_at(stream, static_cast<std::uint64_t>(i)) < p ? T{0} : keep_scale;
    y[i] = x[i] * mask[i];
  });
}

/// Row r of dst (dst_stride apart) = (or +=) row r of src (src_stride apart), `block` values each.
template <class T>
void backend::kernels<Cuda>::copy_blocks(std::int64_t rows, std::int64_t block, const T* src,
                                         std::int64_t src_stride, T* dst, std::int64_t dst_stride,
                                         bool accumulate) {
  if (block <= 0) return;
  cuda::for_each_index(rows * block, [=] TYPENET_HOST_DEVICE(std::int64_t i) {
    const std::int64_t r = i / block, c = i % block;
    const T v = src[r * src_stride + c];
    T& d = dst[r * dst_stride + c];
    d = accumulate ? d + v : v;
  });
}

/// y[p][oy][ox] = x[p][oy - top][ox - left] inside x, 0 outside.
template <class T>
void backend::kernels<Cuda>::pad_planes(std::int64_t planes, int in_h, int in_w, int out_h,
                                        int out_w, int top, int left, const T* x, T* y) {
  const std::int64_t plane = std::int64_t{out_h} * out_w;
  cuda::for_each_index(planes * plane, [=] TYPENET_HOST_DEVICE(std::int64_t i) {
    const std::int64_t p = i / plane;
    const int oy = static_cast<int>(i % plane / out_w), ox = static_cast<int>(i % out_w);
    const int iy = oy - top, ix = ox - left;
    y[i] = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w ? x[(p * in_h + iy) * in_w + ix] : T{0};
  });
}

}  // namespace typenet
