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

}  // namespace typenet
