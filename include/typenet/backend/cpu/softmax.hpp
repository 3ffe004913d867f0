// typenet/backend/cpu/softmax.hpp — softmax and log-softmax over the channel axis.
//
// Layout [batch][channels][inner]: for Shape<N> inner = 1 (softmax over
// features), for Shape<C, H, W> inner = H*W (per pixel over channels), which
// is PyTorch's Softmax(dim=1).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/core/device.hpp"

namespace typenet {

template <class T>
void softmax_forward(Cpu, bool log, int batch, int channels, std::int64_t inner, const T* x, T* y) {
  cpu::parallel_for(std::int64_t{batch} * inner, channels * 4, [&](std::int64_t ni) {
    const std::int64_t n = ni / inner, i = ni % inner;
    const T* in = x + n * channels * inner + i;
    T* out = y + n * channels * inner + i;
    T top = in[0];
    for (int c = 1; c < channels; ++c) top = std::max(top, in[c * inner]);
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
void softmax_backward(Cpu, bool log, int batch, int channels, std::int64_t inner, const T* y,
                      const T* dy, T* dx) {
  cpu::parallel_for(std::int64_t{batch} * inner, channels * 4, [&](std::int64_t ni) {
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
