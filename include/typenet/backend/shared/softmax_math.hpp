// typenet/backend/shared/softmax_math.hpp — softmax over the channels of one position.
//
// Layout [channels][inner] from a position's first channel: channel c is at
// c * inner. Written once, __host__ __device__, for both backends' loops
// over (sample, position); the sums of exponentials are in double.
#pragma once

#include <cmath>
#include <cstdint>

#include "typenet/config.hpp"

namespace typenet::detail {

/// out = softmax (or log_softmax) of in over its channels.
template <class T>
TYPENET_HOST_DEVICE void softmax_forward_at(bool log, int channels, std::int64_t inner, const T* in,
                                            T* out) {
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
}

/// softmax: dx = y * (dy - sum(dy * y)); log-softmax: dx = dy - exp(y) * sum(dy).
template <class T>
TYPENET_HOST_DEVICE void softmax_backward_at(bool log, int channels, std::int64_t inner, const T* y,
                                             const T* dy, T* dx) {
  double dot = 0;
  for (int c = 0; c < channels; ++c) dot += log ? dy[c * inner] : dy[c * inner] * y[c * inner];
  for (int c = 0; c < channels; ++c) {
    const std::int64_t k = c * inner;
    dx[k] = log ? static_cast<T>(dy[k] - std::exp(static_cast<double>(y[k])) * dot)
                : static_cast<T>(y[k] * (dy[k] - dot));
  }
}

}  // namespace typenet::detail
