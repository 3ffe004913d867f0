// typenet/train/losses/cross_entropy_loss.hpp — CrossEntropyLoss: softmax
// cross-entropy against class labels, PyTorch 1.13's nn.CrossEntropyLoss.
//
//   tn::CrossEntropyLoss loss;                          // mean over the batch
//   double l = loss(logits, labels, grad);              // Tensor<Shape<C>>, one label per sample
//
//   tn::CrossEntropyLoss seg({.weight = class_weights, .ignore_index = 255,
//                             .label_smoothing = 0.1});
//   double l = seg(logits, labels, grad);               // Tensor<Shape<C, H, W>>, N*H*W labels
//
// The logits are Tensor<Shape<C, D...>>: C classes, then any spatial
// dimensions (none for classification, H x W for segmentation), as PyTorch's
// (N, C, d1, ..., dK) input. `labels` holds one class index per sample and
// position, in (N, d1, ..., dK) order, as PyTorch's target. With
// log p = log_softmax over the classes, w the class weights (1 without
// `weight`), eps the label smoothing and y a position's label, that position
// contributes
//
//   (1 - eps) * w[y] * (-log p[y])  +  (eps / C) * sum_c w[c] * (-log p[c])
//
// and nothing when y == ignore_index. reduction::sum adds the contributions;
// reduction::mean divides the sum by the sum of w[y] over the positions not
// ignored (the number of them without weights), for both terms, exactly as
// PyTorch does. When every position is ignored that mean is 0/0: PyTorch
// returns NaN, so this throws non_finite_loss (reduction::sum gives 0).
//
// Checked, before anything is written: the number of labels (shape_error),
// the size of `weight` (C or empty; shape_error), every label in [0, C) or
// equal to ignore_index (usage_error, naming the sample and position).
// label_smoothing outside [0, 1] is a usage_error at construction. Computed in
// double, stably (log-sum-exp from the largest logit); grad is resized to the
// batch and written (0 at ignored positions); non_finite_loss when the loss
// is NaN or infinite. No allocation once grad has the capacity.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "typenet/backend/interface.hpp"
#include "typenet/backend/shared/loss_math.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/core/shape.hpp"
#include "typenet/core/tensor.hpp"
#include "typenet/train/losses/reduction.hpp"

namespace typenet {

/// PyTorch's nn.CrossEntropyLoss arguments, in PyTorch's order.
struct CrossEntropyLossOptions {
  /// One weight per class, or empty for all 1.
  std::vector<float> weight{};  // {}: designated initializers may leave it out under -Wextra
  /// Positions with this label contribute nothing (PyTorch's default -100).
  int ignore_index = -100;
  typenet::reduction reduction = typenet::reduction::mean;
  /// eps in [0, 1]: the target is (1 - eps) one-hot + eps / C uniform.
  double label_smoothing = 0.0;
};

class CrossEntropyLoss {
 public:
  static constexpr const char* name = "CrossEntropyLoss";

  CrossEntropyLoss() = default;
  explicit CrossEntropyLoss(CrossEntropyLossOptions options) : options_(std::move(options)) {
    if (!(options_.label_smoothing >= 0 && options_.label_smoothing <= 1))
      throw usage_error("CrossEntropyLoss: label_smoothing must be in [0, 1], got " +
                        std::to_string(options_.label_smoothing));
  }

  /// The loss; d(loss)/d(logits) goes into `grad`.
  template <int C, int... D, class Device, class T>
  double operator()(const Tensor<Shape<C, D...>, Device, T>& logits, std::span<const int> labels,
                    Tensor<Shape<C, D...>, Device, T>& grad) const {
    check_labels(C, spatial_of(logits), logits.batch(), labels);
    grad.resize(logits.batch(), logits.extents());
    return run<C>(Device{}, logits.data(), labels, grad.data(), logits.batch());
  }
  /// The loss alone (evaluation).
  template <int C, int... D, class Device, class T>
  double operator()(const Tensor<Shape<C, D...>, Device, T>& logits,
                    std::span<const int> labels) const {
    check_labels(C, spatial_of(logits), logits.batch(), labels);
    return run<C>(Device{}, logits.data(), labels, static_cast<T*>(nullptr), logits.batch());
  }

  const CrossEntropyLossOptions& options() const noexcept { return options_; }

 private:
  /// The extents after the classes (static or dynamic): one label per position.
  template <class S, class Device, class T>
  static std::span<const int> spatial_of(const Tensor<S, Device, T>& logits) {
    return std::span<const int>(logits.extents()).subspan(1);
  }

  /// Not a template: one copy for every class count and shape.
  void check_labels(int classes, std::span<const int> spatial_dims, int batch,
                    std::span<const int> labels) const {
    std::int64_t positions = 1;
    for (const int d : spatial_dims) positions *= d;
    const std::int64_t want = std::int64_t{batch} * positions;
    if (static_cast<std::int64_t>(labels.size()) != want) {
      std::string msg = std::string(name) + ": " + std::to_string(labels.size()) +
                        " labels for a batch of " + std::to_string(batch);
      if (spatial_dims.empty())
        msg += " (one per sample)";
      else
        msg += " x " + spatial_string(spatial_dims) + " = " + std::to_string(want) +
               " positions (one per sample and position)";
      throw shape_error(msg);
    }
    if (!options_.weight.empty() && options_.weight.size() != static_cast<std::size_t>(classes))
      throw shape_error(std::string(name) + ": " + std::to_string(options_.weight.size()) +
                        " class weights for " + std::to_string(classes) + " classes");
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const int y = labels[i];
      if (y != options_.ignore_index && (y < 0 || y >= classes))
        throw usage_error(std::string(name) + ": label " + std::to_string(y) + " of " +
                          detail::sample_and_index(static_cast<std::int64_t>(i), spatial_dims) +
                          " is outside [0, " + std::to_string(classes) +
                          ") and is not ignore_index (" + std::to_string(options_.ignore_index) +
                          ")");
    }
  }

  /// "Shape<5, 7>".
  static std::string spatial_string(std::span<const int> dims) {
    std::string s = "Shape<";
    for (std::size_t d = 0; d < dims.size(); ++d) s += (d ? ", " : "") + std::to_string(dims[d]);
    return s + ">";
  }

  // Labels and sizes are checked (labels.size() = batch x positions). `g` may be null.
  template <int C, class Device, class T>
  double run(Device, const T* z, std::span<const int> labels, T* g, std::int64_t batch) const {
    const bool weighted = !options_.weight.empty();
    const float* w = options_.weight.data();
    double count = 0;  // the sum of w[y] over the positions not ignored
    for (const int y : labels)
      if (y != options_.ignore_index) count += weighted ? static_cast<double>(w[y]) : 1.0;
    double weight_sum = C;  // sum_c w[c]
    if (weighted) {
      weight_sum = 0;
      for (int c = 0; c < C; ++c) weight_sum += w[c];
    }
    const detail::cross_entropy_terms terms{
        .classes = C,
        .positions = batch > 0 ? static_cast<std::int64_t>(labels.size()) / batch : 1,
        .weight = weighted ? w : nullptr,
        .weight_sum = weight_sum,
        .smoothing = options_.label_smoothing,
        .ignore_index = options_.ignore_index,
        .norm = options_.reduction == reduction::mean ? count : 1.0};
    const std::array<std::int64_t, 3> extents{
        static_cast<std::int64_t>(labels.size()) / terms.positions, C, terms.positions};
    const double loss = backend::cross_entropy_sum(
                            Device{}, backend::contiguous_view(z, extents), labels, terms,
                            g ? backend::contiguous_view(g, extents) : backend::view<T, 3>{}) /
                        terms.norm;
    detail::check_finite(name, loss, options_.reduction, count,
                         "every label is ignore_index, or the weights of the labels sum to 0");
    return loss;
  }

  CrossEntropyLossOptions options_;
};

/// mean over the batch of -log softmax(logits)[label], PyTorch's
/// nn.CrossEntropyLoss(): CrossEntropyLoss{}(logits, labels, grad).
template <int Classes, class Device, class T>
double cross_entropy_loss(const Tensor<Shape<Classes>, Device, T>& logits,
                          std::span<const int> labels, Tensor<Shape<Classes>, Device, T>& grad) {
  return CrossEntropyLoss{}(logits, labels, grad);
}

}  // namespace typenet
