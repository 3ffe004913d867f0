// typenet/train/lr_scheduler.hpp — learning-rate schedules: StepLR, CosineAnnealingLR, OneCycleLR.
//
// Match torch.optim.lr_scheduler (PyTorch 1.13) value for value: each
// scheduler sets the lr of every parameter group of an SGD, Adam or AdamW
// (and OneCycleLR also SGD's momentum or Adam's betas[0]). As in PyTorch,
// building a scheduler performs its first step (epoch 0), and step() is
// called after optimizer.step():
//
//   tn::SGD<float> opt(model.parameters(), {.lr = 0.1, .momentum = 0.9});
//   tn::OneCycleLR sched(opt, {.max_lr = 0.1, .total_steps = epochs * batches});
//   for (...) { ...; opt.step(); sched.step(); }
//
// Guarantees: the same formulas in the same order as PyTorch, in double, so
// the lrs are PyTorch's to the last bit or nearly (CosineAnnealingLR uses
// PyTorch's recursive form, which reads the group's current lr); step() does
// not allocate; last_lr() is every group's lr after the last step. The
// scheduler keeps a reference to the optimizer, which must outlive it.
// state() / load_state() name the scheduler's own state ("last_epoch",
// "base_lrs"); the lrs themselves are part of the optimizer's state.
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include "typenet/core/errors.hpp"
#include "typenet/nn/state.hpp"
#include "typenet/train/param_groups.hpp"

namespace typenet {

/// One value for every parameter group (`0.1`) or one per group (`{1e-4, 1e-3}`).
struct per_group {
  std::vector<double> values;
  per_group(double v) : values{v} {}  // NOLINT: implicit by design
  per_group(std::initializer_list<double> v) : values(v) {}
  per_group(std::vector<double> v) : values(std::move(v)) {}
};

struct StepLROptions {
  std::int64_t step_size = 0;  ///< required: decay every step_size steps
  double gamma = 0.1;
};

struct CosineAnnealingLROptions {
  std::int64_t T_max = 0;  ///< required: half a period, in steps
  double eta_min = 0;
};

enum class anneal { cos, linear };

struct OneCycleLROptions {
  per_group max_lr = 0.0;        ///< required (> 0)
  std::int64_t total_steps = 0;  ///< required, or epochs and steps_per_epoch
  std::int64_t epochs = 0;
  std::int64_t steps_per_epoch = 0;
  double pct_start = 0.3;
  anneal anneal_strategy = anneal::cos;
  bool cycle_momentum = true;
  per_group base_momentum = 0.85;
  per_group max_momentum = 0.95;
  double div_factor = 25;
  double final_div_factor = 1e4;
  bool three_phase = false;
};

namespace detail {

/// What a scheduler needs of an optimizer: groups with a mutable lr.
template <class O>
concept scheduled_optimizer = requires(O& o, std::size_t g) {
  { o.group_count() } -> std::convertible_to<std::size_t>;
  { o.options(g).lr } -> std::convertible_to<double>;
};

/// SGD's momentum or Adam's beta1: what OneCycleLR cycles.
template <class Options>
double& momentum_of(Options& o) {
  if constexpr (requires { o.momentum; })
    return o.momentum;
  else
    return o.betas[0];
}

template <class Optimizer>
class scheduler_base {
 public:
  /// Every group's lr after the last step (PyTorch's get_last_lr()).
  const std::vector<double>& last_lr() const noexcept { return last_lr_; }
  /// Steps taken; 0 right after construction (which performs the first).
  std::int64_t last_epoch() const noexcept { return last_epoch_; }
  /// The lrs the schedule starts from, one per group.
  const std::vector<double>& base_lrs() const noexcept { return base_lrs_; }

  /// "last_epoch" (int64) and "base_lrs" (float64, one per group), writable.
  std::vector<StateRef> state() {
    return {{"last_epoch", {}, dtype::i64, &last_epoch_, 1, false, true},
            {"base_lrs",
             {static_cast<int>(base_lrs_.size())},
             dtype::f64,
             base_lrs_.data(),
             static_cast<std::int64_t>(base_lrs_.size()),
             false,
             true}};
  }
  /// Restores what state() listed; last_lr() is read from the optimizer
  /// (restore the optimizer first). Missing entries keep their values.
  void load_state(std::span<const StateRef> entries) {
    state_source source(entries, name_);
    std::int64_t epoch = last_epoch_;
    std::vector<double> base = base_lrs_;
    if (const auto* e = source.take("last_epoch")) source.read(*e, epoch);
    if (const auto* e = source.take("base_lrs"))
      source.read(*e, base.data(), static_cast<std::int64_t>(base.size()));
    source.check_all_used();
    last_epoch_ = epoch;
    base_lrs_ = base;
    record();
  }

 protected:
  scheduler_base(Optimizer& optimizer, const char* name)
      : opt_(optimizer),
        name_(name),
        base_lrs_(optimizer.group_count()),
        last_lr_(optimizer.group_count()) {
    for (std::size_t g = 0; g < base_lrs_.size(); ++g) base_lrs_[g] = opt_.options(g).lr;
  }

  void record() {
    for (std::size_t g = 0; g < last_lr_.size(); ++g) last_lr_[g] = opt_.options(g).lr;
  }

  Optimizer& opt_;
  const char* name_;
  std::vector<double> base_lrs_;
  std::vector<double> last_lr_;
  std::int64_t last_epoch_ = -1;
};

}  // namespace detail

/// torch.optim.lr_scheduler.StepLR: lr *= gamma every step_size steps.
template <detail::scheduled_optimizer Optimizer>
class StepLR : public detail::scheduler_base<Optimizer> {
 public:
  StepLR(Optimizer& optimizer, StepLROptions options)
      : detail::scheduler_base<Optimizer>(optimizer, "StepLR"), options_(options) {
    if (options.step_size <= 0)
      throw usage_error("StepLR: step_size must be positive, got " +
                        std::to_string(options.step_size));
    if (!(options.gamma >= 0))
      throw usage_error("StepLR: gamma must be non-negative, got " + std::to_string(options.gamma));
    step();
  }

  void step() {
    const std::int64_t e = ++this->last_epoch_;
    if (e != 0 && e % options_.step_size == 0)
      for (std::size_t g = 0; g < this->opt_.group_count(); ++g)
        this->opt_.options(g).lr = this->opt_.options(g).lr * options_.gamma;
    this->record();
  }

  const StepLROptions& options() const noexcept { return options_; }

 private:
  StepLROptions options_;
};

/// torch.optim.lr_scheduler.CosineAnnealingLR, in PyTorch's recursive form
/// (periodic: after T_max steps the lr rises again towards base_lr).
template <detail::scheduled_optimizer Optimizer>
class CosineAnnealingLR : public detail::scheduler_base<Optimizer> {
 public:
  CosineAnnealingLR(Optimizer& optimizer, CosineAnnealingLROptions options)
      : detail::scheduler_base<Optimizer>(optimizer, "CosineAnnealingLR"), options_(options) {
    if (options.T_max <= 0)
      throw usage_error("CosineAnnealingLR: T_max must be positive, got " +
                        std::to_string(options.T_max));
    step();
  }

  void step() {
    constexpr double pi = std::numbers::pi;
    const std::int64_t e = ++this->last_epoch_;
    const double t_max = static_cast<double>(options_.T_max);
    const double eta_min = options_.eta_min;
    if (e != 0) {
      for (std::size_t g = 0; g < this->opt_.group_count(); ++g) {
        double& lr = this->opt_.options(g).lr;
        if ((e - 1 - options_.T_max) % (2 * options_.T_max) == 0) {
          lr = lr + (this->base_lrs_[g] - eta_min) * (1 - std::cos(pi / t_max)) / 2;
        } else {
          const double ratio = (1 + std::cos(pi * static_cast<double>(e) / t_max)) /
                               (1 + std::cos(pi * static_cast<double>(e - 1) / t_max));
          lr = ratio * (lr - eta_min) + eta_min;
        }
      }
    }
    this->record();
  }

  const CosineAnnealingLROptions& options() const noexcept { return options_; }

 private:
  CosineAnnealingLROptions options_;
};

/// torch.optim.lr_scheduler.OneCycleLR (fast.ai's fit_one_cycle): the lr
/// rises from max_lr / div_factor to max_lr over pct_start of total_steps,
/// then falls to max_lr / div_factor / final_div_factor, while the momentum
/// (SGD's momentum, Adam's betas[0]) moves the opposite way between
/// max_momentum and base_momentum. step() may be called total_steps times.
template <detail::scheduled_optimizer Optimizer>
class OneCycleLR : public detail::scheduler_base<Optimizer> {
 public:
  OneCycleLR(Optimizer& optimizer, OneCycleLROptions options)
      : detail::scheduler_base<Optimizer>(optimizer, "OneCycleLR"), options_(std::move(options)) {
    const auto& o = options_;
    const std::size_t groups = optimizer.group_count();
    total_steps_ = o.total_steps;
    if (total_steps_ == 0 && (o.epochs != 0 || o.steps_per_epoch != 0)) {
      if (o.epochs <= 0 || o.steps_per_epoch <= 0)
        throw usage_error("OneCycleLR: epochs and steps_per_epoch must both be positive, got " +
                          std::to_string(o.epochs) + " and " + std::to_string(o.steps_per_epoch));
      total_steps_ = o.epochs * o.steps_per_epoch;
    }
    if (total_steps_ <= 0)
      throw usage_error(
          "OneCycleLR: total_steps must be positive (or give epochs and "
          "steps_per_epoch), got " +
          std::to_string(o.total_steps));
    if (!(o.pct_start >= 0 && o.pct_start <= 1))
      throw usage_error("OneCycleLR: pct_start must be in [0, 1], got " +
                        std::to_string(o.pct_start));
    if (!(o.div_factor > 0) || !(o.final_div_factor > 0))
      throw usage_error("OneCycleLR: div_factor and final_div_factor must be positive");
    const auto max_lr = values(o.max_lr, "max_lr", groups);
    const auto base_momentum = values(o.base_momentum, "base_momentum", groups);
    const auto max_momentum = values(o.max_momentum, "max_momentum", groups);
    for (std::size_t g = 0; g < groups; ++g)
      if (!(max_lr[g] > 0))
        throw usage_error("OneCycleLR: max_lr must be positive, got " + std::to_string(max_lr[g]) +
                          (groups > 1 ? " for parameter group " + std::to_string(g) : ""));

    const double total = static_cast<double>(total_steps_);
    if (o.three_phase)
      phases_ = {{o.pct_start * total - 1, initial_lr, peak_lr, high_momentum, low_momentum},
                 {2 * o.pct_start * total - 2, peak_lr, initial_lr, low_momentum, high_momentum},
                 {total - 1, initial_lr, final_lr, high_momentum, high_momentum}};
    else
      phases_ = {{o.pct_start * total - 1, initial_lr, peak_lr, high_momentum, low_momentum},
                 {total - 1, peak_lr, final_lr, low_momentum, high_momentum}};

    levels_.resize(groups);
    for (std::size_t g = 0; g < groups; ++g) {
      auto& l = levels_[g];
      l.lr[initial_lr] = max_lr[g] / o.div_factor;
      l.lr[peak_lr] = max_lr[g];
      l.lr[final_lr] = l.lr[initial_lr] / o.final_div_factor;
      l.momentum[high_momentum] = max_momentum[g];
      l.momentum[low_momentum] = base_momentum[g];
      this->base_lrs_[g] = l.lr[initial_lr];
      if (o.cycle_momentum) detail::momentum_of(optimizer.options(g)) = max_momentum[g];
    }
    if constexpr (requires { optimizer.allocate_state(); }) optimizer.allocate_state();
    step();
  }

  void step() {
    const std::int64_t n = this->last_epoch_ + 1;
    if (n > total_steps_)
      throw usage_error("OneCycleLR: tried to step " + std::to_string(n + 1) +
                        " times; total_steps is " + std::to_string(total_steps_));
    const double step_num = static_cast<double>(n);
    for (std::size_t g = 0; g < levels_.size(); ++g) {
      const auto& l = levels_[g];
      double start_step = 0;
      for (std::size_t i = 0; i < phases_.size(); ++i) {
        const phase& ph = phases_[i];
        if (step_num <= ph.end_step || i + 1 == phases_.size()) {
          if (ph.end_step == start_step)
            throw usage_error("OneCycleLR: phase " + std::to_string(i + 1) +
                              " of the schedule has no steps (pct_start " +
                              std::to_string(options_.pct_start) + ", total_steps " +
                              std::to_string(total_steps_) + ")");
          const double pct = (step_num - start_step) / (ph.end_step - start_step);
          this->opt_.options(g).lr = interpolate(l.lr[ph.start_lr], l.lr[ph.end_lr], pct);
          if (options_.cycle_momentum)
            detail::momentum_of(this->opt_.options(g)) =
                interpolate(l.momentum[ph.start_momentum], l.momentum[ph.end_momentum], pct);
          break;
        }
        start_step = ph.end_step;
      }
    }
    this->last_epoch_ = n;
    this->record();
  }

  std::int64_t total_steps() const noexcept { return total_steps_; }
  const OneCycleLROptions& options() const noexcept { return options_; }

 private:
  enum lr_level { initial_lr, peak_lr, final_lr };
  enum momentum_level { low_momentum, high_momentum };
  struct phase {
    double end_step;
    lr_level start_lr, end_lr;
    momentum_level start_momentum, end_momentum;
  };
  struct group_levels {
    double lr[3];
    double momentum[2];
  };

  static std::vector<double> values(const per_group& v, const char* what, std::size_t groups) {
    if (v.values.size() == 1) return std::vector<double>(groups, v.values[0]);
    if (v.values.size() != groups)
      throw usage_error("OneCycleLR: expected 1 or " + std::to_string(groups) + " values for " +
                        what + " (one per parameter group), got " +
                        std::to_string(v.values.size()));
    return v.values;
  }

  double interpolate(double start, double end, double pct) const {
    if (options_.anneal_strategy == anneal::cos) {
      const double cos_out = std::cos(std::numbers::pi * pct) + 1;
      return end + (start - end) / 2.0 * cos_out;
    }
    return (end - start) * pct + start;
  }

  OneCycleLROptions options_;
  std::int64_t total_steps_ = 0;
  std::vector<phase> phases_;
  std::vector<group_levels> levels_;
};

}  // namespace typenet
