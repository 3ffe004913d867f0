// typenet/backend/cuda/softmax.cuh — softmax and log-softmax over the channel axis.
//
// Layout [batch][channels][inner], one thread per (sample, position), the Cpu
// backend's formulas (sums of exponentials in double).
#pragma once

#include <cmath>
#include <cstdint>

#include "typenet/backend/cuda/launch.cuh"
#include "typenet/core/device.hpp"

namespace typenet {

template <class T>
void softmax_forward(Cuda, bool log, int batch, int channels, std::int64_t inner, const T* x,
                     T* y) {
  cuda::for_each_index(std::int64_t{batch} * inner, [=] TYPENET_HOST_DEVICE(std::int64_t ni) {
    const std::int64_t n = ni / inner, i = ni % inner;
    const T* in = x + n * channels * inner + i;
    T* out = y + n * channels * inner + i;
    T top = in[0];
    for (int c = 1; c < channels; ++c) top = top < in[c * inner] ? in[c * inner] : top;
    double sum = 0;
    for (int c = 0; c < channels; ++c) sum += std::exp(static_cast<double>(in[c * inner] - top));
    if (log) {
      const T log_sum = static_cast<T>(std::log(sum));
      for (int c = 0; c < channels; ++c) out[c * inner] = in[c * inner] - top - log_sum;
    } else {
      for (int c = 0; c < channels; ++c)
        out[c * inner] = static_cast<T>(std::exp(static_cast<double>(in[c * inner] - top)) / sum);
    }
  });
}

/// softmax: dx = y * (dy - sum(dy * y)); log-softmax: dx = dy - exp(y) * sum(dy).
template <class T>
void softmax_backward(Cuda, bool log, int batch, int channels, std::int64_t inner, const T* y,
                      const T* dy, T* dx) {
  cuda::for_each_index(std::int64_t{batch} * inner, [=] TYPENET_HOST_DEVICE(std::int64_t ni) {
    const std::int64_t n = ni / inner, i = ni % inner;
    const std::int64_t base = n * channels * inner + i;
    double dot = 0;
    for (int c = 0; c < channels; ++c)
      dot += log ? dy[base + c * inner] : dy[base + c * inner] * y[base + c * inner];
    for (int c = 0; c < channels; ++c) {
      const std::int64_t k = base + c * inner;
      dx[k] = log ? static_cast<T>(dy[k] - std::exp(static_cast<double>(y[k])) * dot)
                  : static_cast<T>(y[k] * (dy[k] - dot));
    }
  });
}

}  // namespace typenet
