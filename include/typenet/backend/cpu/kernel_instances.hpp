// typenet/backend/cpu/kernel_instances.hpp — the Cpu kernels that can be compiled once.
//
// The Cpu kernels take run-time extents (window_geometry, batch and channel
// counts), so their code does not depend on a network's types: one
// instantiation per scalar type serves every program. With
// TYPENET_COMPILED_KERNELS defined (CMake: link typenet::kernels), every
// translation unit sees them as `extern template` and skips their
// instantiation, which is most of the optimizer's work in a typical program;
// src/kernels.cpp instantiates them once, for float and double. Without it
// (the default, header-only) each translation unit instantiates what it
// uses. The list is TYPENET_CPU_KERNEL_INSTANCES(EXTERN, T): keep it in step
// with the kernels' signatures (a mismatch fails to compile in src/kernels.cpp
// or its test).
#pragma once

#include <cstdint>
#include <span>

#include "typenet/backend/cpu/batch_norm.hpp"
#include "typenet/backend/cpu/convolution.hpp"
#include "typenet/backend/cpu/elementwise.hpp"
#include "typenet/backend/cpu/linear.hpp"
#include "typenet/backend/cpu/losses.hpp"
#include "typenet/backend/cpu/memory.hpp"
#include "typenet/backend/cpu/optimizers.hpp"
#include "typenet/backend/cpu/pooling.hpp"
#include "typenet/backend/cpu/softmax.hpp"
#include "typenet/backend/cpu/upsample.hpp"

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
