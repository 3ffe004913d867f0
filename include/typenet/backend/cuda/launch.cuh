// typenet/backend/cuda/launch.cuh — how the Cuda backend runs a kernel.
//
// A kernel is `for_each_index(n, f)`: f(i) for every i in [0, n), with f a
// __host__ __device__ functor (TYPENET_HOST_DEVICE lambda) capturing raw
// device pointers and geometry by value. On a GPU it is a Thrust launch on
// the default stream that does not wait for the kernel (par_nosync): work
// stays queued in order, and copies to the host wait for it. On the host
// (TYPENET_CUDA_ON_HOST) it is an OpenMP loop.
#pragma once

#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>
#include <cstdint>

#include "typenet/backend/cuda/errors.cuh"

namespace typenet::cuda {

/// The execution policy of every Thrust call of the backend.
inline auto policy() {
#if TYPENET_CUDA_DEVICE
  return thrust::cuda::par_nosync;
#else
  return thrust::device;
#endif
}

/// f(i) for i in [0, n).
template <class F>
void for_each_index(std::int64_t n, F f) {
  if (n <= 0) return;
  thrust::for_each_n(policy(), thrust::counting_iterator<std::int64_t>(0), n, f);
}

/// Waits until the device has finished all queued work and reports a kernel
/// that failed since the last check (a no-op on the host).
inline void synchronize() {
#if TYPENET_CUDA_DEVICE
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
#endif
}

}  // namespace typenet::cuda
