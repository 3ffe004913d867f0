// typenet/backend/cuda/memory.cuh — device memory: owning buffers and scratch.
//
// Memory comes from Thrust's allocator (cudaMalloc on a GPU, the heap on the
// host): device_memory<Cuda> is what storage<T, Cuda>, the memory behind a
// Cuda tensor, allocates with; like the Cpu one it only grows.
// `scratch<T>(slot, n)` gives kernels temporary device buffers that grow to
// the largest request and are then reused.
#pragma once

#include <thrust/copy.h>
#include <thrust/device_free.h>
#include <thrust/device_malloc.h>
#include <thrust/device_ptr.h>
#include <cstddef>
#include <cstdint>

#include "typenet/backend/cuda/launch.cuh"
#include "typenet/core/storage.hpp"

namespace typenet {

template <>
struct device_memory<Cuda> {
  static void* allocate(std::size_t bytes) {
    return thrust::raw_pointer_cast(thrust::device_malloc<std::byte>(bytes));
  }
  static void release(void* p) noexcept {
    // A failed free (the context already torn down at exit) is not worth
    // terminating for in a destructor.
    try {
      thrust::device_free(thrust::device_pointer_cast(static_cast<std::byte*>(p)));
    } catch (...) {
    }
  }
  /// Device to device, queued behind the kernels before it.
  static void copy(void* to, const void* from, std::size_t bytes) {
    thrust::copy_n(cuda::policy(), thrust::device_pointer_cast(static_cast<const std::byte*>(from)),
                   bytes, thrust::device_pointer_cast(static_cast<std::byte*>(to)));
  }
};

namespace cuda {

/// Scratch slots: each holds one temporary buffer at a time.
enum class scratch_slot : int {
  columns = 0,           // im2col matrices
  gathered = 1,          // a tensor rearranged for one product (dy channel-major)
  partial_sums = 2,      // channel_sums' block sums
  channel_stats = 3,     // per-channel sums and constants
  labels = 4,            // class labels copied to the device
  loss = 5,              // a loss's terms, one per element or position
  class_weights = 6,     // a loss's weights copied to the device
  positive_weights = 7,  // BCEWithLogitsLoss's pos_weight copied to the device
  loss_sum = 8,          // the sum of a loss's terms
  count = 9
};

namespace detail {
inline storage<std::byte, Cuda>& scratch_for(scratch_slot slot) {
  thread_local storage<std::byte, Cuda> blocks[static_cast<int>(scratch_slot::count)];
  return blocks[static_cast<int>(slot)];
}
}  // namespace detail

/// At least `count` elements of T in device memory, valid until the calling
/// thread asks the same slot again. Contents are unspecified.
template <class T>
T* scratch(scratch_slot slot, std::size_t count) {
  auto& block = detail::scratch_for(slot);
  const std::size_t bytes = count * sizeof(T);
  // Grown without keeping the old contents, which nobody may rely on.
  if (bytes > block.size()) {
    storage<std::byte, Cuda> fresh;
    fresh.resize(bytes);
    block.swap(fresh);
  }
  return reinterpret_cast<T*>(block.data());
}

}  // namespace cuda
}  // namespace typenet
