// typenet/core/layer.hpp — what a layer is.
//
// A layer is a small type describing a computation (`Conv2d<64, 3>`), not an
// object holding weights. For an input shape `In`, a device and a scalar it
// provides:
//
//   template <class In> using output_shape   the shape it produces (`dyn`
//                                           where it follows a dynamic input extent),
//   template <class In> static constexpr extents_t<output_shape<In>>
//       output_extents(const extents_t<In>&) the extents it produces at run time
//                                           (< 1 where the input is too small),
//   template <class In, class Where, bool Diagnose = true> static constexpr bool check()
//                                           compile-time validation; a failure
//                                           instantiates a diagnostic carrier
//                                           whose name tells the story,
//   template <class In, class D, class T> using parameters
//                                           learnable state (shared between
//                                           models of different input sizes),
//   template <class In, class D, class T> struct node
//                                           activations and scratch for one
//                                           batch plan (plan(batch, in, out)
//                                           with the run-time extents), with
//                                           forward/backward,
//   static std::string type_name()          the type as a user would write it.
//
// Derive from layer_base to get the defaults of a layer without parameters.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <vector>

#include "typenet/core/context.hpp"
#include "typenet/core/device.hpp"
#include "typenet/core/diagnostics.hpp"
#include "typenet/core/fixed_string.hpp"
#include "typenet/core/parameter.hpp"
#include "typenet/core/shape.hpp"
#include "typenet/core/tensor.hpp"

namespace typenet {

// ---- where a layer sits, for diagnostics -------------------------------------------------

/// The outermost layer of a Model.
struct at_model_root {};
/// Child number `Index` of the container at `Parent`.
template <std::size_t Index, class Parent = at_model_root>
struct at_child {};
/// A child wrapped in Named<Name, ...> of the container at `Parent`.
template <fixed_string Name, class Parent = at_model_root>
struct at_named {};

// ---- summary rows ------------------------------------------------------------------------

struct summary_row {
  std::string name;
  std::string type;
  std::string output_shape;
  std::int64_t parameters = 0;
  std::int64_t flops = 0;  ///< per sample, forward
  int depth = 0;
};

// ---- defaults ----------------------------------------------------------------------------

/// Defaults for a layer without parameters whose output has the input's shape.
struct layer_base {
  template <class In>
  using output_shape = In;

  template <class In>
  static constexpr extents_t<In> output_extents(const extents_t<In>& in) {
    return in;
  }

  template <class In, class Where, bool Diagnose = true>
  static constexpr bool check() {
    return true;
  }

  template <class In, class Device, class T>
  using parameters = no_parameters;

  /// Floating-point operations per sample in forward (a multiply-add counts 2).
  template <class In>
  static constexpr std::int64_t flops = 0;
};

/// Storage every node needs: its output and the gradient with respect to its input.
template <class In, class Out, class Device, class T>
struct node_io {
  Tensor<Out, Device, T> y;
  Tensor<In, Device, T> dx;  ///< sized by size_input_grad before a backward that needs it

  /// Sizes the output for `batch` samples of extents `in`, giving `out`
  /// (storage only grows: a size seen before allocates nothing).
  void plan(int batch, const extents_t<In>&, const extents_t<Out>& out) { y.resize(batch, out); }
  const Tensor<Out, Device, T>& output() const { return y; }
};

/// Sizes a node's input gradient for its input `x` before a backward that
/// computes it. Planning sizes only the outputs, so a model that runs only
/// forward (inference) never allocates input gradients, about half of its
/// activation memory; containers call this for their children.
template <class Node, class X>
void size_input_grad(Node& node, const X& x, bool needed) {
  if constexpr (requires { node.dx.resize(x.batch(), x.extents()); }) {
    if (needed) node.dx.resize(x.batch(), x.extents());
  }
}

/// `L` is a layer that accepts input shape `In`: it has the layer interface
/// and its compile-time checks pass (asked without producing diagnostics).
template <class L, class In>
concept LayerFor = ShapeType<In> && requires {
  typename L::template output_shape<In>;
  {
    L::template output_extents<In>(In::dims)
    } -> std::same_as<extents_t<typename L::template output_shape<In>>>;
  typename L::template parameters<In, Cpu, float>;
  typename L::template node<In, Cpu, float>;
  { L::type_name() } -> std::convertible_to<std::string>;
} && L::template check<In, at_model_root, false>();

template <class L, class In>
using output_shape_t = typename L::template output_shape<In>;

/// The extents L produces from input extents `in`.
template <class L, class In>
constexpr extents_t<output_shape_t<L, In>> output_extents_of(const extents_t<In>& in) {
  return L::template output_extents<In>(in);
}
template <class L, class In, class Device = Cpu, class T = float>
using parameters_t = typename L::template parameters<In, Device, T>;
template <class L, class In, class Device = Cpu, class T = float>
using node_t = typename L::template node<In, Device, T>;

}  // namespace typenet
