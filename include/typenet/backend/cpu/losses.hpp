// typenet/backend/cpu/losses.hpp — the sums behind the losses, on the Cpu.
//
// A loss (train/losses/) checks its arguments, then asks the backend for the
// sum of its terms (backend/shared/loss_math.hpp), writing the gradient on the way.
// One thread, in index order: the losses are a sliver of a training step,
// and a fixed order keeps the value bit for bit the same run to run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "typenet/backend/cpu/kernels.hpp"
#include "typenet/backend/shared/loss_math.hpp"
#include "typenet/core/device.hpp"

namespace typenet {

/// Σ f(p[i] - t[i]).value over i in [0, n), with g[i] = f(...).derivative /
/// norm when g is not null.
template <class T, class F>
double backend::kernels<Cpu>::pointwise_loss_sum(std::int64_t n, const T* p, const T* t, T* g,
                                                 double norm, F f) {
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto [value, derivative] = f(static_cast<double>(p[i]) - static_cast<double>(t[i]));
    sum += value;
    if (g) g[i] = static_cast<T>(derivative / norm);
  }
  return sum;
}

/// The sum of BCEWithLogitsLoss's terms over n logits z and targets t; the
/// gradient goes to g when it is not null. The weights are host memory.
template <class T>
double backend::kernels<Cpu>::binary_cross_entropy_sum(
    std::int64_t n, const T* z, const T* t, const detail::binary_cross_entropy_terms& terms, T* g) {
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i) total += terms(i, z[i], t[i], g);
  return total;
}

/// The index of the first of n values outside [0, 1] (NaN is inside), or -1;
/// with its value in `value`.
template <class T>
std::int64_t backend::kernels<Cpu>::first_outside_unit_interval(std::int64_t n, const T* v,
                                                                T& value) {
  for (std::int64_t i = 0; i < n; ++i)
    if (v[i] < 0 || v[i] > 1) {
      value = v[i];
      return i;
    }
  return -1;
}

/// The sum of CrossEntropyLoss's terms over logits `z` (samples of classes x
/// positions) with one label per sample and position; the gradient goes to g
/// when it is not null. `terms.weight` is host memory.
template <class T>
double backend::kernels<Cpu>::cross_entropy_sum(const T* z, std::span<const int> labels,
                                                const detail::cross_entropy_terms& terms, T* g) {
  const std::int64_t P = terms.positions, sample = terms.classes * P;
  double total = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::int64_t position = static_cast<std::int64_t>(i);
    const std::int64_t first = position / P * sample + position % P;
    total += terms(z + first, labels[i], g ? g + first : nullptr);
  }
  return total;
}

}  // namespace typenet
