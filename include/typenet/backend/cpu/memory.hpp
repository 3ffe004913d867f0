// typenet/backend/cpu/memory.hpp — the Cpu backend's memory, and filling and copying its tensors.
//
// device_memory<Cpu> is what storage<T, Cpu>, the memory behind a Cpu tensor,
// allocates with: 64-byte aligned heap memory, so that kernels may use
// aligned vector loads on a tensor's first element. backend/cuda/memory.cuh
// is its sibling for the GPU.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include "typenet/backend/cpu/kernels.hpp"
#include "typenet/core/device.hpp"
#include "typenet/core/storage.hpp"
#include "typenet/core/tensor.hpp"

namespace typenet {

template <>
struct device_memory<Cpu> {
  static constexpr std::size_t alignment = 64;
  static void* allocate(std::size_t bytes) {
    return ::operator new[](bytes, std::align_val_t{alignment});
  }
  static void release(void* p) noexcept { ::operator delete[](p, std::align_val_t{alignment}); }
  static void copy(void* to, const void* from, std::size_t bytes) { std::memcpy(to, from, bytes); }
};

/// Sets every element (backend/cuda/transfer.cuh defines it for Cuda tensors).
template <class S, class T>
void fill(Tensor<S, Cpu, T>& t, T value) {
  std::fill_n(t.data(), t.size(), value);
}

/// Makes `to` an element-wise copy of `from` (same batch size).
template <class S, class T>
void copy(const Tensor<S, Cpu, T>& from, Tensor<S, Cpu, T>& to) {
  to.resize(from.batch(), from.extents());
  std::copy_n(from.data(), from.size(), to.data());
}

/// Copies `n` values from host memory into a buffer of this device (optimizer state, weights).
template <class T>
void backend::kernels<Cpu>::copy_from_host(std::int64_t n, const T* host, T* out) {
  if (n > 0) std::memcpy(out, host, static_cast<std::size_t>(n) * sizeof(T));
}

/// Copies `n` values of a buffer of this device into host memory (saving weights).
template <class T>
void backend::kernels<Cpu>::copy_to_host(std::int64_t n, const T* values, T* host) {
  if (n > 0) std::memcpy(host, values, static_cast<std::size_t>(n) * sizeof(T));
}

}  // namespace typenet
