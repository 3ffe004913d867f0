// typenet/train/losses/l1_loss.hpp — L1Loss: the absolute error, PyTorch's nn.L1Loss.
//
//   tn::L1Loss loss;                                    // or ({.reduction = tn::reduction::sum})
//   double l = loss(prediction, target, grad);          // any Tensor<S>, same batch
//
// loss = reduce(|prediction - target|) over every element of the batch,
// gradient sign(prediction - target) / n for the mean (n elements), without
// the / n for the sum; the subgradient at a difference of exactly 0 is 0, as
// PyTorch's. Computed in double; grad is resized to the batch and written;
// shape_error when the batches differ (nothing written then);
// non_finite_loss when the loss is NaN or infinite. No allocation once grad
// has the capacity.
#pragma once

#include "typenet/core/tensor.hpp"
#include "typenet/train/losses/reduction.hpp"

namespace typenet {

struct L1LossOptions {
  typenet::reduction reduction = typenet::reduction::mean;
};

class L1Loss {
 public:
  static constexpr const char* name = "L1Loss";

  L1Loss() = default;
  explicit L1Loss(L1LossOptions options) : options_(options) {}

  /// The loss; d(loss)/d(prediction) goes into `grad`.
  template <class S, class D, class T>
  double operator()(const Tensor<S, D, T>& prediction, const Tensor<S, D, T>& target,
                    Tensor<S, D, T>& grad) const {
    return detail::pointwise_loss(name, options_.reduction, prediction, target, &grad,
                                  detail::absolute_error{});
  }
  /// The loss alone (evaluation).
  template <class S, class D, class T>
  double operator()(const Tensor<S, D, T>& prediction, const Tensor<S, D, T>& target) const {
    return detail::pointwise_loss<S, D, T>(name, options_.reduction, prediction, target, nullptr,
                                           detail::absolute_error{});
  }

  const L1LossOptions& options() const noexcept { return options_; }

 private:
  L1LossOptions options_;
};

}  // namespace typenet
