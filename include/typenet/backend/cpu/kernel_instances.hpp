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
  EXTERN template void backend::kernels<Cpu>::batch_norm_forward_train<T>(const batch_norm_config&, const T*, const T*, const T*, T*, T*, T*, T*, T*); \
  EXTERN template void backend::kernels<Cpu>::batch_norm_forward_eval<T>(const batch_norm_config&, const T*, const T*, const T*, const T*, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::batch_norm_backward<T>(const batch_norm_config&, bool, const T*, const T*, const T*, const T*, const T*, T*, T*, T*); \
  EXTERN template void backend::kernels<Cpu>::batch_norm_eval_statistics<T>(int, double, const T*, const T*, T*, T*); \
  EXTERN template void backend::kernels<Cpu>::conv2d_forward<T>(const window_geometry&, int, const T*, const T*, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::conv_transpose2d_forward<T>(const window_geometry&, int, const T*, const T*, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::conv2d_backward_data<T>(const window_geometry&, int, const T*, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::conv2d_backward_weight<T>(const window_geometry&, int, const T*, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::add_channel_bias<T>(int, int, std::int64_t, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::channel_bias_backward<T>(int, int, std::int64_t, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::add<T>(std::int64_t, const T*, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::copy_values<T>(std::int64_t, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::fill_values<T>(std::int64_t, T*, T); \
  EXTERN template void backend::kernels<Cpu>::dropout_forward<T>(std::int64_t, double, std::uint64_t, const T*, T*, T*); \
  EXTERN template void backend::kernels<Cpu>::multiply<T>(std::int64_t, const T*, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::copy_blocks<T>(std::int64_t, std::int64_t, const T*, std::int64_t, T*, std::int64_t, bool); \
  EXTERN template void backend::kernels<Cpu>::pad_planes<T>(std::int64_t, int, int, int, int, int, int, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::linear_forward<T>(int, int, int, const T*, const T*, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::linear_backward<T>(int, int, int, const T*, const T*, const T*, T*, T*, T*); \
  EXTERN template double backend::kernels<Cpu>::binary_cross_entropy_sum<T>(std::int64_t, const T*, const T*, const detail::binary_cross_entropy_terms&, T*); \
  EXTERN template std::int64_t backend::kernels<Cpu>::first_outside_unit_interval<T>(std::int64_t, const T*, T&); \
  EXTERN template double backend::kernels<Cpu>::cross_entropy_sum<T>(const T*, std::span<const int>, const detail::cross_entropy_terms&, T*); \
  EXTERN template void backend::kernels<Cpu>::sgd_update<T>(const sgd_config&, bool, std::int64_t, T*, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::adam_update<T>(const adam_config&, std::int64_t, T*, const T*, T*, T*, T*); \
  EXTERN template double backend::kernels<Cpu>::gradient_norm_part<T>(std::int64_t, const T*, double); \
  EXTERN template void backend::kernels<Cpu>::scale_gradient<T>(std::int64_t, T*, T); \
  EXTERN template void backend::kernels<Cpu>::max_pool2d_forward<T>(const window_geometry&, int, const T*, T*, std::int32_t*); \
  EXTERN template void backend::kernels<Cpu>::max_pool2d_backward<T>(const window_geometry&, int, const T*, const std::int32_t*, T*); \
  EXTERN template void backend::kernels<Cpu>::avg_pool2d_forward<T>(const window_geometry&, typenet::detail::avg_pool_divisor, int, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::avg_pool2d_backward<T>(const window_geometry&, typenet::detail::avg_pool_divisor, int, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::adaptive_avg_pool2d_forward<T>(const window_geometry&, int, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::adaptive_avg_pool2d_backward<T>(const window_geometry&, int, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::softmax_forward<T>(bool, int, int, std::int64_t, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::softmax_backward<T>(bool, int, int, std::int64_t, const T*, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::upsample_forward<T>(bool, const window_geometry&, int, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::upsample_backward<T>(bool, const window_geometry&, int, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::copy_from_host<T>(std::int64_t, const T*, T*); \
  EXTERN template void backend::kernels<Cpu>::copy_to_host<T>(std::int64_t, const T*, T*);
// clang-format on

#if defined(TYPENET_COMPILED_KERNELS) && !defined(TYPENET_INSTANTIATING_KERNELS)
namespace typenet {
TYPENET_CPU_KERNEL_INSTANCES(extern, float)
TYPENET_CPU_KERNEL_INSTANCES(extern, double)
}  // namespace typenet
#endif
