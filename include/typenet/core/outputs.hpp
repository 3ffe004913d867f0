// typenet/core/outputs.hpp — the result of a network with several outputs.
//
// A network ending in Heads<A, B, ...> (nn/merge.hpp) has one output per
// head, each with its own shape: its output "shape" is Outputs<SA, SB, ...>
// and its output is a Tensors<Outputs<...>>, a tuple of references to the
// heads' tensors, read with structured bindings as PyTorch's `a, b = net(x)`:
//
//   const auto& [scores, boxes] = model.forward(x);  // Tensor<SA>, Tensor<SB>
//   model.backward(dscores, dboxes);                  // one gradient per output
//
// Code that handles a layer's activation names it `activation_t<S, D, T>`:
// a Tensor for a Shape, Tensors for Outputs.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

#include "typenet/core/device.hpp"
#include "typenet/core/shape.hpp"
#include "typenet/core/tensor.hpp"

namespace typenet {

/// The shapes of the outputs of a network with several heads, in order.
template <ShapeType... S>
struct Outputs {
  static_assert(sizeof...(S) >= 2, "Outputs needs at least two shapes");
  static constexpr std::size_t count = sizeof...(S);
  static constexpr bool is_static = (S::is_static && ...);
  static std::string str() {
    std::string s = "Outputs<";
    std::size_t i = 0;
    ((s += (i++ ? ", " : "") + S::str()), ...);
    return s + ">";
  }
};

template <class S>
inline constexpr bool is_outputs_v = false;
template <class... S>
inline constexpr bool is_outputs_v<Outputs<S...>> = true;
/// The number of outputs of Outputs<...>; 0 for a single Shape.
template <class S>
inline constexpr std::size_t outputs_count_v = 0;
template <class... S>
inline constexpr std::size_t outputs_count_v<Outputs<S...>> = sizeof...(S);

namespace detail {
template <class... S>
struct extents_of<Outputs<S...>> {
  using type = std::tuple<extents_t<S>...>;
};
}  // namespace detail

/// "(Shape<3, 8, 8>, Shape<4, 8, 8>)": the extents of every output.
template <class... E>
std::string extents_string(const std::tuple<E...>& e) {
  std::string s = "(";
  std::apply(
      [&](const auto&... part) {
        std::size_t i = 0;
        ((s += (i++ ? ", " : "") + extents_string(part)), ...);
      },
      e);
  return s + ")";
}

template <class O, class Device = Cpu, class T = float>
class Tensors;

/// One tensor per output, by reference: the heads' outputs after forward,
/// or the caller's gradients given to backward.
template <class... S, class Device, class T>
class Tensors<Outputs<S...>, Device, T> {
 public:
  using shape = Outputs<S...>;
  using device = Device;
  using scalar = T;

  Tensors() = default;
  explicit Tensors(const Tensor<S, Device, T>&... parts) : parts_(&parts...) {}

  /// Output I (structured bindings use this).
  template <std::size_t I>
  const auto& get() const {
    return *std::get<I>(parts_);
  }
  /// The batch of every output, or -1 when they differ.
  int batch() const {
    const int b = std::get<0>(parts_)->batch();
    return std::apply([&](const auto*... p) { return ((p->batch() == b) && ...) ? b : -1; },
                      parts_);
  }
  std::tuple<extents_t<S>...> extents() const {
    return std::apply([](const auto*... p) { return std::tuple<extents_t<S>...>(p->extents()...); },
                      parts_);
  }

 private:
  std::tuple<const Tensor<S, Device, T>*...> parts_{};
};

namespace detail {
template <class S, class Device, class T>
struct activation_of {
  using type = Tensor<S, Device, T>;
};
template <class... S, class Device, class T>
struct activation_of<Outputs<S...>, Device, T> {
  using type = Tensors<Outputs<S...>, Device, T>;
};
}  // namespace detail

/// What a layer of output shape S produces: a Tensor, or Tensors for Outputs.
template <class S, class Device, class T>
using activation_t = typename detail::activation_of<S, Device, T>::type;

}  // namespace typenet

template <class... S, class Device, class T>
struct std::tuple_size<typenet::Tensors<typenet::Outputs<S...>, Device, T>>
    : std::integral_constant<std::size_t, sizeof...(S)> {};
template <std::size_t I, class... S, class Device, class T>
struct std::tuple_element<I, typenet::Tensors<typenet::Outputs<S...>, Device, T>> {
  using type = const typenet::Tensor<std::tuple_element_t<I, std::tuple<S...>>, Device, T>;
};
