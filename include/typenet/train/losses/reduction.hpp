// typenet/train/losses/reduction.hpp — what every loss shares: the
// reduction over the batch, the non-finite check, and the checks of sizes.
//
// A loss reduces the per-element (or per-sample) losses of a batch to one
// number, as PyTorch's `reduction=` does: `reduction::mean` (the default)
// or `reduction::sum`. PyTorch's third choice, 'none', is not offered:
// backward needs a scalar, and every loss here returns its gradient along
// with its value.
//
// Every loss computes in double whatever the tensors' scalar type, and
// throws non_finite_loss, naming itself, when its value is NaN or infinite
// (including PyTorch's NaN for a mean over nothing): training on a NaN loss
// ruins the model silently, so the caller hears about it at the step where it
// happens.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string>

#include "typenet/backend/interface.hpp"
#include "typenet/backend/shared/loss_math.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/core/tensor.hpp"

namespace typenet {

/// How a loss reduces the losses of a batch to one number (PyTorch's `reduction=`).
enum class reduction {
  mean,  ///< divided by the number of elements (or the sum of weights, for CrossEntropyLoss)
  sum,   ///< summed
};

inline const char* to_string(reduction r) noexcept {
  return r == reduction::sum ? "sum" : "mean";
}

/// A loss became NaN or infinite.
struct non_finite_loss : error {
  using error::error;
};

namespace detail {

/// Throws shape_error unless prediction and target hold the same batch (and,
/// for dynamic extents, the same extents).
template <class S, class D, class T>
void check_same_batch(const char* loss, const Tensor<S, D, T>& prediction,
                      const Tensor<S, D, T>& target) {
  if (prediction.batch() != target.batch())
    throw shape_error(std::string(loss) + ": prediction batch " +
                      std::to_string(prediction.batch()) + " but target batch " +
                      std::to_string(target.batch()));
  if constexpr (!S::is_static) {
    if (prediction.extents() != target.extents())
      throw shape_error(std::string(loss) + ": prediction extents " +
                        extents_string(prediction.extents()) + " but target extents " +
                        extents_string(target.extents()));
  }
}

/// Throws non_finite_loss unless `value` is finite; `divisor` is what a mean
/// divided by, and `empty` says why it can be 0.
inline void check_finite(const char* loss, double value, reduction r, double divisor,
                         const char* empty = "the batch is empty") {
  if (std::isfinite(value)) return;
  std::string why = std::string(loss) + ": the loss is " + (std::isnan(value) ? "NaN" : "infinite");
  if (r == reduction::mean && divisor == 0)
    why += std::string(" (reduction mean divides by 0: ") + empty + "; PyTorch returns NaN)";
  else
    why += " (a NaN or infinite prediction or target, or an overflow)";
  throw non_finite_loss(why);
}

/// "sample 3" or "sample 3 at (1, 4)": where the flat index `flat` falls in a
/// batch of samples of dims `dims` (empty: one value per sample).
inline std::string sample_and_index(std::int64_t flat, std::span<const int> dims) {
  std::int64_t per_sample = 1;
  for (const int d : dims) per_sample *= d;
  std::string s = "sample " + std::to_string(flat / per_sample);
  if (dims.empty()) return s;
  std::int64_t rest = flat % per_sample;
  std::string index;
  for (std::size_t k = dims.size(); k-- > 0;) {
    index = std::to_string(rest % dims[k]) + (index.empty() ? "" : ", ") + index;
    rest /= dims[k];
  }
  return s + " at (" + index + ")";
}

/// The loss of an element-wise loss `f(d) -> {value, derivative}` of
/// d = prediction - target (backend/shared/loss_math.hpp), reduced, with its gradient
/// written into `grad` when it is not null (PyTorch's MSELoss, L1Loss,
/// SmoothL1Loss). The backend sums (backend/*/losses).
template <class S, class D, class T, class F>
double pointwise_loss(const char* loss, reduction r, const Tensor<S, D, T>& prediction,
                      const Tensor<S, D, T>& target, Tensor<S, D, T>* grad, F f) {
  check_same_batch(loss, prediction, target);
  const std::int64_t n = prediction.size();
  // Dividing (not multiplying by 1/n) keeps mse_loss's results bit for bit.
  const double norm = r == reduction::mean ? static_cast<double>(n) : 1.0;
  backend::view<T, 1> g{};
  if (grad) {
    grad->resize(prediction.batch(), prediction.extents());
    g = backend::flat_view(*grad);
  }
  const double value = backend::pointwise_loss_sum(D{}, backend::flat_view(prediction),
                                                   backend::flat_view(target), g, norm, f) /
                       norm;
  check_finite(loss, value, r, static_cast<double>(n));
  return value;
}

}  // namespace detail
}  // namespace typenet
