// typenet/backend/cuda/batch_norm.cuh — batch normalization over (N, plane) per channel.
//
// The Cpu backend's formulas (backend/cpu/batch_norm.hpp), step by step: the
// per-channel sums in double (cuda::channel_sums), the per-channel constants
// in double by one thread per channel, and the per-element work affine in T.
#pragma once

#include <cmath>
#include <cstdint>

#include "typenet/backend/cuda/kernels.cuh"
#include "typenet/backend/cuda/launch.cuh"
#include "typenet/backend/cuda/memory.cuh"
#include "typenet/backend/cuda/reduction.cuh"
#include "typenet/core/device.hpp"
#include "typenet/core/geometry.hpp"

namespace typenet {

/// Training mode: normalizes with the batch statistics, saves mean and
/// 1/sqrt(var + eps) for backward, and updates the running statistics with
/// the unbiased variance.
template <class T>
void backend::kernels<Cuda>::batch_norm_forward_train(const batch_norm_config& c, const T* x,
                                                      const T* gamma, const T* beta,
                                                      T* running_mean, T* running_var, T* save_mean,
                                                      T* save_invstd, T* y) {
  const int channels = c.channels;
  const std::int64_t plane = c.plane, count = std::int64_t{c.batch} * c.plane;
  const double momentum = c.momentum, eps = c.eps;
  // [0, C): sums, then means; [C, 2C): squares; [2C, 4C): scale and shift.
  double* stats = cuda::scratch<double>(cuda::scratch_slot::channel_stats, 4 * channels);
  cuda::channel_sums(
      c.batch, channels, plane,
      [=] TYPENET_HOST_DEVICE(std::int64_t p, std::int64_t i) {
        return static_cast<double>(x[p * plane + i]);
      },
      stats);
  cuda::for_each_index(channels, [=] TYPENET_HOST_DEVICE(std::int64_t ch) {
    stats[ch] /= static_cast<double>(count);
    // Deviations from the mean rounded to T, as the Cpu backend and PyTorch.
    save_mean[ch] = static_cast<T>(stats[ch]);
  });
  cuda::channel_sums(
      c.batch, channels, plane,
      [=] TYPENET_HOST_DEVICE(std::int64_t p, std::int64_t i) {
        const T d = x[p * plane + i] - save_mean[p % channels];
        return static_cast<double>(d * d);
      },
      stats + channels);
  cuda::for_each_index(channels, [=] TYPENET_HOST_DEVICE(std::int64_t ch) {
    const double mean = stats[ch];
    // The mean's rounding shifts every deviation by delta; the sum of
    // squares about the true mean is smaller by count * delta^2.
    const double delta = static_cast<double>(save_mean[ch]) - mean;
    double squares = stats[channels + ch] - static_cast<double>(count) * delta * delta;
    squares = squares > 0 ? squares : 0.0;
    const double var = squares / static_cast<double>(count);
    const double invstd = 1.0 / std::sqrt(var + eps);
    save_invstd[ch] = static_cast<T>(invstd);
    const double unbiased = count > 1 ? squares / static_cast<double>(count - 1) : var;
    running_mean[ch] = static_cast<T>((1 - momentum) * running_mean[ch] + momentum * mean);
    running_var[ch] = static_cast<T>((1 - momentum) * running_var[ch] + momentum * unbiased);
    stats[2 * channels + ch] = gamma[ch] * invstd;
    stats[3 * channels + ch] = beta[ch] - mean * gamma[ch] * invstd;
  });
  cuda::for_each_index(count * channels, [=] TYPENET_HOST_DEVICE(std::int64_t i) {
    const std::int64_t ch = i / plane % channels;
    y[i] =
        x[i] * static_cast<T>(stats[2 * channels + ch]) + static_cast<T>(stats[3 * channels + ch]);
  });
}

/// Evaluation mode: normalizes with the running statistics.
template <class T>
void backend::kernels<Cuda>::batch_norm_forward_eval(const batch_norm_config& c, const T* x,
                                                     const T* gamma, const T* beta,
                                                     const T* running_mean, const T* running_var,
                                                     T* y) {
  const int channels = c.channels;
  const std::int64_t plane = c.plane;
  const double eps = c.eps;
  cuda::for_each_index(
      std::int64_t{c.batch} * channels * plane, [=] TYPENET_HOST_DEVICE(std::int64_t i) {
        const std::int64_t ch = i / plane % channels;
        const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[ch]) + eps);
        const T scale = static_cast<T>(gamma[ch] * invstd);
        const T shift = static_cast<T>(beta[ch] - running_mean[ch] * gamma[ch] * invstd);
        y[i] = x[i] * scale + shift;
      });
}

/// Gradients of either mode. `mean`/`invstd` are the statistics forward used
/// (saved batch statistics in training, running ones in evaluation).
/// dgamma/dbeta accumulate; any output pointer may be null.
template <class T>
void backend::kernels<Cuda>::batch_norm_backward(const batch_norm_config& c, bool training,
                                                 const T* x, const T* dy, const T* gamma,
                                                 const T* mean, const T* invstd, T* dx, T* dgamma,
                                                 T* dbeta) {
  const int channels = c.channels;
  const std::int64_t plane = c.plane, count = std::int64_t{c.batch} * c.plane;
  // [0, C): sum dy; [C, 2C): sum dy (x - mean); [2C, 5C): a, b, c0 of dx.
  double* stats = cuda::scratch<double>(cuda::scratch_slot::channel_stats, 5 * channels);
  cuda::channel_sums(
      c.batch, channels, plane,
      [=] TYPENET_HOST_DEVICE(std::int64_t p, std::int64_t i) {
        return static_cast<double>(dy[p * plane + i]);
      },
      stats);
  cuda::channel_sums(
      c.batch, channels, plane,
      [=] TYPENET_HOST_DEVICE(std::int64_t p, std::int64_t i) {
        const std::int64_t k = p * plane + i;
        return static_cast<double>(dy[k] * (x[k] - mean[p % channels]));
      },
      stats + channels);
  cuda::for_each_index(channels, [=] TYPENET_HOST_DEVICE(std::int64_t ch) {
    const double s = invstd[ch], sum_dy = stats[ch];
    const double sum_dy_xhat = stats[channels + ch] * s;
    if (dgamma) dgamma[ch] += static_cast<T>(sum_dy_xhat);
    if (dbeta) dbeta[ch] += static_cast<T>(sum_dy);
    const double g = gamma[ch], n_inv = 1.0 / static_cast<double>(count);
    stats[2 * channels + ch] = static_cast<T>(g * s);
    stats[3 * channels + ch] = training ? static_cast<T>(-g * s * s * sum_dy_xhat * n_inv) : T{0};
    stats[4 * channels + ch] = training ? static_cast<T>(-g * s * sum_dy * n_inv) : T{0};
  });
  if (!dx) return;
  cuda::for_each_index(count * channels, [=] TYPENET_HOST_DEVICE(std::int64_t i) {
    const std::int64_t ch = i / plane % channels;
    const T a = static_cast<T>(stats[2 * channels + ch]);
    const T b = static_cast<T>(stats[3 * channels + ch]);
    const T c0 = static_cast<T>(stats[4 * channels + ch]);
    dx[i] = a * dy[i] + b * (x[i] - mean[ch]) + c0;
  });
}

/// mean = running_mean, invstd = 1/sqrt(running_var + eps).
template <class T>
void backend::kernels<Cuda>::batch_norm_eval_statistics(int channels, double eps,
                                                        const T* running_mean, const T* running_var,
                                                        T* mean, T* invstd) {
  cuda::for_each_index(channels, [=] TYPENET_HOST_DEVICE(std::int64_t c) {
    mean[c] = running_mean[c];
    invstd[c] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps));
  });
}

}  // namespace typenet
