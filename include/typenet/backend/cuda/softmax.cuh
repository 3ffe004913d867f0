// typenet/backend/cuda/softmax.cuh — softmax and log-softmax over the channel axis.
//
// Layout [batch][channels][inner], one thread per (sample, position), running
// backend/shared/softmax_math.hpp as the Cpu backend does.
#pragma once

#include <cstdint>

#include "typenet/backend/cuda/kernels.cuh"
#include "typenet/backend/cuda/launch.cuh"
#include "typenet/backend/shared/softmax_math.hpp"
#include "typenet/core/device.hpp"

namespace typenet {

template <class T>
void backend::kernels<Cuda>::softmax_forward(bool log, int batch, int channels, std::int64_t inner,
                                             const T* x, T* y) {
  cuda::for_each_index(std::int64_t{batch} * inner, [=] TYPENET_HOST_DEVICE(std::int64_t ni) {
    const std::int64_t first = ni / inner * channels * inner + ni % inner;
    detail::softmax_forward_at(log, channels, inner, x + first, y + first);
  });
}

template <class T>
void backend::kernels<Cuda>::softmax_backward(bool log, int batch, int channels, std::int64_t inner,
                                              const T* y, const T* dy, T* dx) {
  cuda::for_each_index(std::int64_t{batch} * inner, [=] TYPENET_HOST_DEVICE(std::int64_t ni) {
    const std::int64_t first = ni / inner * channels * inner + ni % inner;
    detail::softmax_backward_at(log, channels, inner, y + first, dy + first, dx + first);
  });
}

}  // namespace typenet
