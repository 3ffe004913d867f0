// typenet/core/tensor.hpp — a batch of samples of one compile-time shape.
//
// `Tensor<Shape<C, H, W>>` holds `batch() x C x H x W` values in NCHW order
// (PyTorch's layout), float32 on the CPU unless told otherwise. The sample
// shape is a type, the batch size a value; so are the extents of a dynamic
// shape (`Tensor<Shape<3, dyn, dyn>> x(1, {3, 300, 451})`). Element access `t(n, c, h, w)` is
// for the CPU; kernels work on `data()`.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <type_traits>

#include "typenet/core/device.hpp"
#include "typenet/core/errors.hpp"
#include "typenet/core/shape.hpp"
#include "typenet/core/storage.hpp"

namespace typenet {

template <ShapeType S, class Device = Cpu, class T = float>
class Tensor {
 public:
  using shape = S;
  using device = Device;
  using scalar = T;
  using extents_type = extents_t<S>;

  Tensor() = default;
  explicit Tensor(int batch) { resize(batch); }
  /// A batch of `batch` samples of the given extents (for a dynamic shape).
  Tensor(int batch, const extents_type& extents) { resize(batch, extents); }

  /// Sets the batch size; memory is reallocated only when it grows. A
  /// dynamic tensor keeps its extents (0 for the dynamic ones until set).
  void resize(int batch) {
    if (batch < 0) throw shape_error("Tensor: negative batch size " + std::to_string(batch));
    batch_ = batch;
    storage_.resize(static_cast<std::size_t>(batch) * static_cast<std::size_t>(sample_size()));
  }
  /// Sets the batch size and the extents of one sample (the static ones must
  /// be S's); memory is reallocated only when the total grows.
  void resize(int batch, const extents_type& extents) {
    if (!extents_match<S>(extents))
      throw shape_error("Tensor<" + S::str() + ">: extents " + extents_string(extents) +
                        " do not fit the shape (static extents must match, dynamic ones be "
                        "positive)");
    if constexpr (!S::is_static) extents_ = extents;
    resize(batch);
  }

  int batch() const noexcept { return batch_; }
  /// The extents of one sample (S::dims for a static shape).
  const extents_type& extents() const noexcept {
    if constexpr (S::is_static) {
      return S::dims;
    } else {
      return extents_;
    }
  }
  int extent(int d) const noexcept { return extents()[d]; }
  /// Number of elements of one sample.
  std::int64_t sample_size() const noexcept {
    if constexpr (S::is_static) {
      return S::size;
    } else {
      return extents_size(extents_);
    }
  }
  /// Number of elements over the whole batch.
  std::int64_t size() const noexcept { return std::int64_t{batch_} * sample_size(); }
  T* data() noexcept { return storage_.data(); }
  const T* data() const noexcept { return storage_.data(); }

  std::span<T> values() noexcept requires std::same_as<Device, Cpu> {
    return {data(), static_cast<std::size_t>(size())};
  }
  std::span<const T> values() const noexcept requires std::same_as<Device, Cpu> {
    return {data(), static_cast<std::size_t>(size())};
  }

  /// Sample `n`, element at `index...` (one index per dimension of the shape).
  template <std::integral... I>
  requires(sizeof...(I) == S::rank && std::same_as<Device, Cpu>) T& operator()(
      int n, I... index) noexcept {
    return data()[offset(n, index...)];
  }
  template <std::integral... I>
  requires(sizeof...(I) == S::rank && std::same_as<Device, Cpu>) const T& operator()(
      int n, I... index) const noexcept {
    return data()[offset(n, index...)];
  }

  void fill(T value) requires std::same_as<Device, Cpu> {
    for (auto& v : values()) v = value;
  }

 private:
  template <class... I>
  std::int64_t offset(int n, I... index) const noexcept {
    const extents_type& e = extents();
    std::int64_t flat = n;
    int d = 0;
    ((flat = flat * e[d++] + static_cast<std::int64_t>(index)), ...);
    return flat;
  }

  /// A static shape stores no extents; a dynamic one starts with 0 for its
  /// dynamic extents (an empty sample until resized).
  struct no_extents {};
  using stored_extents = std::conditional_t<S::is_static, no_extents, extents_type>;
  static constexpr stored_extents initial_extents() {
    if constexpr (S::is_static) {
      return {};
    } else {
      extents_type e = S::dims;
      for (int& d : e)
        if (d == dyn) d = 0;
      return e;
    }
  }

  storage<T, Device> storage_;
  int batch_ = 0;
  [[no_unique_address]] stored_extents extents_ = initial_extents();
};

}  // namespace typenet
