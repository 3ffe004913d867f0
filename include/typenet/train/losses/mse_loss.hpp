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
#include "typenet/train/losses/on_host.hpp"
#include "typenet/train/losses/reduction.hpp"

namespace typenet {

struct MSELossOptions {
  typenet::reduction reduction = typenet::reduction::mean;
};

class MSELoss : public detail::computed_on_host<MSELoss> {
 public:
  using detail::computed_on_host<MSELoss>::operator();
  static constexpr const char* name = "MSELoss";

  MSELoss() = default;
  explicit MSELoss(MSELossOptions options) : options_(options) {}

  /// The loss; d(loss)/d(prediction) goes into `grad`.
  template <class S, class T>
  double operator()(const Tensor<S, Cpu, T>& prediction, const Tensor<S, Cpu, T>& target,
                    Tensor<S, Cpu, T>& grad) const {
    return run(prediction, target, &grad);
  }
  /// The loss alone (evaluation).
  template <class S, class T>
  double operator()(const Tensor<S, Cpu, T>& prediction, const Tensor<S, Cpu, T>& target) const {
    return run<S, T>(prediction, target, nullptr);
  }

  const MSELossOptions& options() const noexcept { return options_; }

 private:
  template <class S, class T>
  double run(const Tensor<S, Cpu, T>& prediction, const Tensor<S, Cpu, T>& target,
             Tensor<S, Cpu, T>* grad) const {
    return detail::pointwise_loss(name, options_.reduction, prediction, target, grad, [](double d) {
      return detail::loss_and_derivative{d * d, 2 * d};
    });
  }

  MSELossOptions options_;
};

/// mean((prediction - target)^2), PyTorch's nn.MSELoss(): MSELoss{}(prediction, target, grad).
template <class S, class T>
double mse_loss(const Tensor<S, Cpu, T>& prediction, const Tensor<S, Cpu, T>& target,
                Tensor<S, Cpu, T>& grad) {
  return MSELoss{}(prediction, target, grad);
}

}  // namespace typenet
