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

#include <cmath>

#include "typenet/core/tensor.hpp"
#include "typenet/train/losses/on_host.hpp"
#include "typenet/train/losses/reduction.hpp"

namespace typenet {

struct L1LossOptions {
  typenet::reduction reduction = typenet::reduction::mean;
};

namespace detail {
/// sign(d): -1, 0 or 1 (0 for d == 0, NaN for NaN), PyTorch's torch.sign.
inline double sign(double d) noexcept {
  return d > 0 ? 1.0 : d < 0 ? -1.0 : d;
}

inline loss_and_derivative l1(double d) noexcept {
  return {std::abs(d), sign(d)};
}
}  // namespace detail

class L1Loss : public detail::computed_on_host<L1Loss> {
 public:
  using detail::computed_on_host<L1Loss>::operator();
  static constexpr const char* name = "L1Loss";

  L1Loss() = default;
  explicit L1Loss(L1LossOptions options) : options_(options) {}

  /// The loss; d(loss)/d(prediction) goes into `grad`.
  template <class S, class T>
  double operator()(const Tensor<S, Cpu, T>& prediction, const Tensor<S, Cpu, T>& target,
                    Tensor<S, Cpu, T>& grad) const {
    return detail::pointwise_loss(name, options_.reduction, prediction, target, &grad, detail::l1);
  }
  /// The loss alone (evaluation).
  template <class S, class T>
  double operator()(const Tensor<S, Cpu, T>& prediction, const Tensor<S, Cpu, T>& target) const {
    return detail::pointwise_loss<S, T>(name, options_.reduction, prediction, target, nullptr,
                                        detail::l1);
  }

  const L1LossOptions& options() const noexcept { return options_; }

 private:
  L1LossOptions options_;
};

}  // namespace typenet
