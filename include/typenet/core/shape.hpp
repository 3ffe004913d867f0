// typenet/core/shape.hpp — the shape of one sample, as a type.
//
// `Shape<C, H, W>` is an image sample, `Shape<N>` a flat feature vector; the
// batch size is a run-time value and never part of the type. All shape
// arithmetic is constexpr so layers compute their output shapes (and refuse
// impossible ones) at compile time.
//
// Extents after the first may be `dyn` (like std::dynamic_extent in
// std::mdspan, Eigen's Dynamic): `Shape<3, dyn, dyn>` is an RGB image of any
// size, chosen per batch at run time. The first extent (the channels of an
// image, the features of a vector) is always static: it fixes the parameter
// shapes, which stay compile-time facts. A shape's run-time extents are an
// `extents_t<S>` (one int per dimension, the static ones included).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <type_traits>

#include "typenet/config.hpp"

namespace typenet {

/// An extent chosen at run time: `Shape<3, dyn, dyn>`.
inline constexpr int dyn = -1;

namespace detail {
/// `size` (elements per sample) exists only when every extent is static, so
/// code that needs it at compile time fails to compile on a dynamic shape.
template <bool Static, std::int64_t Size>
struct static_size {};
template <std::int64_t Size>
struct static_size<true, Size> {
  /// Number of elements of one sample.
  static constexpr std::int64_t size = Size;
};
}  // namespace detail

template <int... Dims>
struct Shape
    : detail::static_size<((Dims != dyn) && ...), (std::int64_t{1} * ... * std::int64_t{Dims})> {
  static_assert(sizeof...(Dims) >= 1, "Shape needs at least one dimension");
  static_assert(((Dims > 0 || Dims == dyn) && ...),
                "every dimension of a Shape must be positive or tn::dyn");

  static constexpr int rank = static_cast<int>(sizeof...(Dims));
  /// The extents, `dyn` (-1) where chosen at run time.
  static constexpr std::array<int, sizeof...(Dims)> dims{Dims...};
  static_assert(dims[0] != dyn,
                "the first extent of a Shape (channels, features) is static: it fixes the "
                "parameter shapes; only the later ones (height, width) may be tn::dyn");
  /// True when no extent is `dyn`.
  static constexpr bool is_static = ((Dims != dyn) && ...);
  /// Number of `dyn` extents.
  static constexpr int dynamic_rank = ((Dims == dyn ? 1 : 0) + ...);

  /// "Shape<3, 224, 224>", "Shape<3, dyn, dyn>".
  static std::string str() {
    std::string s = "Shape<";
    bool first = true;
    for (int d : dims) {
      if (!first) s += ", ";
      s += d == dyn ? std::string("dyn") : std::to_string(d);
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
/// A shape with no `dyn` extent.
template <class S>
concept StaticShape = ShapeType<S> && S::is_static;

namespace detail {
template <class S>
struct extents_of {
  using type = std::array<int, S::rank>;
};
}  // namespace detail

/// The run-time extents of a sample of shape S: one per dimension (a tuple
/// of them for the Outputs of a network with several heads, core/outputs.hpp).
template <class S>
using extents_t = typename detail::extents_of<S>::type;

/// Elements of one sample with these extents.
template <std::size_t Rank>
constexpr std::int64_t extents_size(const std::array<int, Rank>& e) noexcept {
  std::int64_t n = 1;
  for (int d : e) n *= d;
  return n;
}

/// Whether `e` are extents of shape S: the static ones equal, the dynamic
/// ones at least 1.
template <class S>
constexpr bool extents_match(const extents_t<S>& e) noexcept {
  for (int d = 0; d < S::rank; ++d)
    if (S::dims[d] == dyn ? e[d] < 1 : e[d] != S::dims[d]) return false;
  return true;
}

/// "Shape<3, 97, 131>": extents as a shape would print.
template <std::size_t Rank>
std::string extents_string(const std::array<int, Rank>& e) {
  std::string s = "Shape<";
  for (std::size_t d = 0; d < Rank; ++d) s += (d ? ", " : "") + std::to_string(e[d]);
  return s + ">";
}

/// An output extent: `dyn` where the input extent it comes from is dynamic,
/// else the computed one (at least 1, so a rejected shape still names a type).
constexpr int static_or_dyn(int in, int computed) {
  return in == dyn ? dyn : (computed < 1 ? 1 : computed);
}

/// {C, H, W} of an image shape (`dyn` where dynamic), {1, 1, 1} for any
/// other rank: lets a layer name its output type even for an input its
/// check() rejects.
template <class S>
constexpr std::array<int, 3> image_dims() {
  if constexpr (S::rank == 3) {
    return S::dims;
  } else {
    return {1, 1, 1};
  }
}

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
