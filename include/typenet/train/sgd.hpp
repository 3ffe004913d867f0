// typenet/train/sgd.hpp — SGD with momentum, dampening, Nesterov and weight decay.
//
// Matches torch.optim.SGD (PyTorch 1.13, foreach=False) step for step:
//
//   tn::SGD<float> opt(model.parameters(), {.lr = 0.01, .momentum = 0.9});
//   tn::SGD<float> opt({tn::param_group{tn::exclude(params, "fc."), {.lr = 1e-4}},
//                       tn::param_group{tn::select(params, "fc.")}},
//                      {.lr = 1e-2, .momentum = 0.9});
//
// Guarantees:
// - Frozen parameters (requires_grad false at a step) are left untouched and
//   their momentum buffer too, as PyTorch skips parameters without a gradient;
//   a buffer starts as the first gradient it sees, per parameter.
// - step() does not allocate: momentum buffers are allocated when the
//   optimizer is built, for the parameters that are trainable then and whose
//   group has a momentum. A parameter unfrozen later, or a group given a
//   momentum later, gets its buffer at its next step; allocate_state()
//   does that ahead of time.
// - options(g) is group g's SGDOptions, mutable between steps (schedulers
//   set lr and momentum); they are checked again at each step.
// - state() / load_state() expose the optimizer state as named entries for
//   checkpoints (docs/optimizers.md): "<param>.momentum_buffer" for every
//   buffer PyTorch would hold, "param_groups.<g>.<option>", and "steps".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "typenet/backend/interface.hpp"
#include "typenet/backend/shared/update_rules.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/core/storage.hpp"
#include "typenet/nn/state.hpp"
#include "typenet/train/param_groups.hpp"

namespace typenet {

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

namespace detail {
template <class T, class Device>
struct sgd_slot {
  storage<T, Device> momentum_buffer;
  bool has_buffer = false;  // PyTorch's buffer is None until the first step with momentum
};
}  // namespace detail

template <class T = float, class Device = Cpu>
class SGD : public detail::optimizer_base<T, Device, SGDOptions, detail::sgd_slot<T, Device>> {
  using base = detail::optimizer_base<T, Device, SGDOptions, detail::sgd_slot<T, Device>>;

 public:
  using typename base::parameter;

  /// One group: every parameter in `params` with `options`.
  SGD(std::vector<parameter> params, SGDOptions options) : base("SGD"), defaults_(options) {
    add_param_group({std::move(params), {}});
    this->require_parameters();
  }

  /// Several groups; what a group leaves unset comes from `defaults`.
  SGD(std::vector<param_group<T, Device>> groups, SGDOptions defaults)
      : base("SGD"), defaults_(defaults) {
    for (auto& g : groups) add_param_group(std::move(g));
    this->require_parameters();
  }

  /// Adds a group (e.g. layers unfrozen during training), like PyTorch's add_param_group.
  void add_param_group(param_group<T, Device> group) {
    const std::size_t g = this->groups_.size();
    const group_options& o = group.options;
    if (o.betas || o.eps || o.amsgrad)
      throw usage_error("SGD: parameter group " + std::to_string(g) + " sets " +
                        (o.betas ? "betas"
                         : o.eps ? "eps"
                                 : "amsgrad") +
                        ", which SGD does not have (Adam does)");
    SGDOptions resolved = defaults_;
    if (o.lr) resolved.lr = *o.lr;
    if (o.momentum) resolved.momentum = *o.momentum;
    if (o.dampening) resolved.dampening = *o.dampening;
    if (o.weight_decay) resolved.weight_decay = *o.weight_decay;
    if (o.nesterov) resolved.nesterov = *o.nesterov;
    validate(resolved, g);
    this->append(std::move(group.params), resolved);
    allocate_state();
  }

  /// Allocates the momentum buffers that the current options and the
  /// parameters' requires_grad call for, so the next step() does not.
  void allocate_state() {
    for (auto& group : this->groups_) {
      if (group.options.momentum == 0) continue;
      for (std::size_t i = 0; i < group.params.size(); ++i) {
        const auto& p = group.params[i];
        auto& buf = group.slots[i].momentum_buffer;
        if (p.requires_grad() && buf.size() == 0) buf.resize(static_cast<std::size_t>(p.size()));
      }
    }
  }

  void step() {
    for (std::size_t g = 0; g < this->groups_.size(); ++g) validate(this->groups_[g].options, g);
    for (auto& group : this->groups_) {
      const SGDOptions& o = group.options;
      const sgd_config c{o.lr, o.momentum, o.dampening, o.weight_decay, o.nesterov};
      for (std::size_t i = 0; i < group.params.size(); ++i) {
        const auto& p = group.params[i];
        if (!p.requires_grad()) continue;
        auto& slot = group.slots[i];
        backend::view<T, 1> buffer{};
        if (o.momentum != 0) {
          if (slot.momentum_buffer.size() == 0)
            slot.momentum_buffer.resize(static_cast<std::size_t>(p.size()));
          buffer = backend::vector_view(slot.momentum_buffer.data(), p.size());
        }
        backend::sgd_update(Device{}, c, !slot.has_buffer,
                            backend::vector_view(p.value_data(), p.size()),
                            backend::vector_view(p.grad_data(), p.size()), buffer);
        if (o.momentum != 0) slot.has_buffer = true;
      }
    }
    ++this->steps_;
  }

  /// The optimizer state as named entries pointing into it (writable):
  /// "steps" (int64), "param_groups.<g>.{lr, momentum, dampening,
  /// weight_decay}" (float64) and "<param>.momentum_buffer" for each buffer
  /// that exists (PyTorch's state). Valid until the next add_param_group.
  std::vector<StateRef> state() {
    this->require_unique_names("state");
    std::vector<StateRef> out;
    out.push_back(this->counter_entry("steps", &this->steps_));
    for (std::size_t g = 0; g < this->groups_.size(); ++g) {
      auto& o = this->groups_[g].options;
      out.push_back(this->value_entry(this->group_key(g, "lr"), &o.lr));
      out.push_back(this->value_entry(this->group_key(g, "momentum"), &o.momentum));
      out.push_back(this->value_entry(this->group_key(g, "dampening"), &o.dampening));
      out.push_back(this->value_entry(this->group_key(g, "weight_decay"), &o.weight_decay));
    }
    for (auto& group : this->groups_)
      for (std::size_t i = 0; i < group.params.size(); ++i)
        if (group.slots[i].has_buffer)
          out.push_back(this->tensor_entry(group.params[i].name() + ".momentum_buffer",
                                           group.params[i], group.slots[i].momentum_buffer.data()));
    return out;
  }

  /// Restores what state() listed (e.g. read back from a checkpoint into
  /// host memory). A parameter without a "<param>.momentum_buffer" entry
  /// gets none (the next step starts it from the gradient); missing options
  /// and "steps" keep their values. Unknown names, wrong sizes or element
  /// types throw usage_error, before anything is changed.
  void load_state(std::span<const StateRef> entries) {
    this->require_unique_names("load_state");
    // Validate everything first, so a bad file leaves the optimizer as it was.
    for (int pass = 0; pass < 2; ++pass) {
      const bool apply = pass == 1;
      detail::state_source source(entries, "SGD");
      if (const auto* e = source.take("steps")) {
        std::int64_t v = 0;
        source.read(*e, v);
        if (apply) this->steps_ = v;
      }
      for (std::size_t g = 0; g < this->groups_.size(); ++g) {
        SGDOptions o = this->groups_[g].options;
        for (auto [key, field] :
             {std::pair{"lr", &o.lr}, std::pair{"momentum", &o.momentum},
              std::pair{"dampening", &o.dampening}, std::pair{"weight_decay", &o.weight_decay}})
          if (const auto* e = source.take(this->group_key(g, key))) source.read(*e, field, 1);
        validate(o, g);
        if (apply) this->groups_[g].options = o;
      }
      for (auto& group : this->groups_)
        for (std::size_t i = 0; i < group.params.size(); ++i) {
          const auto& p = group.params[i];
          auto& slot = group.slots[i];
          const auto* e = source.take(p.name() + ".momentum_buffer");
          if (!e) {
            if (apply) slot.has_buffer = false;
            continue;
          }
          source.check(*e, dtype_of_v<T>, p.size());
          if (!apply) continue;
          if (slot.momentum_buffer.size() == 0)
            slot.momentum_buffer.resize(static_cast<std::size_t>(p.size()));
          this->read_tensor(source, *e, p, slot.momentum_buffer.data());
          slot.has_buffer = true;
        }
      source.check_all_used();
    }
  }

 private:
  static void validate(const SGDOptions& o, std::size_t g) {
    const auto where = [g] { return "SGD (parameter group " + std::to_string(g) + "): "; };
    if (!(o.lr >= 0)) throw usage_error(where() + "invalid learning rate " + std::to_string(o.lr));
    if (!(o.momentum >= 0))
      throw usage_error(where() + "invalid momentum " + std::to_string(o.momentum));
    if (!(o.weight_decay >= 0))
      throw usage_error(where() + "invalid weight_decay " + std::to_string(o.weight_decay));
    if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
      throw usage_error(where() + "Nesterov momentum requires a momentum and zero dampening");
  }

  SGDOptions defaults_;
};

/// `tn::SGD sgd(model.parameters(), {...})` takes the scalar and the device from the parameters.
template <class T, class Device>
SGD(std::vector<ParameterRef<T, Device>>, SGDOptions) -> SGD<T, Device>;
template <class T, class Device>
SGD(std::vector<param_group<T, Device>>, SGDOptions) -> SGD<T, Device>;

}  // namespace typenet
