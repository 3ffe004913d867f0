// typenet/backend/cuda/memory.cuh — device memory: owning buffers and scratch.
//
// Memory comes from Thrust's allocator (cudaMalloc on a GPU, the heap on the
// host). `storage<T, Cuda>` is the memory behind a Cuda tensor; like the Cpu
// one it only grows, so a model that has seen its largest batch never
// allocates again. `scratch<T>(slot, n)` gives kernels temporary device
// buffers that grow to the largest request and are then reused.
#pragma once

#include <thrust/copy.h>
#include <thrust/device_free.h>
#include <thrust/device_malloc.h>
#include <thrust/device_ptr.h>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "typenet/backend/cuda/launch.cuh"
#include "typenet/core/storage.hpp"

namespace typenet {

template <class T>
class storage<T, Cuda> {
 public:
  storage() = default;
  storage(const storage& other) { assign(other.data_, other.size_); }
  storage(storage&& other) noexcept { swap(other); }
  storage& operator=(const storage& other) {
    if (this != &other) assign(other.data_, other.size_);
    return *this;
  }
  storage& operator=(storage&& other) noexcept {
    swap(other);
    return *this;
  }
  ~storage() { release(); }

  /// Makes room for `n` elements; keeps the contents when the capacity suffices.
  void resize(std::size_t n) {
    if (n > capacity_) {
      T* fresh = thrust::raw_pointer_cast(thrust::device_malloc<T>(n));
      if (size_ > 0)
        thrust::copy_n(cuda::policy(), thrust::device_pointer_cast(data_), size_,
                       thrust::device_pointer_cast(fresh));
      release();
      data_ = fresh;
      capacity_ = n;
    }
    size_ = n;
  }

  /// Device memory.
  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

  void swap(storage& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }

 private:
  void assign(const T* src, std::size_t n) {
    resize(n);
    if (n > 0)
      thrust::copy_n(cuda::policy(), thrust::device_pointer_cast(src), n,
                     thrust::device_pointer_cast(data_));
  }
  void release() noexcept {
    if (data_) {
      // A failed free (the context already torn down at exit) is not worth
      // terminating for in a destructor.
      try {
        thrust::device_free(thrust::device_pointer_cast(data_));
      } catch (...) {
      }
    }
    data_ = nullptr;
    capacity_ = size_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

namespace cuda {

/// Scratch slots: each holds one temporary buffer at a time.
enum class scratch_slot : int {
  columns = 0,        // im2col matrices
  gathered = 1,       // a tensor rearranged for one product (dy channel-major)
  partial_sums = 2,   // channel_sums' block sums
  channel_stats = 3,  // per-channel sums and constants
  labels = 4,         // class labels copied to the device
  loss = 5,           // per-sample losses
  count = 6
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
