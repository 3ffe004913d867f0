// typenet/backend/cpu/optimizers.hpp — parameter update and gradient clipping kernels.
//
// The element-wise halves of train/sgd.hpp, train/adam.hpp and
// train/clip_grad.hpp on the CPU (members of backend::kernels<Cpu>); the
// element updates themselves are backend/shared/update_rules.hpp's. On CPUs with FMA, float
// results are PyTorch 1.13's to the bit (tests/train/test_optim.cpp), elsewhere
// within a unit in the last place per operation. std::fma is a library call
// unless the compiler may use FMA instructions (-mfma, -march=native).
//
// Elements are independent, so results do not depend on the thread count;
// the norm reduction sums fixed chunks in a fixed order, so it does not
// either. Nothing here allocates.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "typenet/backend/cpu/kernels.hpp"
#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/backend/shared/update_rules.hpp"
#include "typenet/core/device.hpp"

namespace typenet {

/// torch.optim.SGD's update of one parameter; `first` means the momentum
/// buffer is still empty (PyTorch then sets it to the gradient).
template <class T>
void backend::kernels<Cpu>::sgd_update(const sgd_config& c, bool first, std::int64_t n, T* value,
                                       const T* grad, T* momentum_buffer) {
  const sgd_element<T> update(c, first);
  cpu::parallel_for(n, 8, [&](std::int64_t i) {
    update(value[i], grad[i], momentum_buffer ? momentum_buffer + i : nullptr);
  });
}

/// torch.optim.Adam's (or, with c.decoupled_weight_decay, AdamW's) update of
/// one parameter. `max_exp_avg_sq` is used only when c.amsgrad.
template <class T>
void backend::kernels<Cpu>::adam_update(const adam_config& c, std::int64_t n, T* value,
                                        const T* grad, T* exp_avg, T* exp_avg_sq,
                                        T* max_exp_avg_sq) {
  const adam_element<T> update(c);
  cpu::parallel_for(n, 16, [&](std::int64_t i) {
    update(value[i], grad[i], exp_avg[i], exp_avg_sq[i],
           max_exp_avg_sq ? max_exp_avg_sq + i : nullptr);
  });
}

/// Σ |g|^norm_type over one gradient, in double (for norm_type = inf: max |g|).
template <class T>
double backend::kernels<Cpu>::gradient_norm_part(std::int64_t n, const T* grad, double norm_type) {
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
void backend::kernels<Cpu>::scale_gradient(std::int64_t n, T* grad, T coef) {
  cpu::parallel_for(n, 1, [&](std::int64_t i) { grad[i] *= coef; });
}

}  // namespace typenet
