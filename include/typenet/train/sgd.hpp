// typenet/train/sgd.hpp — SGD with momentum, dampening, Nesterov and weight decay.
//
// Matches torch.optim.SGD step for step. The optimizer holds references to
// a model's parameters and one momentum buffer per parameter, allocated
// when it is built, so step() never allocates. Frozen parameters
// (requires_grad false) are left untouched, as PyTorch skips parameters
// without a gradient.
#pragma once

#include <cstdint>
#include <vector>

#include "typenet/core/tensor.hpp"
#include "typenet/core/update_rules.hpp"
#include "typenet/nn/state.hpp"

namespace typenet {

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

template <class T = float, class Device = Cpu>
class SGD {
 public:
  SGD(std::vector<ParameterRef<T, Device>> params, SGDOptions options)
      : params_(std::move(params)), options_(options) {
    if (options.lr < 0) throw usage_error("SGD: negative learning rate");
    if (options.nesterov && (options.momentum <= 0 || options.dampening != 0))
      throw usage_error("SGD: Nesterov momentum requires a momentum and zero dampening");
    if (options.momentum != 0) {
      buffers_.resize(params_.size());
      for (std::size_t i = 0; i < params_.size(); ++i)
        buffers_[i].resize(static_cast<std::size_t>(params_[i].size()));
    }
  }

  void step() {
    const sgd_config c{options_.lr, options_.momentum, options_.dampening, options_.weight_decay,
                       options_.nesterov};
    for (std::size_t i = 0; i < params_.size(); ++i) {
      auto& p = params_[i];
      if (!p.requires_grad()) continue;
      sgd_update(Device{}, c, steps_ == 0, p.size(), p.value_data(), p.grad_data(),
                 options_.momentum != 0 ? buffers_[i].data() : static_cast<T*>(nullptr));
    }
    ++steps_;
  }

  void zero_grad() {
    for (auto& p : params_)
      for (auto& g : p.grad()) g = T{0};
  }

  SGDOptions& options() { return options_; }

 private:
  std::vector<ParameterRef<T, Device>> params_;
  std::vector<storage<T, Device>> buffers_;
  SGDOptions options_;
  std::int64_t steps_ = 0;
};

}  // namespace typenet
