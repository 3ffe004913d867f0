// typenet/backend/cuda/config.cuh — where the Cuda backend may be compiled.
//
// The Cuda backend is compiled by nvcc, for an NVIDIA GPU. Its kernels are
// Thrust algorithms over index ranges with __host__ __device__ functors, so
// the same source also compiles with a host compiler against Thrust's OpenMP
// device system: define TYPENET_CUDA_ON_HOST and
// THRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_OMP, and `Cuda` tensors live in
// host memory and every kernel runs on OpenMP threads. The tests use that to
// check the backend against the CPU one on machines without a GPU; cuBLAS is
// then replaced by a column-major reference product with its signature.
//
// TYPENET_CUDA_DEVICE is 1 when the backend targets a real GPU (nvcc with
// Thrust's CUDA system), 0 on the host.
#pragma once

#include "typenet/config.hpp"

#if !defined(__CUDACC__) && !defined(TYPENET_CUDA_ON_HOST)
#error \
    "typenet/backend/cuda needs nvcc (a .cu file); define TYPENET_CUDA_ON_HOST with THRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_OMP to run it on the host"
#endif

#include <thrust/detail/config.h>

#if defined(TYPENET_CUDA_ON_HOST)
#if THRUST_DEVICE_SYSTEM != THRUST_DEVICE_SYSTEM_OMP && \
    THRUST_DEVICE_SYSTEM != THRUST_DEVICE_SYSTEM_CPP
#error "TYPENET_CUDA_ON_HOST needs THRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_OMP (or _CPP)"
#endif
#define TYPENET_CUDA_DEVICE 0
#else
#if THRUST_DEVICE_SYSTEM != THRUST_DEVICE_SYSTEM_CUDA
#error "typenet's Cuda backend under nvcc needs Thrust's CUDA device system"
#endif
#define TYPENET_CUDA_DEVICE 1
#endif
