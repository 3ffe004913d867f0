// typenet/backend/cuda/transfer.cuh — filling Cuda tensors and moving them to and from the host.
//
//   tn::Tensor<S, tn::Cuda> xd = tn::to<tn::Cuda>(x);   // host -> device
//   tn::Tensor<S> y = tn::to<tn::Cpu>(model.forward(xd));
//   tn::copy(x, xd);                                  // into an existing tensor
//
// Copies to the host wait for the kernels queued before them. Parameter
// initialisation draws on the host from the same random stream as the Cpu
// backend, so Model<Net, In, Cuda>(seed) starts with the same weights as
// Model<Net, In, Cpu>(seed).
#pragma once

#include <thrust/copy.h>
#include <thrust/device_ptr.h>
#include <thrust/fill.h>
#include <cstdint>
#include <cstring>
#include <vector>

#include "typenet/backend/cuda/kernels.cuh"
#include "typenet/backend/cuda/launch.cuh"
#include "typenet/backend/cuda/memory.cuh"
#include "typenet/core/parameter.hpp"
#include "typenet/core/tensor.hpp"

namespace typenet {

namespace cuda {
/// n values from host memory into device memory.
template <class T>
void copy_to_device(const T* host, std::int64_t n, T* device) {
  if (n > 0) thrust::copy_n(host, n, thrust::device_pointer_cast(device));
}
/// n values from device memory into host memory, after the queued kernels.
template <class T>
void copy_to_host(const T* device, std::int64_t n, T* host) {
  if (n > 0) thrust::copy_n(thrust::device_pointer_cast(device), n, host);
}
}  // namespace cuda

/// Sets every element.
template <class S, class T>
void fill(Tensor<S, Cuda, T>& t, T value) {
  if (t.size() > 0)
    thrust::fill_n(cuda::policy(), thrust::device_pointer_cast(t.data()), t.size(), value);
}

/// Makes `to` an element-wise copy of `from` (same batch size), device to device.
template <class S, class T>
void copy(const Tensor<S, Cuda, T>& from, Tensor<S, Cuda, T>& to) {
  to.resize(from.batch(), from.extents());
  if (from.size() > 0)
    thrust::copy_n(cuda::policy(), thrust::device_pointer_cast(from.data()), from.size(),
                   thrust::device_pointer_cast(to.data()));
}

/// Host to device.
template <class S, class T>
void copy(const Tensor<S, Cpu, T>& from, Tensor<S, Cuda, T>& to) {
  to.resize(from.batch(), from.extents());
  cuda::copy_to_device(from.data(), from.size(), to.data());
}

/// Device to host, after the queued kernels.
template <class S, class T>
void copy(const Tensor<S, Cuda, T>& from, Tensor<S, Cpu, T>& to) {
  to.resize(from.batch(), from.extents());
  cuda::copy_to_host(from.data(), from.size(), to.data());
}

/// A copy of `t` on device `To` (Cpu or Cuda).
template <class To, class S, class From, class T>
Tensor<S, To, T> to(const Tensor<S, From, T>& t) {
  Tensor<S, To, T> out(t.batch(), t.extents());
  copy(t, out);
  return out;
}

/// Fills a Cuda tensor with U(-bound, bound), drawn on the host in the Cpu
/// backend's order.
template <class S, class T, class Rng>
void init_uniform(Tensor<S, Cuda, T>& t, T bound, Rng& rng) {
  std::vector<T> host(static_cast<std::size_t>(t.size()));
  fill_uniform(host.data(), t.size(), bound, rng);
  cuda::copy_to_device(host.data(), t.size(), t.data());
}

/// Copies `n` values from host memory into a device buffer (weights, optimizer state).
template <class T>
void backend::kernels<Cuda>::copy_from_host(std::int64_t n, const T* host, T* out) {
  cuda::copy_to_device(host, n, out);
}

/// Copies `n` values of a device buffer into host memory (saving weights).
template <class T>
void backend::kernels<Cuda>::copy_to_host(std::int64_t n, const T* device, T* out) {
  cuda::copy_to_host(device, n, out);
}

}  // namespace typenet
