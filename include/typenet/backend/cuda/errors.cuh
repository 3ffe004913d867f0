// typenet/backend/cuda/errors.cuh — CUDA and cuBLAS failures as exceptions.
//
// Every CUDA runtime and cuBLAS call's status goes through cuda::check,
// which throws cuda_error naming the call and the library's own name and
// text for the status. Thrust reports its failures as thrust::system_error
// (a std::runtime_error).
#pragma once

#include <string>

#include "typenet/backend/cuda/config.cuh"
#include "typenet/core/errors.hpp"

#if TYPENET_CUDA_DEVICE
#include <cublas_v2.h>
#include <cuda_runtime.h>
#endif

namespace typenet {

/// A CUDA runtime or cuBLAS call failed, or no usable GPU is present.
struct cuda_error : error {
  using error::error;
};

namespace cuda {

#if TYPENET_CUDA_DEVICE
/// Throws cuda_error naming `call` unless `status` is cudaSuccess.
inline void check(cudaError_t status, const char* call) {
  if (status != cudaSuccess)
    throw cuda_error(std::string(call) + " failed: " + cudaGetErrorName(status) + " (" +
                     cudaGetErrorString(status) + ")");
}

/// Throws cuda_error naming `call` unless `status` is CUBLAS_STATUS_SUCCESS.
inline void check(cublasStatus_t status, const char* call) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw cuda_error(std::string(call) + " failed: " + cublasGetStatusName(status) + " (" +
                     cublasGetStatusString(status) + ")");
}
#endif

}  // namespace cuda
}  // namespace typenet
