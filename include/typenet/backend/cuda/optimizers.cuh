// typenet/backend/cuda/optimizers.cuh — parameter updates and gradient clipping on the device.
//
// The element updates of backend/shared/update_rules.hpp, which the Cpu backend runs
// too, one thread per element.
#pragma once

#include <thrust/device_ptr.h>
#include <thrust/functional.h>
#include <thrust/transform_reduce.h>
#include <cmath>
#include <cstdint>

#include "typenet/backend/cuda/kernels.cuh"
#include "typenet/backend/cuda/launch.cuh"
#include "typenet/backend/shared/update_rules.hpp"
#include "typenet/core/device.hpp"

namespace typenet {

template <class T>
void backend::kernels<Cuda>::sgd_update(const sgd_config& c, bool first, std::int64_t n, T* value,
                                        const T* grad, T* momentum_buffer) {
  const sgd_element<T> update(c, first);
  cuda::for_each_index(n, [=] TYPENET_HOST_DEVICE(std::int64_t i) {
    update(value[i], grad[i], momentum_buffer ? momentum_buffer + i : nullptr);
  });
}

template <class T>
void backend::kernels<Cuda>::adam_update(const adam_config& c, std::int64_t n, T* value,
                                         const T* grad, T* exp_avg, T* exp_avg_sq,
                                         T* max_exp_avg_sq) {
  const adam_element<T> update(c);
  cuda::for_each_index(n, [=] TYPENET_HOST_DEVICE(std::int64_t i) {
    update(value[i], grad[i], exp_avg[i], exp_avg_sq[i],
           max_exp_avg_sq ? max_exp_avg_sq + i : nullptr);
  });
}

/// Σ |g|^norm_type over one gradient, in double (for norm_type = inf: max |g|).
template <class T>
double backend::kernels<Cuda>::gradient_norm_part(std::int64_t n, const T* grad, double norm_type) {
  if (n <= 0) return 0;
  const auto g = thrust::device_pointer_cast(grad);
  if (std::isinf(norm_type))
    return thrust::transform_reduce(
        cuda::policy(), g, g + n,
        [] TYPENET_HOST_DEVICE(T v) { return std::fabs(static_cast<double>(v)); }, 0.0,
        thrust::maximum<double>());
  return thrust::transform_reduce(
      cuda::policy(), g, g + n,
      [norm_type] TYPENET_HOST_DEVICE(T v) {
        const double a = std::fabs(static_cast<double>(v));
        return norm_type == 2 ? a * a : norm_type == 1 ? a : std::pow(a, norm_type);
      },
      0.0, thrust::plus<double>());
}

/// grad *= coef (clip_grad_norm_'s rescaling).
template <class T>
void backend::kernels<Cuda>::scale_gradient(std::int64_t n, T* grad, T coef) {
  cuda::for_each_index(n, [=] TYPENET_HOST_DEVICE(std::int64_t i) { grad[i] *= coef; });
}

}  // namespace typenet
