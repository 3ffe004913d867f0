// typenet/backend/cuda/losses.cuh — the sums behind the losses, on the GPU.
//
// One thread per element (MSELoss, L1Loss, SmoothL1Loss, BCEWithLogitsLoss)
// or per position (CrossEntropyLoss) runs backend/shared/loss_math.hpp, as the Cpu backend does,
// writes its gradient and stores its term; the terms are then added in a
// fixed order, in double (cuda::channel_sums), and only that one number
// travels to the host. CrossEntropyLoss's labels and the losses' weights are
// host memory, copied to the device: a few kilobytes per step.
#pragma once

#include <thrust/device_ptr.h>
#include <thrust/find.h>
#include <cstdint>
#include <span>

#include "typenet/backend/cuda/kernels.cuh"
#include "typenet/backend/cuda/launch.cuh"
#include "typenet/backend/cuda/memory.cuh"
#include "typenet/backend/cuda/reduction.cuh"
#include "typenet/backend/cuda/transfer.cuh"
#include "typenet/backend/shared/loss_math.hpp"
#include "typenet/core/device.hpp"

namespace typenet {

namespace cuda {
/// Σ terms[i] over i in [0, n), in a fixed order, brought to the host.
inline double sum_to_host(std::int64_t n, const double* terms) {
  double* sum = scratch<double>(scratch_slot::loss_sum, 1);
  channel_sums(
      1, 1, n, [=] TYPENET_HOST_DEVICE(std::int64_t, std::int64_t i) { return terms[i]; }, sum);
  double value = 0;
  copy_to_host(sum, 1, &value);
  return value;
}

/// A loss's host weights in device memory (scratch `slot`), or null for none.
inline const float* weights_on_device(const float* host, std::int64_t n, scratch_slot slot) {
  if (!host) return nullptr;
  float* device = scratch<float>(slot, static_cast<std::size_t>(n));
  copy_to_device(host, n, device);
  return device;
}
}  // namespace cuda

/// Σ f(p[i] - t[i]).value over i in [0, n), with g[i] = f(...).derivative /
/// norm when g is not null; p, t and g are device memory.
template <class T, class F>
double backend::kernels<Cuda>::pointwise_loss_sum(std::int64_t n, const T* p, const T* t, T* g,
                                                  double norm, F f) {
  double* terms = cuda::scratch<double>(cuda::scratch_slot::loss, static_cast<std::size_t>(n));
  cuda::for_each_index(n, [=] TYPENET_HOST_DEVICE(std::int64_t i) {
    const detail::loss_and_derivative r = f(static_cast<double>(p[i]) - static_cast<double>(t[i]));
    terms[i] = r.value;
    if (g) g[i] = static_cast<T>(r.derivative / norm);
  });
  return cuda::sum_to_host(n, terms);
}

/// The sum of BCEWithLogitsLoss's terms over n device logits z and targets
/// t; the gradient goes to device memory g when it is not null. The weights
/// in `terms` are host memory.
template <class T>
double backend::kernels<Cuda>::binary_cross_entropy_sum(
    std::int64_t n, const T* z, const T* t, const detail::binary_cross_entropy_terms& host_terms,
    T* g) {
  auto terms = host_terms;  // its weights are moved to the device
  terms.weight =
      cuda::weights_on_device(terms.weight, terms.weight_size, cuda::scratch_slot::class_weights);
  terms.pos_weight = cuda::weights_on_device(terms.pos_weight, terms.pos_weight_size,
                                             cuda::scratch_slot::positive_weights);
  double* out = cuda::scratch<double>(cuda::scratch_slot::loss, static_cast<std::size_t>(n));
  cuda::for_each_index(
      n, [=] TYPENET_HOST_DEVICE(std::int64_t i) { out[i] = terms(i, z[i], t[i], g); });
  return cuda::sum_to_host(n, out);
}

/// The index of the first of n device values outside [0, 1] (NaN is
/// inside), or -1; with its value in `value`.
template <class T>
std::int64_t backend::kernels<Cuda>::first_outside_unit_interval(std::int64_t n, const T* v,
                                                                 T& value) {
  const auto first = thrust::device_pointer_cast(v);
  const auto found = thrust::find_if(cuda::policy(), first, first + n,
                                     [] TYPENET_HOST_DEVICE(T x) { return x < 0 || x > 1; });
  if (found == first + n) return -1;
  const std::int64_t i = found - first;
  cuda::copy_to_host(v + i, 1, &value);
  return i;
}

/// The sum of CrossEntropyLoss's terms over device logits `z` (samples of
/// classes x positions) with one host label per sample and position; the
/// gradient goes to device memory g when it is not null. `terms.weight` is
/// host memory.
template <class T>
double backend::kernels<Cuda>::cross_entropy_sum(const T* z, std::span<const int> labels,
                                                 const detail::cross_entropy_terms& host_terms,
                                                 T* g) {
  auto terms = host_terms;  // its weights are moved to the device
  const auto count = static_cast<std::int64_t>(labels.size());  // batch x positions
  int* y = cuda::scratch<int>(cuda::scratch_slot::labels, labels.size());
  cuda::copy_to_device(labels.data(), count, y);
  terms.weight =
      cuda::weights_on_device(terms.weight, terms.classes, cuda::scratch_slot::class_weights);
  double* out = cuda::scratch<double>(cuda::scratch_slot::loss, labels.size());
  const std::int64_t P = terms.positions, sample = terms.classes * P;
  cuda::for_each_index(count, [=] TYPENET_HOST_DEVICE(std::int64_t i) {
    const std::int64_t first = i / P * sample + i % P;
    out[i] = terms(z + first, y[i], g ? g + first : nullptr);
  });
  return cuda::sum_to_host(count, out);
}

}  // namespace typenet
