// typenet/core/update_rules.hpp — optimizer hyper-parameters as kernels receive them.
//
// Plain structs shared by the optimizers (train/) and the update kernels of
// each backend, so neither includes the other.
#pragma once

namespace typenet {

struct sgd_config {
  double lr = 0.01, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};

}  // namespace typenet
