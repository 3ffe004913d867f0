// typenet/config.hpp — the few macros typenet owns.
//
// TYPENET_HOST_DEVICE marks shape arithmetic usable from CUDA kernels.
// TYPENET_HAS_CUDA is 1 in translation units compiled by nvcc, 0 elsewhere;
// only backend/cuda looks at it.
// TYPENET_IO_DECL and TYPENET_VISION_DECL mark the functions of the io and
// vision components that are not templates: `inline` in the header-only
// default, whose headers then include their definitions (impl/*.ipp); plain
// declarations where TYPENET_COMPILED_IO / TYPENET_COMPILED_VISION say that
// they are compiled once, in typenet::io_compiled / typenet::vision_compiled
// (src/io.cpp, src/vision.cpp), as Boost.Asio's separate compilation does.
#pragma once

#if defined(TYPENET_COMPILED_IO)
#define TYPENET_IO_DECL
#else
#define TYPENET_IO_DECL inline
#endif

#if defined(TYPENET_COMPILED_VISION)
#define TYPENET_VISION_DECL
#else
#define TYPENET_VISION_DECL inline
#endif

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
