// typenet/backend/cpu/batch_norm.hpp — batch normalization over (N, plane) per channel.
//
// Layout [batch][channels][plane] (plane = 1 for BatchNorm1d on Shape<C>).
// A channel of a 112x112 map at batch 8 has 10^5 values, where a plain float
// sum would cost digits against PyTorch: the sums are cpu::blocked_sum's
// (float blocks added in double, vectorized), and the per-element formulas
// are affine in float with per-channel constants computed in double.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "typenet/backend/cpu/kernels.hpp"
#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/backend/cpu/reduction.hpp"
#include "typenet/core/device.hpp"
#include "typenet/core/geometry.hpp"

namespace typenet {

/// Training mode: normalizes with the batch statistics, saves mean and
/// 1/sqrt(var + eps) for backward, and updates the running statistics with
/// the unbiased variance.
template <class T>
void backend::kernels<Cpu>::batch_norm_forward_train(const batch_norm_config& c, const T* x,
                                                     const T* gamma, const T* beta, T* running_mean,
                                                     T* running_var, T* save_mean, T* save_invstd,
                                                     T* y) {
  const std::int64_t count = std::int64_t{c.batch} * c.plane;
  cpu::parallel_for(c.channels, count * 4, [&](std::int64_t ch) {
    double sum = 0;
    for (int n = 0; n < c.batch; ++n) {
      const T* p = x + (std::int64_t{n} * c.channels + ch) * c.plane;
      sum += cpu::blocked_sum(p, c.plane);
    }
    const double mean = sum / static_cast<double>(count);
    // Deviations from the mean rounded to T: the float variance is exact to
    // T's precision, as PyTorch's.
    const T mean_t = static_cast<T>(mean);
    double squares = 0;
    for (int n = 0; n < c.batch; ++n) {
      const T* p = x + (std::int64_t{n} * c.channels + ch) * c.plane;
      squares += cpu::blocked_sum(p, c.plane, [mean_t](T v, std::int64_t) {
        const T d = v - mean_t;
        return d * d;
      });
    }
    // The mean's rounding shifts every deviation by delta = mean_t - mean;
    // the sum of squares about the true mean is smaller by count * delta^2.
    const double delta = static_cast<double>(mean_t) - mean;
    squares = std::max(0.0, squares - static_cast<double>(count) * delta * delta);
    const double var = squares / static_cast<double>(count);
    const double invstd = 1.0 / std::sqrt(var + c.eps);
    save_mean[ch] = static_cast<T>(mean);
    save_invstd[ch] = static_cast<T>(invstd);
    const double unbiased = count > 1 ? squares / static_cast<double>(count - 1) : var;
    running_mean[ch] = static_cast<T>((1 - c.momentum) * running_mean[ch] + c.momentum * mean);
    running_var[ch] = static_cast<T>((1 - c.momentum) * running_var[ch] + c.momentum * unbiased);
    const T scale = static_cast<T>(gamma[ch] * invstd);
    const T shift = static_cast<T>(beta[ch] - mean * gamma[ch] * invstd);
    for (int n = 0; n < c.batch; ++n) {
      const std::int64_t offset = (std::int64_t{n} * c.channels + ch) * c.plane;
      for (std::int64_t i = 0; i < c.plane; ++i) y[offset + i] = x[offset + i] * scale + shift;
    }
  });
}

/// Evaluation mode: normalizes with the running statistics.
template <class T>
void backend::kernels<Cpu>::batch_norm_forward_eval(const batch_norm_config& c, const T* x,
                                                    const T* gamma, const T* beta,
                                                    const T* running_mean, const T* running_var,
                                                    T* y) {
  cpu::parallel_for(std::int64_t{c.batch} * c.channels, c.plane, [&](std::int64_t nc) {
    const std::int64_t ch = nc % c.channels;
    const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[ch]) + c.eps);
    const T scale = static_cast<T>(gamma[ch] * invstd);
    const T shift = static_cast<T>(beta[ch] - running_mean[ch] * gamma[ch] * invstd);
    const T* in = x + nc * c.plane;
    T* out = y + nc * c.plane;
    for (std::int64_t i = 0; i < c.plane; ++i) out[i] = in[i] * scale + shift;
  });
}

/// Gradients of either mode. `mean`/`invstd` are the statistics forward used
/// (saved batch statistics in training, running ones in evaluation, where
/// they are constants and dx is a plain scaling). dgamma/dbeta accumulate;
/// any output pointer may be null.
template <class T>
void backend::kernels<Cpu>::batch_norm_backward(const batch_norm_config& c, bool training,
                                                const T* x, const T* dy, const T* gamma,
                                                const T* mean, const T* invstd, T* dx, T* dgamma,
                                                T* dbeta) {
  const std::int64_t count = std::int64_t{c.batch} * c.plane;
  cpu::parallel_for(c.channels, count * 6, [&](std::int64_t ch) {
    double sum_dy = 0, sum_dy_centered = 0;
    const double s = invstd[ch];
    const T mean_t = mean[ch];
    for (int n = 0; n < c.batch; ++n) {
      const std::int64_t offset = (std::int64_t{n} * c.channels + ch) * c.plane;
      const T* grad = dy + offset;
      const T* in = x + offset;
      const auto [dy_sum, dy_centered_sum] = cpu::blocked_sums(
          grad, c.plane, [](T v, std::int64_t) { return v; },
          [in, mean_t](T v, std::int64_t i) { return v * (in[i] - mean_t); });
      sum_dy += dy_sum;
      sum_dy_centered += dy_centered_sum;
    }
    const double sum_dy_xhat = sum_dy_centered * s;
    if (dgamma) dgamma[ch] += static_cast<T>(sum_dy_xhat);
    if (dbeta) dbeta[ch] += static_cast<T>(sum_dy);
    if (!dx) return;
    // dx = g s (dy - sum_dy / count - xhat sum_dy_xhat / count) in training,
    // g s dy in evaluation: dx = a dy + b (x - mean) + c0 per channel, with
    // x - mean formed first so that no large terms cancel.
    const double g = gamma[ch], n_inv = 1.0 / static_cast<double>(count);
    const T a = static_cast<T>(g * s);
    const T b = training ? static_cast<T>(-g * s * s * sum_dy_xhat * n_inv) : T{0};
    const T c0 = training ? static_cast<T>(-g * s * sum_dy * n_inv) : T{0};
    for (int n = 0; n < c.batch; ++n) {
      const std::int64_t offset = (std::int64_t{n} * c.channels + ch) * c.plane;
      for (std::int64_t i = 0; i < c.plane; ++i)
        dx[offset + i] = a * dy[offset + i] + b * (x[offset + i] - mean_t) + c0;
    }
  });
}

}  // namespace typenet

namespace typenet {

/// mean = running_mean, invstd = 1/sqrt(running_var + eps): the constants
/// evaluation mode normalizes with, in the form batch_norm_backward takes.
template <class T>
void backend::kernels<Cpu>::batch_norm_eval_statistics(int channels, double eps,
                                                       const T* running_mean, const T* running_var,
                                                       T* mean, T* invstd) {
  for (int c = 0; c < channels; ++c) {
    mean[c] = running_mean[c];
    invstd[c] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps));
  }
}

}  // namespace typenet
