// typenet/backend/cpu/kernels.hpp — every kernel of the Cpu backend, declared.
//
// The kernels layers and optimizers call with the `Cpu` tag first
// (`conv2d_forward(Cpu{}, geometry, batch, x, w, bias, y)`): raw pointers to
// NCHW memory and run-time extents, so their code does not depend on a
// network's types. The definitions live in the headers named below; a
// program that links typenet::kernels (TYPENET_COMPILED_KERNELS) includes
// only these declarations and takes the float and double instantiations from
// the library (kernel_instances.hpp). A definition whose signature drifts
// from its declaration here fails to compile in src/kernels.cpp.
// backend/cuda declares the same kernels with the `Cuda` tag.
#pragma once

#include <cstdint>
#include <span>

#include "typenet/core/device.hpp"
#include "typenet/core/geometry.hpp"
#include "typenet/core/loss_math.hpp"
#include "typenet/core/update_rules.hpp"

namespace typenet {

// BatchNorm2d (backend/cpu/batch_norm.hpp)
template <class T>
void batch_norm_forward_train(Cpu, const batch_norm_config& c, const T* x, const T* gamma,
                              const T* beta, T* running_mean, T* running_var, T* save_mean,
                              T* save_invstd, T* y);
template <class T>
void batch_norm_forward_eval(Cpu, const batch_norm_config& c, const T* x, const T* gamma,
                             const T* beta, const T* running_mean, const T* running_var, T* y);
template <class T>
void batch_norm_backward(Cpu, const batch_norm_config& c, bool training, const T* x, const T* dy,
                         const T* gamma, const T* mean, const T* invstd, T* dx, T* dgamma,
                         T* dbeta);
template <class T>
void batch_norm_eval_statistics(Cpu, int channels, double eps, const T* running_mean,
                                const T* running_var, T* mean, T* invstd);
// Conv2d, ConvTranspose2d and their bias (backend/cpu/convolution.hpp)
template <class T>
void conv2d_forward(Cpu, const window_geometry& g, int batch, const T* x, const T* w, const T* bias,
                    T* y);
template <class T>
void conv_transpose2d_forward(Cpu, const window_geometry& g, int batch, const T* x, const T* w,
                              const T* bias, T* y);
template <class T>
void conv2d_backward_data(Cpu, const window_geometry& g, int batch, const T* dy, const T* w, T* dx);
template <class T>
void conv2d_backward_weight(Cpu, const window_geometry& g, int batch, const T* x, const T* dy,
                            T* dw);
template <class T>
void add_channel_bias(Cpu, int batch, int channels, std::int64_t plane, const T* bias, T* y);
template <class T>
void channel_bias_backward(Cpu, int batch, int channels, std::int64_t plane, const T* dy, T* db);
// element-wise: sums, products, copies, dropout (backend/cpu/elementwise.hpp)
template <class T>
void add(Cpu, std::int64_t n, const T* a, const T* b, T* out);
template <class T>
void copy_values(Cpu, std::int64_t n, const T* in, T* out);
template <class T>
void fill_values(Cpu, std::int64_t n, T* out, T value);
template <class T>
void dropout_forward(Cpu, std::int64_t n, double p, std::uint64_t stream, const T* x, T* mask,
                     T* y);
template <class T>
void multiply(Cpu, std::int64_t n, const T* a, const T* b, T* out);
// Linear (backend/cpu/linear.hpp)
template <class T>
void linear_forward(Cpu, int batch, int in, int out, const T* x, const T* w, const T* bias, T* y);
template <class T>
void linear_backward(Cpu, int batch, int in, int out, const T* x, const T* w, const T* dy, T* dx,
                     T* dw, T* db);
// the losses' sums (backend/cpu/losses.hpp)
template <class T>
double binary_cross_entropy_sum(Cpu, std::int64_t n, const T* z, const T* t,
                                const detail::binary_cross_entropy_terms& terms, T* g);
template <class T>
std::int64_t first_outside_unit_interval(Cpu, std::int64_t n, const T* v, T& value);
template <class T>
double cross_entropy_sum(Cpu, const T* z, std::span<const int> labels,
                         const detail::cross_entropy_terms& terms, T* g);
// optimizer updates and gradient clipping (backend/cpu/optimizers.hpp)
template <class T>
void sgd_update(Cpu, const sgd_config& c, bool first, std::int64_t n, T* value, const T* grad,
                T* momentum_buffer);
template <class T>
void adam_update(Cpu, const adam_config& c, std::int64_t n, T* value, const T* grad, T* exp_avg,
                 T* exp_avg_sq, T* max_exp_avg_sq);
template <class T>
double gradient_norm_part(Cpu, std::int64_t n, const T* grad, double norm_type);
template <class T>
void scale_gradient(Cpu, std::int64_t n, T* grad, T coef);
// pooling (backend/cpu/pooling.hpp)
template <class T>
void max_pool2d_forward(Cpu, const window_geometry& g, int batch, const T* x, T* y,
                        std::int32_t* argmax);
template <class T>
void max_pool2d_backward(Cpu, const window_geometry& g, int batch, const T* dy,
                         const std::int32_t* argmax, T* dx);
template <class T>
void avg_pool2d_forward(Cpu, const window_geometry& g, int batch, const T* x, T* y);
template <class T>
void avg_pool2d_backward(Cpu, const window_geometry& g, int batch, const T* dy, T* dx);
template <class T>
void adaptive_avg_pool2d_forward(Cpu, const window_geometry& g, int batch, const T* x, T* y);
template <class T>
void adaptive_avg_pool2d_backward(Cpu, const window_geometry& g, int batch, const T* dy, T* dx);
// Softmax, LogSoftmax (backend/cpu/softmax.hpp)
template <class T>
void softmax_forward(Cpu, bool log, int batch, int channels, std::int64_t inner, const T* x, T* y);
template <class T>
void softmax_backward(Cpu, bool log, int batch, int channels, std::int64_t inner, const T* y,
                      const T* dy, T* dx);
// Upsample (backend/cpu/upsample.hpp)
template <class T>
void upsample_forward(Cpu, bool bilinear, const window_geometry& g, int batch, const T* x, T* y);
template <class T>
void upsample_backward(Cpu, bool bilinear, const window_geometry& g, int batch, const T* dy, T* dx);
// host transfers (backend/cpu/memory.hpp)
template <class T>
void copy_from_host(Cpu, std::int64_t n, const T* host, T* out);
template <class T>
void copy_to_host(Cpu, std::int64_t n, const T* values, T* host);

}  // namespace typenet
