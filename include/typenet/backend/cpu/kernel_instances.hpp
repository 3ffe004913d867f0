// typenet/backend/cpu/kernel_instances.hpp — the Cpu kernels that are compiled once.
//
// TYPENET_CPU_KERNEL_INSTANCES(EXTERN, T) lists every kernel of kernels.hpp
// for scalar type T as `EXTERN template ...;`. src/kernels.cpp expands it
// with an empty EXTERN for float and double (the typenet::kernels library);
// with TYPENET_COMPILED_KERNELS defined (a program linking the library),
// this header declares the same instantiations `extern`, so a translation
// unit that sees a kernel's definition anyway does not instantiate it. The
// kernels templated on a functor (map_forward, map_backward,
// pointwise_loss_sum) are not here: they are instantiated where used.
#pragma once

#include <cstdint>
#include <span>

#include "typenet/backend/cpu/kernels.hpp"

// clang-format off
/// Every Cpu kernel for scalar type T, each as `EXTERN template ...;`.
#define TYPENET_CPU_KERNEL_INSTANCES(EXTERN, T) \
  EXTERN template void batch_norm_forward_train<T>(Cpu, const batch_norm_config&, const T*, const T*, const T*, T*, T*, T*, T*, T*); \
  EXTERN template void batch_norm_forward_eval<T>(Cpu, const batch_norm_config&, const T*, const T*, const T*, const T*, const T*, T*); \
  EXTERN template void batch_norm_backward<T>(Cpu, const batch_norm_config&, bool, const T*, const T*, const T*, const T*, const T*, T*, T*, T*); \
  EXTERN template void batch_norm_eval_statistics<T>(Cpu, int, double, const T*, const T*, T*, T*); \
  EXTERN template void conv2d_forward<T>(Cpu, const window_geometry&, int, const T*, const T*, const T*, T*); \
  EXTERN template void conv_transpose2d_forward<T>(Cpu, const window_geometry&, int, const T*, const T*, const T*, T*); \
  EXTERN template void conv2d_backward_data<T>(Cpu, const window_geometry&, int, const T*, const T*, T*); \
  EXTERN template void conv2d_backward_weight<T>(Cpu, const window_geometry&, int, const T*, const T*, T*); \
  EXTERN template void add_channel_bias<T>(Cpu, int, int, std::int64_t, const T*, T*); \
  EXTERN template void channel_bias_backward<T>(Cpu, int, int, std::int64_t, const T*, T*); \
  EXTERN template void add<T>(Cpu, std::int64_t, const T*, const T*, T*); \
  EXTERN template void copy_values<T>(Cpu, std::int64_t, const T*, T*); \
  EXTERN template void fill_values<T>(Cpu, std::int64_t, T*, T); \
  EXTERN template void dropout_forward<T>(Cpu, std::int64_t, double, std::uint64_t, const T*, T*, T*); \
  EXTERN template void multiply<T>(Cpu, std::int64_t, const T*, const T*, T*); \
  EXTERN template void linear_forward<T>(Cpu, int, int, int, const T*, const T*, const T*, T*); \
  EXTERN template void linear_backward<T>(Cpu, int, int, int, const T*, const T*, const T*, T*, T*, T*); \
  EXTERN template double binary_cross_entropy_sum<T>(Cpu, std::int64_t, const T*, const T*, const detail::binary_cross_entropy_terms&, T*); \
  EXTERN template std::int64_t first_outside_unit_interval<T>(Cpu, std::int64_t, const T*, T&); \
  EXTERN template double cross_entropy_sum<T>(Cpu, const T*, std::span<const int>, const detail::cross_entropy_terms&, T*); \
  EXTERN template void sgd_update<T>(Cpu, const sgd_config&, bool, std::int64_t, T*, const T*, T*); \
  EXTERN template void adam_update<T>(Cpu, const adam_config&, std::int64_t, T*, const T*, T*, T*, T*); \
  EXTERN template double gradient_norm_part<T>(Cpu, std::int64_t, const T*, double); \
  EXTERN template void scale_gradient<T>(Cpu, std::int64_t, T*, T); \
  EXTERN template void max_pool2d_forward<T>(Cpu, const window_geometry&, int, const T*, T*, std::int32_t*); \
  EXTERN template void max_pool2d_backward<T>(Cpu, const window_geometry&, int, const T*, const std::int32_t*, T*); \
  EXTERN template void avg_pool2d_forward<T>(Cpu, const window_geometry&, int, const T*, T*); \
  EXTERN template void avg_pool2d_backward<T>(Cpu, const window_geometry&, int, const T*, T*); \
  EXTERN template void adaptive_avg_pool2d_forward<T>(Cpu, const window_geometry&, int, const T*, T*); \
  EXTERN template void adaptive_avg_pool2d_backward<T>(Cpu, const window_geometry&, int, const T*, T*); \
  EXTERN template void softmax_forward<T>(Cpu, bool, int, int, std::int64_t, const T*, T*); \
  EXTERN template void softmax_backward<T>(Cpu, bool, int, int, std::int64_t, const T*, const T*, T*); \
  EXTERN template void upsample_forward<T>(Cpu, bool, const window_geometry&, int, const T*, T*); \
  EXTERN template void upsample_backward<T>(Cpu, bool, const window_geometry&, int, const T*, T*); \
  EXTERN template void copy_from_host<T>(Cpu, std::int64_t, const T*, T*); \
  EXTERN template void copy_to_host<T>(Cpu, std::int64_t, const T*, T*);
// clang-format on

#if defined(TYPENET_COMPILED_KERNELS) && !defined(TYPENET_INSTANTIATING_KERNELS)
namespace typenet {
TYPENET_CPU_KERNEL_INSTANCES(extern, float)
TYPENET_CPU_KERNEL_INSTANCES(extern, double)
}  // namespace typenet
#endif
