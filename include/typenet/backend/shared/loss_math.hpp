// typenet/backend/shared/loss_math.hpp — the arithmetic of the losses, element by element.
//
// Written once, __host__ __device__, for both backends: the Cpu backend sums
// these terms in a loop, the Cuda backend in a kernel (backend/*/losses).
// Everything is in double, whatever the tensors' scalar type.
#pragma once

#include <cmath>
#include <cstdint>

#include "typenet/config.hpp"

namespace typenet::detail {

/// One element's loss and its derivative with respect to the prediction.
struct loss_and_derivative {
  double value;
  double derivative;
};

/// sign(d): -1, 0 or 1 (0 for d == 0, NaN for NaN), PyTorch's torch.sign.
TYPENET_HOST_DEVICE inline double sign(double d) noexcept {
  return d > 0 ? 1.0 : d < 0 ? -1.0 : d;
}

/// MSELoss's term of d = prediction - target.
struct squared_error {
  TYPENET_HOST_DEVICE loss_and_derivative operator()(double d) const noexcept {
    return {d * d, 2 * d};
  }
};

/// L1Loss's term (SmoothL1Loss's with beta = 0).
struct absolute_error {
  TYPENET_HOST_DEVICE loss_and_derivative operator()(double d) const noexcept {
    return {std::fabs(d), sign(d)};
  }
};

/// SmoothL1Loss's term for beta > 0: quadratic below beta, linear above.
struct smooth_absolute_error {
  double beta;
  TYPENET_HOST_DEVICE loss_and_derivative operator()(double d) const noexcept {
    const double a = std::fabs(d);
    return a < beta ? loss_and_derivative{0.5 * d * d / beta, d / beta}
                    : loss_and_derivative{a - 0.5 * beta, sign(d)};
  }
};

/// BCEWithLogitsLoss's settings: `weight` and `pos_weight` hold one value
/// per element of a sample or per index of its last dimension (element i of
/// a batch takes v[i % size]), or are null for 1.
struct binary_cross_entropy_terms {
  const float* weight;
  std::int64_t weight_size;
  const float* pos_weight;
  std::int64_t pos_weight_size;
  double norm;  // what reduction::mean divides by (1 for sum)

  /// The loss of element i, logit x and target y, and when g is not null its
  /// gradient at g[i]; see train/losses/bce_with_logits_loss.hpp.
  template <class T>
  TYPENET_HOST_DEVICE double operator()(std::int64_t i, double x, double y, T* g) const {
    const double e = std::exp(-std::fabs(x));
    const double softplus_neg = (-x < 0.0 ? 0.0 : -x) + std::log1p(e);  // log(1 + exp(-x))
    const double sigmoid = x >= 0 ? 1 / (1 + e) : e / (1 + e);
    const double p = pos_weight ? static_cast<double>(pos_weight[i % pos_weight_size]) : 1.0;
    const double positive = 1 + (p - 1) * y;
    const double w = weight ? static_cast<double>(weight[i % weight_size]) : 1.0;
    if (g) g[i] = static_cast<T>(w * (positive * sigmoid - p * y) / norm);
    return w * ((1 - y) * x + positive * softplus_neg);
  }
};

/// CrossEntropyLoss's settings, shared by every position of a batch.
struct cross_entropy_terms {
  int classes;
  std::int64_t positions;  // per sample: class c of a position is c * positions further
  const float* weight;     // one per class, or null for 1
  double weight_sum;       // sum_c weight[c] (classes without weights)
  double smoothing;        // label smoothing eps
  int ignore_index;
  double norm;  // what reduction::mean divides by (1 for sum)

  /// The loss of the position whose class 0 is at z[0] and whose label is y,
  /// and when g is not null its gradient at g[c * positions]; see
  /// train/losses/cross_entropy_loss.hpp for the formula.
  template <class T>
  TYPENET_HOST_DEVICE double operator()(const T* z, int y, T* g) const {
    const std::int64_t P = positions;
    if (y == ignore_index) {
      if (g)
        for (int c = 0; c < classes; ++c) g[c * P] = T{0};
      return 0;
    }
    double top = z[0];
    for (int c = 1; c < classes; ++c) top = top < z[c * P] ? static_cast<double>(z[c * P]) : top;
    double sum = 0;
    for (int c = 0; c < classes; ++c) sum += std::exp(z[c * P] - top);
    const double log_sum = std::log(sum) + top;
    const double wy = weight ? static_cast<double>(weight[y]) : 1.0;
    double term = wy * (log_sum - z[std::int64_t{y} * P]);
    if (smoothing > 0) {
      double smooth = 0;  // sum_c w[c] * (-log p[c])
      for (int c = 0; c < classes; ++c)
        smooth += (weight ? static_cast<double>(weight[c]) : 1.0) * (log_sum - z[c * P]);
      term = (1 - smoothing) * term + smoothing / classes * smooth;
    }
    if (!g) return term;
    for (int c = 0; c < classes; ++c) {
      const double prob = std::exp(z[c * P] - log_sum);
      double d = wy * (prob - (c == y ? 1.0 : 0.0));
      if (smoothing > 0)
        d = (1 - smoothing) * d +
            smoothing / classes *
                (weight_sum * prob - (weight ? static_cast<double>(weight[c]) : 1.0));
      g[c * P] = static_cast<T>(d / norm);
    }
    return term;
  }
};

}  // namespace typenet::detail
