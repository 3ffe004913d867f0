// typenet/backend/cuda/optimizers.cuh — parameter updates and gradient clipping on the device.
//
// The Cpu backend's updates (backend/cpu/optimizers.hpp) operation by
// operation, with fma where PyTorch fuses a multiply-add, one thread per
// element.
#pragma once

#include <thrust/device_ptr.h>
#include <thrust/functional.h>
#include <thrust/transform_reduce.h>
#include <cmath>
#include <cstdint>

#include "typenet/backend/cuda/launch.cuh"
#include "typenet/core/device.hpp"
#include "typenet/core/update_rules.hpp"

namespace typenet {

template <class T>
void sgd_update(Cuda, const sgd_config& c, bool first, std::int64_t n, T* value, const T* grad,
                T* momentum_buffer) {
  const T weight_decay = static_cast<T>(c.weight_decay), momentum = static_cast<T>(c.momentum);
  const T one_minus_dampening = static_cast<T>(1 - c.dampening), neg_lr = static_cast<T>(-c.lr);
  const bool decay = c.weight_decay != 0, with_momentum = c.momentum != 0, nesterov = c.nesterov;
  cuda::for_each_index(n, [=] TYPENET_HOST_DEVICE(std::int64_t i) {
    T d = grad[i];
    if (decay) d = std::fma(value[i], weight_decay, d);
    if (with_momentum) {
      T& buf = momentum_buffer[i];
      buf = first ? d : std::fma(d, one_minus_dampening, momentum * buf);
      d = nesterov ? std::fma(buf, momentum, d) : buf;
    }
    value[i] = std::fma(d, neg_lr, value[i]);
  });
}

template <class T>
void adam_update(Cuda, const adam_config& c, std::int64_t n, T* value, const T* grad, T* exp_avg,
                 T* exp_avg_sq, T* max_exp_avg_sq) {
  const T decay = static_cast<T>(1 - c.lr * c.weight_decay);
  const T weight_decay = static_cast<T>(c.weight_decay);
  const bool decoupled = c.decoupled_weight_decay, amsgrad = c.amsgrad;
  const bool l2 = !c.decoupled_weight_decay && c.weight_decay != 0;
  const T beta1 = static_cast<T>(c.beta1), one_minus_beta1 = static_cast<T>(1 - c.beta1);
  const T beta2 = static_cast<T>(c.beta2), one_minus_beta2 = static_cast<T>(1 - c.beta2);
  const T bias_correction2_sqrt = static_cast<T>(c.bias_correction2_sqrt);
  const T eps = static_cast<T>(c.eps);
  const T neg_step_size = static_cast<T>(-c.step_size);
  cuda::for_each_index(n, [=] TYPENET_HOST_DEVICE(std::int64_t i) {
    T p = value[i];
    T g = grad[i];
    if (decoupled) p *= decay;
    if (l2) g = std::fma(p, weight_decay, g);
    const T m = std::fma(g, one_minus_beta1, exp_avg[i] * beta1);
    T v = std::fma(one_minus_beta2 * g, g, exp_avg_sq[i] * beta2);
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    if (amsgrad) {
      const T old = max_exp_avg_sq[i];
      v = (old >= v || old != old) ? old : v;
      max_exp_avg_sq[i] = v;
    }
    const T denom = std::sqrt(v) / bias_correction2_sqrt + eps;
    value[i] = p + neg_step_size * m / denom;
  });
}

/// Σ |g|^norm_type over one gradient, in double (for norm_type = inf: max |g|).
template <class T>
double gradient_norm_part(Cuda, std::int64_t n, const T* grad, double norm_type) {
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
void scale_gradient(Cuda, std::int64_t n, T* grad, T coef) {
  cuda::for_each_index(n, [=] TYPENET_HOST_DEVICE(std::int64_t i) { grad[i] *= coef; });
}

}  // namespace typenet
