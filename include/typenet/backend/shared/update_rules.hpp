// typenet/backend/shared/update_rules.hpp — optimizer hyper-parameters as kernels receive them.
//
// Plain structs shared by the optimizers (train/) and the update kernels of
// each backend (backend/<device>/optimizers.hpp), so neither includes the
// other. The optimizer resolves everything that is per step rather than per
// element (bias corrections, step sizes) on the host; a kernel only runs the
// element-wise part, which is written here once for both backends
// (sgd_element, adam_element): torch.optim's single-tensor (foreach=False)
// code path operation by operation, in the parameter's own type with the
// scalars rounded to it as PyTorch does, and a fused multiply-add exactly
// where PyTorch's AVX2 kernels fuse one (add/add_ with alpha, addcmul_).
#pragma once

#include <cmath>

#include "typenet/config.hpp"

namespace typenet {

/// torch.optim.SGD's options for one parameter group.
struct sgd_config {
  double lr = 0.01, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};

/// One step of torch.optim.Adam / AdamW (single-tensor code path) for one
/// parameter whose step count is already incremented:
///   step_size = lr / (1 - beta1^step), bias_correction2_sqrt = sqrt(1 - beta2^step).
struct adam_config {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool amsgrad = false;
  /// AdamW: weight decay multiplies the parameter by 1 - lr * weight_decay
  /// before the update; Adam: it adds weight_decay * parameter to the gradient.
  bool decoupled_weight_decay = false;
  double step_size = 1e-3;
  double bias_correction2_sqrt = 1;
};

/// sgd_config's update of one element, the constants rounded to T once.
template <class T>
struct sgd_element {
  T weight_decay, momentum, one_minus_dampening, neg_lr;
  bool decay, with_momentum, nesterov, first;

  /// `first`: the momentum buffer is still empty (PyTorch then sets it to the gradient).
  sgd_element(const sgd_config& c, bool first_step)
      : weight_decay(static_cast<T>(c.weight_decay)),
        momentum(static_cast<T>(c.momentum)),
        one_minus_dampening(static_cast<T>(1 - c.dampening)),
        neg_lr(static_cast<T>(-c.lr)),
        decay(c.weight_decay != 0),
        with_momentum(c.momentum != 0),
        nesterov(c.nesterov),
        first(first_step) {}

  /// `buffer` is the element's momentum buffer (unused without momentum).
  TYPENET_HOST_DEVICE void operator()(T& value, T grad, T* buffer) const {
    T d = grad;
    if (decay) d = std::fma(value, weight_decay, d);  // d_p = d_p.add(param, alpha=weight_decay)
    if (with_momentum) {
      T& buf = *buffer;
      // buf.mul_(momentum).add_(d_p, alpha=1 - dampening), or clone(d_p) the first time
      buf = first ? d : std::fma(d, one_minus_dampening, momentum * buf);
      d = nesterov ? std::fma(buf, momentum, d) : buf;  // d_p.add(buf, alpha=momentum) or buf
    }
    value = std::fma(d, neg_lr, value);  // param.add_(d_p, alpha=-lr)
  }
};

/// adam_config's update of one element (Adam, or AdamW with decoupled_weight_decay).
template <class T>
struct adam_element {
  T decay, weight_decay, beta1, one_minus_beta1, beta2, one_minus_beta2, bias_correction2_sqrt, eps,
      neg_step_size;
  bool decoupled, l2, amsgrad;

  explicit adam_element(const adam_config& c)
      : decay(static_cast<T>(1 - c.lr * c.weight_decay)),
        weight_decay(static_cast<T>(c.weight_decay)),
        beta1(static_cast<T>(c.beta1)),
        one_minus_beta1(static_cast<T>(1 - c.beta1)),
        beta2(static_cast<T>(c.beta2)),
        one_minus_beta2(static_cast<T>(1 - c.beta2)),
        bias_correction2_sqrt(static_cast<T>(c.bias_correction2_sqrt)),
        eps(static_cast<T>(c.eps)),
        neg_step_size(static_cast<T>(-c.step_size)),
        decoupled(c.decoupled_weight_decay),
        l2(!c.decoupled_weight_decay && c.weight_decay != 0),
        amsgrad(c.amsgrad) {}

  /// `max_exp_avg_sq` is used only with amsgrad.
  TYPENET_HOST_DEVICE void operator()(T& value, T grad, T& exp_avg, T& exp_avg_sq,
                                      T* max_exp_avg_sq) const {
    T p = value;
    T g = grad;
    if (decoupled) p *= decay;                 // param.mul_(1 - lr * weight_decay)
    if (l2) g = std::fma(p, weight_decay, g);  // grad.add(param, alpha=weight_decay)
    // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    const T m = std::fma(g, one_minus_beta1, exp_avg * beta1);
    // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    T v = std::fma(one_minus_beta2 * g, g, exp_avg_sq * beta2);
    exp_avg = m;
    exp_avg_sq = v;
    if (amsgrad) {  // torch.maximum, which passes NaN on
      const T old = *max_exp_avg_sq;
      v = (old >= v || old != old) ? old : v;
      *max_exp_avg_sq = v;
    }
    // denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
    const T denom = std::sqrt(v) / bias_correction2_sqrt + eps;
    value = p + neg_step_size * m / denom;  // param.addcdiv_(exp_avg, denom, value=-step_size)
  }
};

}  // namespace typenet
