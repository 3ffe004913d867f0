// typenet/backend/cpu/softmax.hpp — softmax and log-softmax over the channel axis.
//
// Layout [batch][channels][inner]: for Shape<N> inner = 1 (softmax over
// features), for Shape<C, H, W> inner = H*W (per pixel over channels), which
// is PyTorch's Softmax(dim=1).
#pragma once

#include <cstdint>

#include "typenet/backend/cpu/kernels.hpp"
#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/backend/shared/softmax_math.hpp"
#include "typenet/core/device.hpp"

namespace typenet {

template <class T>
void backend::kernels<Cpu>::softmax_forward(bool log, int batch, int channels, std::int64_t inner,
                                            const T* x, T* y) {
  cpu::parallel_for(std::int64_t{batch} * inner, channels * 4, [&](std::int64_t ni) {
    const std::int64_t first = ni / inner * channels * inner + ni % inner;
    detail::softmax_forward_at(log, channels, inner, x + first, y + first);
  });
}

/// softmax: dx = y * (dy - sum(dy * y)); log-softmax: dx = dy - exp(y) * sum(dy).
template <class T>
void backend::kernels<Cpu>::softmax_backward(bool log, int batch, int channels, std::int64_t inner,
                                             const T* y, const T* dy, T* dx) {
  cpu::parallel_for(std::int64_t{batch} * inner, channels * 4, [&](std::int64_t ni) {
    const std::int64_t first = ni / inner * channels * inner + ni % inner;
    detail::softmax_backward_at(log, channels, inner, y + first, dy + first, dx + first);
  });
}

}  // namespace typenet
