// typenet/core/storage.hpp — owning, growable device buffers.
//
// `storage<T, Device>` is the memory behind a Tensor. It only ever grows: a
// tensor resized to a smaller batch keeps its capacity, so a model that has
// seen its largest batch never allocates again. Where the bytes live is
// `device_memory<Device>`'s business, which each backend defines
// (backend/cpu/memory.hpp, backend/cuda/memory.cuh): core knows no device's
// memory. T is trivially copyable (float, double, int32).
#pragma once

#include <algorithm>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "typenet/core/device.hpp"

namespace typenet {

/// allocate(bytes), release(pointer) and copy(to, from, bytes) of a device's memory.
template <class Device>
struct device_memory;

/// Whether a backend header defined device_memory<Device> in this translation unit.
template <class Device>
concept has_device_memory = requires {
  sizeof(device_memory<Device>);
};

template <class T, class Device>
class storage {
  static_assert(std::is_trivially_copyable_v<T>, "storage holds trivially copyable values");
  static_assert(has_device_memory<Device>,
                "typenet: this device's backend is not included: <typenet/nn.hpp> brings the Cpu "
                "backend, <typenet/cuda.cuh> (nvcc) the Cuda one");
  using memory = device_memory<Device>;

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
      T* fresh = static_cast<T*>(memory::allocate(n * sizeof(T)));
      if (size_ > 0) memory::copy(fresh, data_, size_ * sizeof(T));
      release();
      data_ = fresh;
      capacity_ = n;
    }
    size_ = n;
  }

  /// The device's memory (device pointers for Cuda).
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
    if (n > 0) memory::copy(data_, src, n * sizeof(T));
  }
  void release() noexcept {
    if (data_) memory::release(data_);
    data_ = nullptr;
    capacity_ = size_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace typenet
