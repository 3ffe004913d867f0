// typenet/backend/cpu/optimizers.hpp — parameter update and gradient clipping kernels.
//
// The element-wise halves of train/sgd.hpp, train/adam.hpp and
// train/clip_grad.hpp on the CPU, overloaded on the device tag. Each update
// follows torch.optim's single-tensor (foreach=False) code path operation by
// operation, in the parameter's own type with the scalars rounded to it as
// PyTorch does, and fuses a multiply-add exactly where PyTorch's AVX2
// kernels do (add/add_ with alpha, addcmul_): on such CPUs float results are
// PyTorch 1.13's to the bit (tests/test_optim.cpp), elsewhere within a unit
// in the last place per operation. std::fma is a library call unless the
// compiler may use FMA instructions (-mfma, -march=native).
//
// Elements are independent, so results do not depend on the thread count;
// the norm reduction sums fixed chunks in a fixed order, so it does not
// either. Nothing here allocates.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/core/device.hpp"
#include "typenet/core/update_rules.hpp"

namespace typenet {

/// torch.optim.SGD's update of one parameter; `first` means the momentum
/// buffer is still empty (PyTorch then sets it to the gradient).
template <class T>
void sgd_update(Cpu, const sgd_config& c, bool first, std::int64_t n, T* value, const T* grad,
                T* momentum_buffer) {
  const T weight_decay = static_cast<T>(c.weight_decay), momentum = static_cast<T>(c.momentum);
  const T one_minus_dampening = static_cast<T>(1 - c.dampening), neg_lr = static_cast<T>(-c.lr);
  cpu::parallel_for(n, 8, [&](std::int64_t i) {
    T d = grad[i];
    // d_p = d_p.add(param, alpha=weight_decay)
    if (c.weight_decay != 0) d = std::fma(value[i], weight_decay, d);
    if (c.momentum != 0) {
      T& buf = momentum_buffer[i];
      // buf.mul_(momentum).add_(d_p, alpha=1 - dampening), or clone(d_p) the first time
      buf = first ? d : std::fma(d, one_minus_dampening, momentum * buf);
      // d_p = d_p.add(buf, alpha=momentum) or buf
      d = c.nesterov ? std::fma(buf, momentum, d) : buf;
    }
    value[i] = std::fma(d, neg_lr, value[i]);  // param.add_(d_p, alpha=-lr)
  });
}

/// torch.optim.Adam's (or, with c.decoupled_weight_decay, AdamW's) update of
/// one parameter. `max_exp_avg_sq` is used only when c.amsgrad.
template <class T>
void adam_update(Cpu, const adam_config& c, std::int64_t n, T* value, const T* grad, T* exp_avg,
                 T* exp_avg_sq, T* max_exp_avg_sq) {
  const T decay = static_cast<T>(1 - c.lr * c.weight_decay);
  const T weight_decay = static_cast<T>(c.weight_decay);
  const bool l2 = !c.decoupled_weight_decay && c.weight_decay != 0;
  const T beta1 = static_cast<T>(c.beta1), one_minus_beta1 = static_cast<T>(1 - c.beta1);
  const T beta2 = static_cast<T>(c.beta2), one_minus_beta2 = static_cast<T>(1 - c.beta2);
  const T bias_correction2_sqrt = static_cast<T>(c.bias_correction2_sqrt);
  const T eps = static_cast<T>(c.eps);
  const T neg_step_size = static_cast<T>(-c.step_size);
  cpu::parallel_for(n, 16, [&](std::int64_t i) {
    T p = value[i];
    T g = grad[i];
    if (c.decoupled_weight_decay) p *= decay;  // param.mul_(1 - lr * weight_decay)
    if (l2) g = std::fma(p, weight_decay, g);  // grad.add(param, alpha=weight_decay)
    // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    const T m = std::fma(g, one_minus_beta1, exp_avg[i] * beta1);
    // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    T v = std::fma(one_minus_beta2 * g, g, exp_avg_sq[i] * beta2);
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    if (c.amsgrad) {  // torch.maximum, which passes NaN on
      const T old = max_exp_avg_sq[i];
      v = (old >= v || std::isnan(old)) ? old : v;
      max_exp_avg_sq[i] = v;
    }
    // denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
    const T denom = std::sqrt(v) / bias_correction2_sqrt + eps;
    value[i] = p + neg_step_size * m / denom;  // param.addcdiv_(exp_avg, denom, value=-step_size)
  });
}

/// Σ |g|^norm_type over one gradient, in double (for norm_type = inf: max |g|).
template <class T>
double gradient_norm_part(Cpu, std::int64_t n, const T* grad, double norm_type) {
  constexpr std::int64_t chunks = 64;
  std::array<double, chunks> part{};
  const bool inf = std::isinf(norm_type);
  cpu::parallel_for(chunks, std::max<std::int64_t>(n / chunks, 1) * 4, [&](std::int64_t c) {
    const std::int64_t begin = n * c / chunks, end = n * (c + 1) / chunks;
    double acc = 0;
    for (std::int64_t i = begin; i < end; ++i) {
      const double a = std::abs(static_cast<double>(grad[i]));
      if (inf)
        acc = std::max(acc, a);
      else if (norm_type == 2)
        acc += a * a;
      else if (norm_type == 1)
        acc += a;
      else
        acc += std::pow(a, norm_type);
    }
    part[static_cast<std::size_t>(c)] = acc;
  });
  double total = 0;
  for (double p : part) total = inf ? std::max(total, p) : total + p;
  return total;
}

/// grad *= coef (clip_grad_norm_'s rescaling).
template <class T>
void scale_gradient(Cpu, std::int64_t n, T* grad, T coef) {
  cpu::parallel_for(n, 1, [&](std::int64_t i) { grad[i] *= coef; });
}

/// Copies `n` values from host memory into a buffer of this device (optimizer state restore).
template <class T>
void copy_from_host(Cpu, std::int64_t n, const T* host, T* out) {
  if (n > 0) std::memcpy(out, host, static_cast<std::size_t>(n) * sizeof(T));
}

}  // namespace typenet
