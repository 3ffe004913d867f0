// typenet/train/losses/mse_loss.hpp — MSELoss: the squared error, PyTorch's nn.MSELoss.
//
//   tn::MSELoss loss;                                   // or ({.reduction = tn::reduction::sum})
//   double l = loss(prediction, target, grad);          // any Tensor<S>, same batch
//
// loss = reduce((prediction - target)^2) over every element of the batch,
// gradient 2 (prediction - target) / n for the mean (n elements), without the
// / n for the sum. Computed in double; grad is resized to the batch and
// written; shape_error when the batches differ (nothing written then);
// non_finite_loss when the loss is NaN or infinite. No allocation once grad
// has the capacity.
#pragma once

#include "typenet/core/tensor.hpp"
#include "typenet/train/losses/reduction.hpp"

namespace typenet {

struct MSELossOptions {
  typenet::reduction reduction = typenet::reduction::mean;
};

class MSELoss {
 public:
  static constexpr const char* name = "MSELoss";

  MSELoss() = default;
  explicit MSELoss(MSELossOptions options) : options_(options) {}

  /// The loss; d(loss)/d(prediction) goes into `grad`.
  template <class S, class D, class T>
  double operator()(const Tensor<S, D, T>& prediction, const Tensor<S, D, T>& target,
                    Tensor<S, D, T>& grad) const {
    return detail::pointwise_loss(name, options_.reduction, prediction, target, &grad,
                                  detail::squared_error{});
  }
  /// The loss alone (evaluation).
  template <class S, class D, class T>
  double operator()(const Tensor<S, D, T>& prediction, const Tensor<S, D, T>& target) const {
    return detail::pointwise_loss<S, D, T>(name, options_.reduction, prediction, target, nullptr,
                                           detail::squared_error{});
  }

  const MSELossOptions& options() const noexcept { return options_; }

 private:
  MSELossOptions options_;
};

/// mean((prediction - target)^2), PyTorch's nn.MSELoss(): MSELoss{}(prediction, target, grad).
template <class S, class D, class T>
double mse_loss(const Tensor<S, D, T>& prediction, const Tensor<S, D, T>& target,
                Tensor<S, D, T>& grad) {
  return MSELoss{}(prediction, target, grad);
}

}  // namespace typenet
