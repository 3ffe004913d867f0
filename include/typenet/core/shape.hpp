// typenet/core/shape.hpp — the shape of one sample, as a type.
//
// `Shape<C, H, W>` is an image sample, `Shape<N>` a flat feature vector; the
// batch size is a run-time value and never part of the type. All shape
// arithmetic is constexpr so layers compute their output shapes (and refuse
// impossible ones) at compile time.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <type_traits>

#include "typenet/config.hpp"

namespace typenet {

template <int... Dims>
struct Shape {
  static_assert(sizeof...(Dims) >= 1, "Shape needs at least one dimension");
  static_assert(((Dims > 0) && ...), "every dimension of a Shape must be positive");

  static constexpr int rank = static_cast<int>(sizeof...(Dims));
  static constexpr std::array<int, sizeof...(Dims)> dims{Dims...};
  /// Number of elements of one sample.
  static constexpr std::int64_t size = (std::int64_t{1} * ... * std::int64_t{Dims});

  static std::string str() {
    std::string s = "Shape<";
    bool first = true;
    for (int d : dims) {
      if (!first) s += ", ";
      s += std::to_string(d);
      first = false;
    }
    return s + ">";
  }
};

namespace detail {
template <class T>
struct is_shape : std::false_type {};
template <int... Dims>
struct is_shape<Shape<Dims...>> : std::true_type {};
}  // namespace detail

template <class S>
inline constexpr bool is_shape_v = detail::is_shape<S>::value;

/// Any `Shape<...>`.
template <class S>
concept ShapeType = is_shape_v<S>;
/// `Shape<C, H, W>`: a feature map.
template <class S>
concept ImageShape = ShapeType<S> && S::rank == 3;
/// `Shape<N>`: a flat feature vector.
template <class S>
concept FlatShape = ShapeType<S> && S::rank == 1;

/// Output length of a sliding window (convolution, pooling), PyTorch's formula.
/// May be zero or negative: callers turn that into a readable compile error.
TYPENET_HOST_DEVICE constexpr int sliding_output(int in, int kernel, int stride, int pad_before,
                                                 int pad_after, int dilation, bool ceil_mode) {
  const int span = in + pad_before + pad_after - dilation * (kernel - 1) - 1;
  if (span < 0) return 0;
  int out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // PyTorch: the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * stride >= in + pad_before) --out;
  return out;
}

}  // namespace typenet
