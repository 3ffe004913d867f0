// typenet/backend/cpu/optimizers.hpp — parameter update kernels.
#pragma once

#include <cstdint>

#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/core/device.hpp"
#include "typenet/core/update_rules.hpp"

namespace typenet {

/// torch.optim.SGD's update of one parameter; `first` means the momentum
/// buffer is still empty (PyTorch then sets it to the gradient).
template <class T>
void sgd_update(Cpu, const sgd_config& c, bool first, std::int64_t n, T* value, const T* grad,
                T* momentum_buffer) {
  cpu::parallel_for(n, 8, [&](std::int64_t i) {
    T d = grad[i];
    if (c.weight_decay != 0) d += static_cast<T>(c.weight_decay) * value[i];
    if (c.momentum != 0) {
      T& buf = momentum_buffer[i];
      buf = first ? d : static_cast<T>(c.momentum) * buf + static_cast<T>(1 - c.dampening) * d;
      d = c.nesterov ? d + static_cast<T>(c.momentum) * buf : buf;
    }
    value[i] -= static_cast<T>(c.lr) * d;
  });
}

}  // namespace typenet
