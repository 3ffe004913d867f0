// typenet/train/losses/bce_with_logits_loss.hpp — BCEWithLogitsLoss: a
// sigmoid and binary cross-entropy in one, numerically stable, PyTorch
// 1.13's nn.BCEWithLogitsLoss; for multi-label targets such as CelebA's 40
// attributes.
//
//   tn::BCEWithLogitsLoss loss({.pos_weight = negatives_over_positives});
//   double l = loss(logits, targets, grad);             // Tensor<Shape<40>> both, same batch
//
// For a logit x and a target t in [0, 1], each element contributes
//
//   w * [ (1 - t) x + (1 + (pw - 1) t) log(1 + exp(-x)) ]
//     = -w * [ pw t log sigmoid(x) + (1 - t) log(1 - sigmoid(x)) ],
//
// gradient w * [ (1 + (pw - 1) t) sigmoid(x) - pw t ], with log(1 + exp(-x))
// = max(-x, 0) + log1p(exp(-|x|)), so no logit overflows. w is `weight`, pw
// `pos_weight` (1 when empty). Both broadcast over the batch the way PyTorch
// broadcasts a tensor against (N, S...): each holds either one value per
// element of a sample (S::size values, PyTorch shape S) or one per index of
// the last dimension of S (PyTorch's vector: one per class of Shape<K>).
// reduction::mean divides by the number of elements, whatever the weights.
//
// Checked, before anything is written: the batches agree, the sizes of
// weight and pos_weight (shape_error), every target in [0, 1] (usage_error;
// PyTorch does not check, but a -1/1 target, such as CelebA's raw attribute
// file holds, trains silently wrong). A NaN target, like a NaN logit, makes
// the loss NaN: non_finite_loss. Computed in double; grad is resized to the
// batch and written. No allocation once grad has the capacity.
#pragma once

#include <cstdint>
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

/// PyTorch's nn.BCEWithLogitsLoss arguments, in PyTorch's order.
struct BCEWithLogitsLossOptions {
  /// Per-element rescaling: S::size values, or one per index of S's last dimension; empty: 1.
  std::vector<float> weight{};  // {}: designated initializers may leave it out under -Wextra
  typenet::reduction reduction = typenet::reduction::mean;
  /// Weight of the positive term: as `weight`, usually one per class; empty: 1.
  std::vector<float> pos_weight{};
};

class BCEWithLogitsLoss {
 public:
  static constexpr const char* name = "BCEWithLogitsLoss";

  BCEWithLogitsLoss() = default;
  explicit BCEWithLogitsLoss(BCEWithLogitsLossOptions options) : options_(std::move(options)) {}

  /// The loss; d(loss)/d(logits) goes into `grad`. Its weights are per
  /// element of a sample, so the shape is static.
  template <StaticShape S, class D, class T>
  double operator()(const Tensor<S, D, T>& logits, const Tensor<S, D, T>& targets,
                    Tensor<S, D, T>& grad) const {
    check(logits, targets);
    grad.resize(logits.batch(), logits.extents());
    return run(logits, targets, grad.data());
  }
  /// The loss alone (evaluation).
  template <StaticShape S, class D, class T>
  double operator()(const Tensor<S, D, T>& logits, const Tensor<S, D, T>& targets) const {
    check(logits, targets);
    return run(logits, targets, static_cast<T*>(nullptr));
  }

  const BCEWithLogitsLossOptions& options() const noexcept { return options_; }

 private:
  template <ShapeType S>
  static void check_broadcast(const char* what, const std::vector<float>& v) {
    constexpr int last = S::dims[S::rank - 1];
    if (!v.empty() && v.size() != static_cast<std::size_t>(S::size) &&
        v.size() != static_cast<std::size_t>(last))
      throw shape_error(std::string(name) + ": " + what + " has " + std::to_string(v.size()) +
                        " values; a sample of " + S::str() + " needs " + std::to_string(S::size) +
                        " (one per element) or " + std::to_string(last) +
                        " (one per index of the last dimension)");
  }

  template <ShapeType S, class D, class T>
  void check(const Tensor<S, D, T>& logits, const Tensor<S, D, T>& targets) const {
    detail::check_same_batch(name, logits, targets);
    check_broadcast<S>("weight", options_.weight);
    check_broadcast<S>("pos_weight", options_.pos_weight);
    T value{};
    const std::int64_t i =
        backend::first_outside_unit_interval(D{}, backend::flat_view(targets), value);
    if (i >= 0)  // NaN passes: it makes the loss NaN
      throw usage_error(std::string(name) + ": target " + std::to_string(value) + " of " +
                        detail::sample_and_index(i, S::dims) +
                        " is outside [0, 1] (-1/1 attributes, as in CelebA's file, map to "
                        "0/1 by (a + 1) / 2)");
  }

  // Sizes and targets are checked. `g` may be null (the loss alone).
  template <ShapeType S, class D, class T>
  double run(const Tensor<S, D, T>& logits, const Tensor<S, D, T>& targets, T* g) const {
    const std::int64_t n = logits.size();
    const auto& w = options_.weight;
    const auto& pw = options_.pos_weight;
    // Either size divides a sample and indexes the fastest dimensions, so the
    // value of element i of the batch is v[i % size].
    const detail::binary_cross_entropy_terms terms{
        .weight = w.empty() ? nullptr : w.data(),
        .weight_size = static_cast<std::int64_t>(w.size()),
        .pos_weight = pw.empty() ? nullptr : pw.data(),
        .pos_weight_size = static_cast<std::int64_t>(pw.size()),
        .norm = options_.reduction == reduction::mean ? static_cast<double>(n) : 1.0};
    const double loss = backend::binary_cross_entropy_sum(D{}, backend::flat_view(logits),
                                                          backend::flat_view(targets), terms,
                                                          backend::vector_view(g, g ? n : 0)) /
                        terms.norm;
    detail::check_finite(name, loss, options_.reduction, static_cast<double>(n));
    return loss;
  }

  BCEWithLogitsLossOptions options_;
};

}  // namespace typenet
