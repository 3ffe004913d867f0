// typenet/core/storage.hpp — owning, growable device buffers.
//
// `storage<T, Device>` is the memory behind a Tensor. It only ever grows: a
// tensor resized to a smaller batch keeps its capacity, so a model that has
// seen its largest batch never allocates again. The Cpu buffer is 64-byte
// aligned for vector loads; backend/cuda specialises it for device memory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <utility>

#include "typenet/core/device.hpp"

namespace typenet {

template <class T, class Device>
class storage;

template <class T>
class storage<T, Cpu> {
 public:
  static constexpr std::size_t alignment = 64;

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
      T* fresh = static_cast<T*>(::operator new[](n * sizeof(T), std::align_val_t{alignment}));
      if (size_ > 0) std::memcpy(fresh, data_, size_ * sizeof(T));
      release();
      data_ = fresh;
      capacity_ = n;
    }
    size_ = n;
  }

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
    if (n > 0) std::memcpy(data_, src, n * sizeof(T));
  }
  void release() noexcept {
    if (data_) ::operator delete[](data_, std::align_val_t{alignment});
    data_ = nullptr;
    capacity_ = size_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace typenet
