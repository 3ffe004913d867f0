// typenet/nn/scope.hpp — earlier outputs that later layers reach by name.
//
// In a Sequential, the output of a Named child is visible by its name to the
// children after it and to everything inside them: a U-Net's decoder block
// reads the encoder's output "down3" with `From<"down3">` (nn/from.hpp) the
// way PyTorch's forward passes `x4` to `self.up1(x5, x4)`. The visible names
// form a compile-time environment `Env`, an mp_list of scope_entry<Name,
// Shape> (innermost last). A container rebinds a child that refers to names
// to the names before it (`in_scope_t<Child, Env>`, a Bound<Env, Child>),
// so the child's shapes, parameters and checks see the shapes of those
// outputs. At run time the same environment is a tuple of extents (planning
// and run-time checks) and a scope_frame of pointers (the outputs in
// forward, their gradient accumulators in backward), passed down in
// run_context::scope. A network without references instantiates none of it.
#pragma once

#include <array>
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "typenet/core/context.hpp"
#include "typenet/core/fixed_string.hpp"
#include "typenet/core/layer.hpp"
#include "typenet/nn/extent_check.hpp"
#include "typenet/nn/named.hpp"
#include "typenet/nn/summary.hpp"

namespace typenet {

/// A name visible to later layers: the output of an earlier Named child, of shape S.
template <fixed_string Name, class S>
struct scope_entry {
  static constexpr auto name = Name;
  using shape = S;
};

/// A name a layer refers to, as a type (free_names lists hold these).
template <fixed_string Name>
struct name_tag {
  static constexpr auto value = Name;
};

namespace detail {
template <class L, class = void>
struct free_names_of {
  using type = boost::mp11::mp_list<>;
};
template <class L>
struct free_names_of<L, std::void_t<typename L::free_names>> {
  using type = typename L::free_names;
};
}  // namespace detail

/// The names L refers to that no container inside it binds (mp_list of name_tag).
template <class L>
using free_names_t = typename detail::free_names_of<unnamed_t<L>>::type;

/// Whether L (or something inside it) reads an earlier output by name.
template <class L>
inline constexpr bool uses_scope_v = !boost::mp11::mp_empty<free_names_t<L>>::value;

namespace detail {
template <class L, class Env, bool Scoped>
struct in_scope_of {
  using type = L;
};
template <class L, class Env>
struct in_scope_of<L, Env, true> {
  using type = typename L::template in_scope<Env>;
};
}  // namespace detail

/// L with the names of Env visible: L::in_scope<Env> when L refers to names, L otherwise
/// (so a network without references keeps its types).
template <class L, class Env>
using in_scope_t = typename detail::in_scope_of<L, Env, uses_scope_v<L>>::type;

namespace detail {
template <fixed_string Name, class... E>
constexpr std::size_t slot_in(boost::mp11::mp_list<E...>) {
  constexpr std::array<bool, sizeof...(E)> named{(E::name == Name)...};
  for (std::size_t i = sizeof...(E); i-- > 0;)
    if (named[i]) return i;
  return sizeof...(E);
}
}  // namespace detail

/// Position of the innermost entry named Name in Env, or mp_size<Env> when there is none.
template <class Env, fixed_string Name>
constexpr std::size_t scope_slot() {
  return detail::slot_in<Name>(Env{});
}

template <class Env, fixed_string Name>
inline constexpr bool in_scope_v = scope_slot<Env, Name>() < boost::mp11::mp_size<Env>::value;

namespace detail {
// By slot, not by name: nvcc's front end does not match a class-type
// template argument (the name) in a partial specialization.
template <class Env, std::size_t Slot, class Fallback,
          bool Found = (Slot < boost::mp11::mp_size<Env>::value)>
struct scope_shape_of {
  using type = Fallback;
};
template <class Env, std::size_t Slot, class Fallback>
struct scope_shape_of<Env, Slot, Fallback, true> {
  using type = typename boost::mp11::mp_at_c<Env, Slot>::shape;
};
}  // namespace detail

/// The shape of the output named Name in Env (Fallback when there is none, so
/// that the carrier of the check, not a type error, reports it).
template <class Env, fixed_string Name, class Fallback>
using scope_shape = typename detail::scope_shape_of<Env, scope_slot<Env, Name>(), Fallback>::type;

namespace detail {
template <class E>
using entry_extents = extents_t<typename E::shape>;
}
/// The run-time extents of Env's outputs, in Env's order.
template <class Env>
using scope_extents =
    boost::mp11::mp_rename<boost::mp11::mp_transform<detail::entry_extents, Env>, std::tuple>;

/// Run-time pointers to the outputs of an Env, in its order, and to where
/// their gradients accumulate (null for an output no later layer reads).
/// The types are Env's: outputs[i] is a `const Tensor<shape_i, D, T>*`.
struct scope_frame {
  const void* const* outputs = nullptr;
  void* const* grads = nullptr;
};

/// After the forward of the Named child that produced it: the output in
/// `slot` of the frame (`scope_slot<Env, Name>()`), of shape S.
template <class S, class D, class T>
const Tensor<S, D, T>& scope_output(const run_context& ctx, std::size_t slot) {
  return *static_cast<const Tensor<S, D, T>*>(ctx.scope->outputs[slot]);
}
/// In backward: the gradient accumulator of the output in `slot`.
template <class S, class D, class T>
Tensor<S, D, T>& scope_grad(const run_context& ctx, std::size_t slot) {
  return *static_cast<Tensor<S, D, T>*>(ctx.scope->grads[slot]);
}

// ---- what containers call for a child that may refer to names ------------------------------

/// The output extents of L (rebound by in_scope_t) for input extents `in`.
template <class L, class In, class Env>
constexpr extents_t<output_shape_t<L, In>> output_extents_in(const extents_t<In>& in,
                                                             const scope_extents<Env>& env) {
  if constexpr (uses_scope_v<L>) {
    return unnamed_t<L>::template output_extents<In>(in, env);
  } else {
    return output_extents_of<L, In>(in);
  }
}

/// fits_extents for a child that may refer to names (checked with their run-time extents).
template <class L, class In, class Env>
bool fits_extents_in(const extents_t<In>& in, extent_misfit* why, const scope_extents<Env>& env) {
  if constexpr (uses_scope_v<L>) {
    return unnamed_t<L>::template fits<In>(in, why, env);
  } else {
    return fits_extents<L, In>(in, why);
  }
}

/// Plans a child's node, giving it the names' extents when it takes them.
template <class Node, class InE, class OutE, class EnvE>
void plan_in(Node& node, int batch, const InE& in, const OutE& out, const EnvE& env) {
  if constexpr (requires { node.plan(batch, in, out, env); }) {
    node.plan(batch, in, out, env);
  } else {
    node.plan(batch, in, out);
  }
}

/// X (a container or a layer that refers to names) with the names of Env
/// visible: the layer interface with Env filled in.
template <class Env, class X>
struct Bound {
  using layer = X;
  using env = Env;
  using free_names = free_names_t<X>;
  static constexpr bool ignores_input = requires { requires X::ignores_input; };

  template <class In>
  using output_shape = typename X::template output_shape<In, Env>;

  template <class In>
  static constexpr extents_t<output_shape<In>> output_extents(const extents_t<In>& in,
                                                              const scope_extents<Env>& e) {
    return X::template output_extents<In, Env>(in, e);
  }
  template <class In>
  static bool fits(const extents_t<In>& in, extent_misfit* why, const scope_extents<Env>& e) {
    return X::template fits<In, Env>(in, why, e);
  }
  template <class In, class Where, bool Diagnose = true>
  static constexpr bool check() {
    return X::template check<In, Where, Diagnose, Env>();
  }
  template <class In, class Device, class T>
  using parameters = typename X::template parameters<In, Device, T, Env>;
  template <class In, class Device, class T>
  using node = typename X::template node<In, Device, T, Env>;
  template <class In>
  static constexpr std::int64_t flops = X::template flops<In, Env>;

  template <class In>
  static void summarize(std::vector<summary_row>& rows, const std::string& name, int depth) {
    if constexpr (requires { X::template summarize<In, Env>(rows, name, depth); }) {
      X::template summarize<In, Env>(rows, name, depth);
    } else {
      summarize_leaf<Bound, In>(rows, name, depth);
    }
  }
  static std::string type_name() { return X::type_name(); }
};

}  // namespace typenet
