// typenet/train/losses/smooth_l1_loss.hpp — SmoothL1Loss: quadratic near 0,
// linear beyond beta, PyTorch's nn.SmoothL1Loss.
//
//   tn::SmoothL1Loss loss({.beta = 0.5});               // default beta 1, reduction mean
//   double l = loss(prediction, target, grad);          // any Tensor<S>, same batch
//
// With d = prediction - target, each element contributes
//   0.5 d^2 / beta      where |d| < beta,     gradient d / beta,
//   |d| - 0.5 beta      elsewhere,            gradient sign(d),
// reduced by mean (over every element) or sum. beta == 0 is L1Loss, including
// its subgradient 0 at d == 0 (PyTorch 1.13's own kernel gives -1 or +1 there,
// depending on vectorisation); a negative beta is a usage_error at
// construction. Computed in double; grad is resized to the batch and written;
// shape_error when the batches differ (nothing written then); non_finite_loss
// when the loss is NaN or infinite. No allocation once grad has the capacity.
#pragma once

#include <cmath>
#include <string>

#include "typenet/core/errors.hpp"
#include "typenet/core/tensor.hpp"
#include "typenet/train/losses/reduction.hpp"

namespace typenet {

struct SmoothL1LossOptions {
  typenet::reduction reduction = typenet::reduction::mean;
  double beta = 1.0;
};

class SmoothL1Loss {
 public:
  static constexpr const char* name = "SmoothL1Loss";

  SmoothL1Loss() = default;
  explicit SmoothL1Loss(SmoothL1LossOptions options) : options_(options) {
    if (!(options.beta >= 0) || !std::isfinite(options.beta))
      throw usage_error("SmoothL1Loss: beta must be finite and >= 0, got " +
                        std::to_string(options.beta));
  }

  /// The loss; d(loss)/d(prediction) goes into `grad`.
  template <class S, class D, class T>
  double operator()(const Tensor<S, D, T>& prediction, const Tensor<S, D, T>& target,
                    Tensor<S, D, T>& grad) const {
    return run(prediction, target, &grad);
  }
  /// The loss alone (evaluation).
  template <class S, class D, class T>
  double operator()(const Tensor<S, D, T>& prediction, const Tensor<S, D, T>& target) const {
    return run<S, D, T>(prediction, target, nullptr);
  }

  const SmoothL1LossOptions& options() const noexcept { return options_; }

 private:
  template <class S, class D, class T>
  double run(const Tensor<S, D, T>& prediction, const Tensor<S, D, T>& target,
             Tensor<S, D, T>* grad) const {
    if (options_.beta == 0)
      return detail::pointwise_loss(name, options_.reduction, prediction, target, grad,
                                    detail::absolute_error{});
    return detail::pointwise_loss(name, options_.reduction, prediction, target, grad,
                                  detail::smooth_absolute_error{options_.beta});
  }

  SmoothL1LossOptions options_;
};

}  // namespace typenet
