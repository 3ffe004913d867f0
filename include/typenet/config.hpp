// typenet/config.hpp — the few macros typenet owns.
//
// TYPENET_HOST_DEVICE marks shape arithmetic usable from CUDA kernels.
// TYPENET_HAS_CUDA is 1 in translation units compiled by nvcc, 0 elsewhere;
// only backend/cuda looks at it.
#pragma once

#if defined(__CUDACC__)
#define TYPENET_HOST_DEVICE __host__ __device__
#define TYPENET_HAS_CUDA 1
#else
#define TYPENET_HOST_DEVICE
#define TYPENET_HAS_CUDA 0
#endif

#define TYPENET_VERSION_MAJOR 0
#define TYPENET_VERSION_MINOR 1
#define TYPENET_VERSION_PATCH 0
#define TYPENET_VERSION_STRING "0.1.0"
