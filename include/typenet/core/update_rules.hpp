// typenet/core/update_rules.hpp — optimizer hyper-parameters as kernels receive them.
//
// Plain structs shared by the optimizers (train/) and the update kernels of
// each backend (backend/<device>/optimizers.hpp), so neither includes the
// other. The optimizer resolves everything that is per step rather than per
// element (bias corrections, step sizes) on the host; a kernel only runs the
// element-wise part.
#pragma once

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

}  // namespace typenet
