// typenet/backend/view.hpp — what a kernel receives: typed, non-owning views of device memory.
//
// A view is a pointer, its run-time extents and its strides (in elements),
// like std::mdspan with dynamic extents: kernels do not depend on a network's
// compile-time shapes, so one instantiation serves every layer. The interface
// (backend/interface.hpp) checks the extents of a kernel's operands against
// one another before the kernel runs; backends read contiguous memory.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "typenet/core/tensor.hpp"

namespace typenet::detail {
/// "[2, 64, 8, 8]".
inline std::string extents_string(std::span<const std::int64_t> extents) {
  std::string s = "[";
  for (std::size_t d = 0; d < extents.size(); ++d)
    s += (d ? ", " : "") + std::to_string(extents[d]);
  return s + "]";
}

template <std::size_t Rank, std::size_t... I>
constexpr std::array<std::int64_t, Rank + 1> batch_extents(int batch,
                                                           const std::array<int, Rank>& sample,
                                                           std::index_sequence<I...>) {
  return {std::int64_t{batch}, std::int64_t{sample[I]}...};
}
template <std::size_t Rank, std::size_t... I>
constexpr std::array<std::int64_t, Rank> sample_extents(const std::array<int, Rank>& sample,
                                                        std::index_sequence<I...>) {
  return {std::int64_t{sample[I]}...};
}
}  // namespace typenet::detail

namespace typenet::backend {

/// `Rank` extents and strides over `T` values at `data` (device memory for Cuda).
template <class T, std::size_t Rank>
struct view {
  static constexpr std::size_t rank = Rank;
  T* data = nullptr;
  std::array<std::int64_t, Rank> extents{};
  std::array<std::int64_t, Rank> strides{};

  /// Number of elements (the product of the extents; 1 for rank 0).
  constexpr std::int64_t size() const noexcept {
    std::int64_t n = 1;
    for (std::int64_t e : extents) n *= e;
    return n;
  }
  constexpr std::int64_t extent(std::size_t d) const noexcept { return extents[d]; }
  /// True when the elements are packed in row-major order (the only layout kernels take).
  constexpr bool is_contiguous() const noexcept {
    std::int64_t expected = 1;
    for (std::size_t d = Rank; d-- > 0;) {
      if (extents[d] != 1 && strides[d] != expected) return false;
      expected *= extents[d];
    }
    return true;
  }
  /// "[2, 64, 8, 8]", for error messages.
  std::string extents_string() const { return typenet::detail::extents_string(extents); }
  /// A read-only view of the same memory (a template, so that a view of
  /// const values declares no conversion to its own type).
  template <class U>
  requires(std::is_same_v<U, const T> && !std::is_const_v<T>) constexpr operator view<U, Rank>()
      const noexcept {
    return {data, extents, strides};
  }
};

/// A packed row-major view of `extents` at `data`.
template <class T, std::size_t Rank>
constexpr view<T, Rank> contiguous_view(T* data, const std::array<std::int64_t, Rank>& extents) {
  view<T, Rank> v{data, extents, {}};
  std::int64_t stride = 1;
  for (std::size_t d = Rank; d-- > 0;) {
    v.strides[d] = stride;
    stride *= extents[d];
  }
  return v;
}

/// `n` values at `data` as a vector.
template <class T>
constexpr view<T, 1> vector_view(T* data, std::int64_t n) {
  return {data, {n}, {1}};
}

/// An absent optional operand (a layer without bias, a kernel asked for no input gradient).
template <class T, std::size_t Rank = 1>
constexpr view<T, Rank> no_view() {
  return {};
}

/// A tensor's whole batch, batch first: (N, C, H, W) for a batch of images.
template <class S, class D, class T>
view<T, S::rank + 1> batch_view(Tensor<S, D, T>& t) {
  return contiguous_view(
      t.data(),
      typenet::detail::batch_extents(t.batch(), t.extents(), std::make_index_sequence<S::rank>{}));
}
template <class S, class D, class T>
view<const T, S::rank + 1> batch_view(const Tensor<S, D, T>& t) {
  return contiguous_view(
      t.data(),
      typenet::detail::batch_extents(t.batch(), t.extents(), std::make_index_sequence<S::rank>{}));
}

/// One sample of the shape (a parameter is a tensor of batch 1): (O, I, kH, kW) for a weight.
template <class S, class D, class T>
view<T, S::rank> sample_view(Tensor<S, D, T>& t) {
  return contiguous_view(
      t.data(), typenet::detail::sample_extents(t.extents(), std::make_index_sequence<S::rank>{}));
}
template <class S, class D, class T>
view<const T, S::rank> sample_view(const Tensor<S, D, T>& t) {
  return contiguous_view(
      t.data(), typenet::detail::sample_extents(t.extents(), std::make_index_sequence<S::rank>{}));
}

/// A tensor's batch as (N, C, positions): the first dimension of the sample
/// as channels, the rest flattened (BatchNorm, Softmax, channel biases).
template <class S, class D, class T>
view<T, 3> channel_view(Tensor<S, D, T>& t) {
  return contiguous_view(
      t.data(), std::array<std::int64_t, 3>{t.batch(), S::dims[0], t.sample_size() / S::dims[0]});
}
template <class S, class D, class T>
view<const T, 3> channel_view(const Tensor<S, D, T>& t) {
  return contiguous_view(
      t.data(), std::array<std::int64_t, 3>{t.batch(), S::dims[0], t.sample_size() / S::dims[0]});
}

/// Every element of a tensor as one vector (for the element-wise kernels).
template <class S, class D, class T>
view<T, 1> flat_view(Tensor<S, D, T>& t) {
  return vector_view(t.data(), t.size());
}
template <class S, class D, class T>
view<const T, 1> flat_view(const Tensor<S, D, T>& t) {
  return vector_view(t.data(), t.size());
}

}  // namespace typenet::backend
