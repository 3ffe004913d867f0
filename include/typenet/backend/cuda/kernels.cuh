// typenet/backend/cuda/kernels.cuh — the Cuda backend: every kernel it provides, declared.
//
// `backend::kernels<Cuda>`, the sibling of backend/cpu/kernels.hpp's
// `backend::kernels<Cpu>`, implements the interface of
// backend/interface.hpp on an NVIDIA GPU with the same signatures: raw device
// pointers and run-time extents. The definitions live in the headers named
// below (nvcc only); kernels run on the current stream and return without
// waiting, except those that bring a value back to the host (the sums).
#pragma once

#include <cstdint>
#include <span>

#include "typenet/backend/interface.hpp"
#include "typenet/backend/shared/loss_math.hpp"
#include "typenet/backend/shared/update_rules.hpp"
#include "typenet/core/device.hpp"
#include "typenet/core/geometry.hpp"
#include "typenet/core/windows.hpp"

namespace typenet::backend {

template <>
struct kernels<Cuda> {
  // BatchNorm2d (backend/cuda/batch_norm.cuh)
  template <class T>
  static void batch_norm_forward_train(const batch_norm_config& c, const T* x, const T* gamma,
                                       const T* beta, T* running_mean, T* running_var, T* save_mean,
                                       T* save_invstd, T* y);
  template <class T>
  static void batch_norm_forward_eval(const batch_norm_config& c, const T* x, const T* gamma,
                                      const T* beta, const T* running_mean, const T* running_var,
                                      T* y);
  template <class T>
  static void batch_norm_backward(const batch_norm_config& c, bool training, const T* x,
                                  const T* dy, const T* gamma, const T* mean, const T* invstd,
                                  T* dx, T* dgamma, T* dbeta);
  template <class T>
  static void batch_norm_eval_statistics(int channels, double eps, const T* running_mean,
                                         const T* running_var, T* mean, T* invstd);
  // Conv2d, ConvTranspose2d and their bias (backend/cuda/convolution.cuh)
  template <class T>
  static void conv2d_forward(const window_geometry& g, int batch, const T* x, const T* w,
                             const T* bias, T* y);
  template <class T>
  static void conv_transpose2d_forward(const window_geometry& g, int batch, const T* x, const T* w,
                                       const T* bias, T* y);
  template <class T>
  static void conv2d_backward_data(const window_geometry& g, int batch, const T* dy, const T* w,
                                   T* dx);
  template <class T>
  static void conv2d_backward_weight(const window_geometry& g, int batch, const T* x, const T* dy,
                                     T* dw);
  template <class T>
  static void add_channel_bias(int batch, int channels, std::int64_t plane, const T* bias, T* y);
  template <class T>
  static void channel_bias_backward(int batch, int channels, std::int64_t plane, const T* dy,
                                    T* db);
  // element-wise: sums, products, copies, dropout (backend/cuda/elementwise.cuh)
  template <class T>
  static void add(std::int64_t n, const T* a, const T* b, T* out);
  template <class T>
  static void copy_values(std::int64_t n, const T* in, T* out);
  template <class T>
  static void fill_values(std::int64_t n, T* out, T value);
  template <class T>
  static void dropout_forward(std::int64_t n, double p, std::uint64_t stream, const T* x, T* mask,
                              T* y);
  template <class T>
  static void multiply(std::int64_t n, const T* a, const T* b, T* out);
  // copies between tensors of other shapes: concatenation, padding (backend/cuda/elementwise.cuh)
  template <class T>
  static void copy_blocks(std::int64_t rows, std::int64_t block, const T* src,
                          std::int64_t src_stride, T* dst, std::int64_t dst_stride,
                          bool accumulate);
  template <class T>
  static void pad_planes(std::int64_t planes, int in_h, int in_w, int out_h, int out_w, int top,
                         int left, const T* x, T* y);
  // Linear (backend/cuda/linear.cuh)
  template <class T>
  static void linear_forward(int batch, int in, int out, const T* x, const T* w, const T* bias,
                             T* y);
  template <class T>
  static void linear_backward(int batch, int in, int out, const T* x, const T* w, const T* dy,
                              T* dx, T* dw, T* db);
  // the losses' sums (backend/cuda/losses.cuh)
  template <class T>
  static double binary_cross_entropy_sum(std::int64_t n, const T* z, const T* t,
                                         const typenet::detail::binary_cross_entropy_terms& terms,
                                         T* g);
  template <class T>
  static std::int64_t first_outside_unit_interval(std::int64_t n, const T* v, T& value);
  template <class T>
  static double cross_entropy_sum(const T* z, std::span<const int> labels,
                                  const typenet::detail::cross_entropy_terms& terms, T* g);
  // optimizer updates and gradient clipping (backend/cuda/optimizers.cuh)
  template <class T>
  static void sgd_update(const sgd_config& c, bool first, std::int64_t n, T* value, const T* grad,
                         T* momentum_buffer);
  template <class T>
  static void adam_update(const adam_config& c, std::int64_t n, T* value, const T* grad, T* exp_avg,
                          T* exp_avg_sq, T* max_exp_avg_sq);
  template <class T>
  static double gradient_norm_part(std::int64_t n, const T* grad, double norm_type);
  template <class T>
  static void scale_gradient(std::int64_t n, T* grad, T coef);
  // pooling (backend/cuda/pooling.cuh)
  template <class T>
  static void max_pool2d_forward(const window_geometry& g, int batch, const T* x, T* y,
                                 std::int32_t* argmax);
  template <class T>
  static void max_pool2d_backward(const window_geometry& g, int batch, const T* dy,
                                  const std::int32_t* argmax, T* dx);
  template <class T>
  static void avg_pool2d_forward(const window_geometry& g, typenet::detail::avg_pool_divisor d,
                                 int batch, const T* x, T* y);
  template <class T>
  static void avg_pool2d_backward(const window_geometry& g, typenet::detail::avg_pool_divisor d,
                                  int batch, const T* dy, T* dx);
  template <class T>
  static void adaptive_avg_pool2d_forward(const window_geometry& g, int batch, const T* x, T* y);
  template <class T>
  static void adaptive_avg_pool2d_backward(const window_geometry& g, int batch, const T* dy, T* dx);
  // Softmax, LogSoftmax (backend/cuda/softmax.cuh)
  template <class T>
  static void softmax_forward(bool log, int batch, int channels, std::int64_t inner, const T* x,
                              T* y);
  template <class T>
  static void softmax_backward(bool log, int batch, int channels, std::int64_t inner, const T* y,
                               const T* dy, T* dx);
  // Upsample (backend/cuda/upsample.cuh)
  template <class T>
  static void upsample_forward(bool bilinear, const window_geometry& g, int batch, const T* x,
                               T* y);
  template <class T>
  static void upsample_backward(bool bilinear, const window_geometry& g, int batch, const T* dy,
                                T* dx);
  // host transfers (backend/cuda/transfer.cuh)
  template <class T>
  static void copy_from_host(std::int64_t n, const T* host, T* out);
  template <class T>
  static void copy_to_host(std::int64_t n, const T* values, T* host);

  // the element-wise kernels of a functor: activations (backend/cuda/elementwise.cuh)
  // and the pointwise losses (backend/cuda/losses.cuh), instantiated where used
  template <class Fn, class T>
  static void map_forward(std::int64_t n, const T* x, T* y);
  template <class Fn, class T>
  static void map_backward(std::int64_t n, const T* x, const T* y, const T* dy, T* dx);
  template <class T, class F>
  static double pointwise_loss_sum(std::int64_t n, const T* p, const T* t, T* g, double norm, F f);
};

}  // namespace typenet::backend
