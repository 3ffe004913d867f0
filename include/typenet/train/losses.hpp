// typenet/train/losses.hpp — MSELoss and CrossEntropyLoss (mean reduction).
//
// Each returns the loss and writes d(loss)/d(prediction) into `grad`, ready
// for Model::backward. A non-finite loss throws: training on NaN loses the
// model silently, so the caller hears about it at the step it happens.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string>

#include "typenet/core/errors.hpp"
#include "typenet/core/tensor.hpp"

namespace typenet {

/// A loss became NaN or infinite.
struct non_finite_loss : error {
  using error::error;
};

/// mean((prediction - target)^2), PyTorch's nn.MSELoss().
template <class S, class T>
double mse_loss(const Tensor<S, Cpu, T>& prediction, const Tensor<S, Cpu, T>& target,
                Tensor<S, Cpu, T>& grad) {
  if (prediction.batch() != target.batch())
    throw shape_error("mse_loss: prediction batch " + std::to_string(prediction.batch()) +
                      " but target batch " + std::to_string(target.batch()));
  grad.resize(prediction.batch());
  const std::int64_t n = prediction.size();
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(prediction.data()[i]) - target.data()[i];
    sum += d * d;
    grad.data()[i] = static_cast<T>(2 * d / static_cast<double>(n));
  }
  const double loss = sum / static_cast<double>(n);
  if (!std::isfinite(loss)) throw non_finite_loss("mse_loss: the loss is not finite");
  return loss;
}

/// mean over the batch of -log softmax(logits)[label], PyTorch's nn.CrossEntropyLoss().
template <int Classes, class T>
double cross_entropy_loss(const Tensor<Shape<Classes>, Cpu, T>& logits, std::span<const int> labels,
                          Tensor<Shape<Classes>, Cpu, T>& grad) {
  const int batch = logits.batch();
  if (static_cast<int>(labels.size()) != batch)
    throw shape_error("cross_entropy_loss: " + std::to_string(labels.size()) +
                      " labels for a batch of " + std::to_string(batch));
  grad.resize(batch);
  double total = 0;
  for (int n = 0; n < batch; ++n) {
    const int label = labels[static_cast<std::size_t>(n)];
    if (label < 0 || label >= Classes)
      throw shape_error("cross_entropy_loss: label " + std::to_string(label) + " of sample " +
                        std::to_string(n) + " is outside [0, " + std::to_string(Classes) + ")");
    const T* z = logits.data() + std::int64_t{n} * Classes;
    T* g = grad.data() + std::int64_t{n} * Classes;
    double top = z[0];
    for (int c = 1; c < Classes; ++c) top = std::max<double>(top, z[c]);
    double sum = 0;
    for (int c = 0; c < Classes; ++c) sum += std::exp(z[c] - top);
    const double log_sum = std::log(sum) + top;
    total += log_sum - z[label];
    for (int c = 0; c < Classes; ++c)
      g[c] = static_cast<T>((std::exp(z[c] - log_sum) - (c == label ? 1.0 : 0.0)) / batch);
  }
  const double loss = total / batch;
  if (!std::isfinite(loss)) throw non_finite_loss("cross_entropy_loss: the loss is not finite");
  return loss;
}

}  // namespace typenet
