// typenet/train/adam.hpp — Adam and AdamW, optionally AMSGrad.
//
// Match torch.optim.Adam and torch.optim.AdamW (PyTorch 1.13, foreach=False)
// step for step:
//
//   tn::Adam<float> opt(model.parameters(), {.lr = 1e-3, .betas = {0.9, 0.999}});
//   tn::AdamW<float> opt(model.parameters(), {.lr = 1e-3});   // weight_decay 1e-2
//   tn::Adam<float> opt({tn::param_group{tn::exclude(params, "fc."), {.lr = 1e-5}},
//                        tn::param_group{tn::select(params, "fc.")}},
//                       {.lr = 1e-3});
//
// Adam's weight_decay is an L2 term added to the gradient; AdamW's is
// decoupled: the parameter is multiplied by 1 - lr * weight_decay before the
// update. Per parameter, with its own step count t:
//   m = beta1 m + (1 - beta1) g,  v = beta2 v + (1 - beta2) g^2,
//   v_max = max(v_max, v) (amsgrad),
//   p -= lr / (1 - beta1^t) * m / (sqrt(v or v_max) / sqrt(1 - beta2^t) + eps).
//
// Guarantees:
// - Frozen parameters (requires_grad false at a step) are left untouched,
//   with their state and step count, as PyTorch skips parameters without a
//   gradient; a parameter's state starts at its first trainable step.
// - step() does not allocate: the moments are allocated when the optimizer
//   is built, for the parameters that are trainable then (and max_exp_avg_sq
//   for amsgrad groups). A parameter unfrozen later, or a group switched to
//   amsgrad, gets them at its next step; allocate_state() does that ahead.
// - options(g) is group g's options, mutable between steps (schedulers set lr
//   and betas[0]); they are checked again at each step.
// - state() / load_state() expose the state as named entries for checkpoints
//   (docs/optimizers.md): "<param>.step", "<param>.exp_avg",
//   "<param>.exp_avg_sq", "<param>.max_exp_avg_sq" (PyTorch's names),
//   "param_groups.<g>.<option>" and "steps".
#pragma once

#include <array>
#include <cmath>
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

struct AdamOptions {
  double lr = 1e-3;
  std::array<double, 2> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;  ///< L2 penalty, added to the gradient
  bool amsgrad = false;
};

/// AdamW's options: AdamOptions with PyTorch's AdamW default weight decay.
struct AdamWOptions {
  double lr = 1e-3;
  std::array<double, 2> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;  ///< decoupled: p *= 1 - lr * weight_decay
  bool amsgrad = false;
};

namespace detail {

template <class T, class Device>
struct adam_slot {
  storage<T, Device> exp_avg, exp_avg_sq, max_exp_avg_sq;
  std::int64_t step = 0;        // 0: no state yet (PyTorch's empty state)
  bool max_is_current = false;  // max_exp_avg_sq holds a running maximum
};

template <class T, class Device, class Options, bool Decoupled>
class adam_optimizer : public optimizer_base<T, Device, Options, adam_slot<T, Device>> {
  using base = optimizer_base<T, Device, Options, adam_slot<T, Device>>;
  static constexpr const char* optimizer_name = Decoupled ? "AdamW" : "Adam";

 public:
  using typename base::parameter;

  /// One group: every parameter in `params` with `options`.
  adam_optimizer(std::vector<parameter> params, Options options)
      : base(optimizer_name), defaults_(options) {
    add_param_group({std::move(params), {}});
    this->require_parameters();
  }

  /// Several groups; what a group leaves unset comes from `defaults`.
  adam_optimizer(std::vector<param_group<T, Device>> groups, Options defaults)
      : base(optimizer_name), defaults_(defaults) {
    for (auto& g : groups) add_param_group(std::move(g));
    this->require_parameters();
  }

  /// Adds a group (e.g. layers unfrozen during training), like PyTorch's add_param_group.
  void add_param_group(param_group<T, Device> group) {
    const std::size_t g = this->groups_.size();
    const group_options& o = group.options;
    if (o.momentum || o.dampening || o.nesterov)
      throw usage_error(std::string(optimizer_name) + ": parameter group " + std::to_string(g) +
                        " sets " +
                        (o.momentum    ? "momentum"
                         : o.dampening ? "dampening"
                                       : "nesterov") +
                        ", which " + optimizer_name + " does not have (use betas)");
    Options resolved = defaults_;
    if (o.lr) resolved.lr = *o.lr;
    if (o.betas) resolved.betas = *o.betas;
    if (o.eps) resolved.eps = *o.eps;
    if (o.weight_decay) resolved.weight_decay = *o.weight_decay;
    if (o.amsgrad) resolved.amsgrad = *o.amsgrad;
    validate(resolved, g);
    this->append(std::move(group.params), resolved);
    allocate_state();
  }

  /// Allocates the moments that the current options and the parameters'
  /// requires_grad call for, so the next step() does not.
  void allocate_state() {
    for (auto& group : this->groups_)
      for (std::size_t i = 0; i < group.params.size(); ++i)
        if (group.params[i].requires_grad())
          allocate(group.slots[i], group.params[i], group.options);
  }

  void step() {
    for (std::size_t g = 0; g < this->groups_.size(); ++g) validate(this->groups_[g].options, g);
    for (auto& group : this->groups_) {
      const Options& o = group.options;
      for (std::size_t i = 0; i < group.params.size(); ++i) {
        const auto& p = group.params[i];
        if (!p.requires_grad()) continue;
        auto& slot = group.slots[i];
        allocate(slot, p, o);
        const auto n = p.size();
        if (slot.step == 0) {
          backend::fill_values(Device{}, backend::vector_view(slot.exp_avg.data(), n), T{0});
          backend::fill_values(Device{}, backend::vector_view(slot.exp_avg_sq.data(), n), T{0});
          slot.max_is_current = false;
        }
        if (o.amsgrad && !slot.max_is_current) {
          backend::fill_values(Device{}, backend::vector_view(slot.max_exp_avg_sq.data(), n), T{0});
          slot.max_is_current = true;
        }
        ++slot.step;
        // As PyTorch: Python floats, beta ** step with step a float.
        const double t = static_cast<double>(slot.step);
        const double bias_correction1 = 1 - std::pow(o.betas[0], t);
        const double bias_correction2 = 1 - std::pow(o.betas[1], t);
        adam_config c;
        c.lr = o.lr;
        c.beta1 = o.betas[0];
        c.beta2 = o.betas[1];
        c.eps = o.eps;
        c.weight_decay = o.weight_decay;
        c.amsgrad = o.amsgrad;
        c.decoupled_weight_decay = Decoupled;
        c.step_size = o.lr / bias_correction1;
        c.bias_correction2_sqrt = std::sqrt(bias_correction2);
        backend::adam_update(Device{}, c, backend::vector_view(p.value_data(), n),
                             backend::vector_view(p.grad_data(), n),
                             backend::vector_view(slot.exp_avg.data(), n),
                             backend::vector_view(slot.exp_avg_sq.data(), n),
                             o.amsgrad ? backend::vector_view(slot.max_exp_avg_sq.data(), n)
                                       : backend::view<T, 1>{});
      }
    }
    ++this->steps_;
  }

  /// The optimizer state as named entries pointing into it (writable):
  /// "steps" (int64), "param_groups.<g>.{lr, betas, eps, weight_decay}"
  /// (float64; betas has 2 elements) and, for each parameter stepped at
  /// least once (PyTorch's state), "<param>.step" (int64), "<param>.exp_avg",
  /// "<param>.exp_avg_sq" and, for amsgrad, "<param>.max_exp_avg_sq".
  /// Valid until the next add_param_group.
  std::vector<StateRef> state() {
    this->require_unique_names("state");
    std::vector<StateRef> out;
    out.push_back(this->counter_entry("steps", &this->steps_));
    for (std::size_t g = 0; g < this->groups_.size(); ++g) {
      auto& o = this->groups_[g].options;
      out.push_back(this->value_entry(this->group_key(g, "lr"), &o.lr));
      out.push_back(this->value_entry(this->group_key(g, "betas"), o.betas.data(), 2));
      out.push_back(this->value_entry(this->group_key(g, "eps"), &o.eps));
      out.push_back(this->value_entry(this->group_key(g, "weight_decay"), &o.weight_decay));
    }
    for (auto& group : this->groups_)
      for (std::size_t i = 0; i < group.params.size(); ++i) {
        const auto& p = group.params[i];
        auto& slot = group.slots[i];
        if (slot.step == 0) continue;
        out.push_back(this->counter_entry(p.name() + ".step", &slot.step));
        out.push_back(this->tensor_entry(p.name() + ".exp_avg", p, slot.exp_avg.data()));
        out.push_back(this->tensor_entry(p.name() + ".exp_avg_sq", p, slot.exp_avg_sq.data()));
        if (slot.max_is_current)
          out.push_back(
              this->tensor_entry(p.name() + ".max_exp_avg_sq", p, slot.max_exp_avg_sq.data()));
      }
    return out;
  }

  /// Restores what state() listed (e.g. read back from a checkpoint into
  /// host memory). A parameter without a "<param>.step" entry gets no state
  /// (its next step is its first); missing options and "steps" keep their
  /// values. Unknown names, a step without its moments, wrong sizes or
  /// element types throw usage_error, before anything is changed.
  void load_state(std::span<const StateRef> entries) {
    this->require_unique_names("load_state");
    for (int pass = 0; pass < 2; ++pass) {
      const bool apply = pass == 1;
      state_source source(entries, optimizer_name);
      if (const auto* e = source.take("steps")) {
        std::int64_t v = 0;
        source.read(*e, v);
        if (apply) this->steps_ = v;
      }
      for (std::size_t g = 0; g < this->groups_.size(); ++g) {
        Options o = this->groups_[g].options;
        if (const auto* e = source.take(this->group_key(g, "lr"))) source.read(*e, &o.lr, 1);
        if (const auto* e = source.take(this->group_key(g, "betas")))
          source.read(*e, o.betas.data(), 2);
        if (const auto* e = source.take(this->group_key(g, "eps"))) source.read(*e, &o.eps, 1);
        if (const auto* e = source.take(this->group_key(g, "weight_decay")))
          source.read(*e, &o.weight_decay, 1);
        validate(o, g);
        if (apply) this->groups_[g].options = o;
      }
      for (auto& group : this->groups_)
        for (std::size_t i = 0; i < group.params.size(); ++i)
          load_slot(source, group.params[i], group.slots[i], group.options, apply);
      source.check_all_used();
    }
  }

 private:
  static void allocate(adam_slot<T, Device>& slot, const parameter& p, const Options& o) {
    const auto n = static_cast<std::size_t>(p.size());
    if (slot.exp_avg.size() == 0) slot.exp_avg.resize(n);
    if (slot.exp_avg_sq.size() == 0) slot.exp_avg_sq.resize(n);
    if (o.amsgrad && slot.max_exp_avg_sq.size() == 0) slot.max_exp_avg_sq.resize(n);
  }

  void load_slot(state_source& source, const parameter& p, adam_slot<T, Device>& slot,
                 const Options& o, bool apply) {
    const auto* step = source.take(p.name() + ".step");
    const auto* m = source.take(p.name() + ".exp_avg");
    const auto* v = source.take(p.name() + ".exp_avg_sq");
    const auto* vmax = source.take(p.name() + ".max_exp_avg_sq");
    std::int64_t t = 0;
    if (step) source.read(*step, t);
    if (t == 0) {
      for (const auto* e : {m, v, vmax})
        if (e) source.fail(*e, "is given, but '" + p.name() + ".step' is " + (step ? "0" : "not"));
      if (apply) slot.step = 0;
      return;
    }
    if (!m || !v)
      throw usage_error(std::string(optimizer_name) + "::load_state: '" + p.name() +
                        ".step' is given without '" + p.name() +
                        (m ? ".exp_avg_sq'" : ".exp_avg'"));
    if (o.amsgrad && !vmax)
      throw usage_error(std::string(optimizer_name) + "::load_state: '" + p.name() +
                        ".max_exp_avg_sq' is missing, and its group uses amsgrad");
    for (const auto* e : {m, v, vmax})
      if (e) source.check(*e, dtype_of_v<T>, p.size());
    if (!apply) return;
    allocate(slot, p, o);
    this->read_tensor(source, *m, p, slot.exp_avg.data());
    this->read_tensor(source, *v, p, slot.exp_avg_sq.data());
    slot.max_is_current = vmax != nullptr;
    if (vmax) {
      if (slot.max_exp_avg_sq.size() == 0)
        slot.max_exp_avg_sq.resize(static_cast<std::size_t>(p.size()));
      this->read_tensor(source, *vmax, p, slot.max_exp_avg_sq.data());
    }
    slot.step = t;
  }

  static void validate(const Options& o, std::size_t g) {
    const auto where = [g] {
      return std::string(optimizer_name) + " (parameter group " + std::to_string(g) + "): ";
    };
    if (!(o.lr >= 0)) throw usage_error(where() + "invalid learning rate " + std::to_string(o.lr));
    if (!(o.eps >= 0)) throw usage_error(where() + "invalid eps " + std::to_string(o.eps));
    for (int k = 0; k < 2; ++k)
      if (!(o.betas[k] >= 0 && o.betas[k] < 1))
        throw usage_error(where() + "betas[" + std::to_string(k) + "] must be in [0, 1), got " +
                          std::to_string(o.betas[k]));
    if (!(o.weight_decay >= 0))
      throw usage_error(where() + "invalid weight_decay " + std::to_string(o.weight_decay));
  }

  Options defaults_;
};

}  // namespace detail

/// torch.optim.Adam: weight_decay is an L2 term added to the gradient.
template <class T = float, class Device = Cpu>
class Adam : public detail::adam_optimizer<T, Device, AdamOptions, false> {
 public:
  using detail::adam_optimizer<T, Device, AdamOptions, false>::adam_optimizer;
};

/// torch.optim.AdamW: decoupled weight decay, p *= 1 - lr * weight_decay.
template <class T = float, class Device = Cpu>
class AdamW : public detail::adam_optimizer<T, Device, AdamWOptions, true> {
 public:
  using detail::adam_optimizer<T, Device, AdamWOptions, true>::adam_optimizer;
};

// `tn::Adam adam(model.parameters(), {...})` takes the scalar and the device
// from the parameters (C++20 deduces nothing through inherited constructors).
template <class T, class Device>
Adam(std::vector<ParameterRef<T, Device>>, AdamOptions) -> Adam<T, Device>;
template <class T, class Device>
Adam(std::vector<param_group<T, Device>>, AdamOptions) -> Adam<T, Device>;
template <class T, class Device>
AdamW(std::vector<ParameterRef<T, Device>>, AdamWOptions) -> AdamW<T, Device>;
template <class T, class Device>
AdamW(std::vector<param_group<T, Device>>, AdamWOptions) -> AdamW<T, Device>;

}  // namespace typenet
