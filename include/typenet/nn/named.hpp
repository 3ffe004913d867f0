// typenet/nn/named.hpp — Named<"name", Layer>: a child with a state_dict name.
//
// Inside a Sequential, children are keyed "0", "1", ... like nn.Sequential;
// wrapping a child in Named<"conv1", ...> keys it "conv1" instead, which is
// how torchvision's attribute names (conv1, bn1, layer1, fc) are spelled.
// Otherwise Named is transparent: same shapes, parameters and computation.
#pragma once

#include <string>
#include <type_traits>

#include "typenet/core/fixed_string.hpp"
#include "typenet/core/layer.hpp"

namespace typenet {

namespace detail {
template <class L, class Env, bool Scoped>
struct in_scope_of;  // nn/scope.hpp
}  // namespace detail

template <fixed_string Name, class Layer>
requires(!Name.empty() && !Name.contains('.')) struct Named {
  using layer = Layer;
  using named_child = void;  ///< marks a Named (detail::child_traits)
  static constexpr auto name = Name;

  template <class In>
  using output_shape = typename Layer::template output_shape<In>;

  template <class In>
  static constexpr extents_t<output_shape<In>> output_extents(const extents_t<In>& in) {
    return Layer::template output_extents<In>(in);
  }

  template <class In, class Where, bool Diagnose = true>
  static constexpr bool check() {
    return Layer::template check<In, Where, Diagnose>();
  }

  template <class In, class Device, class T>
  using parameters = typename Layer::template parameters<In, Device, T>;

  template <class In, class Device, class T>
  using node = typename Layer::template node<In, Device, T>;

  template <class In>
  static constexpr std::int64_t flops = Layer::template flops<In>;

  /// The layer with the earlier outputs of Env visible by name (nn/scope.hpp).
  template <class Env>
  using in_scope = Named<Name, typename detail::in_scope_of<Layer, Env, true>::type>;

  static std::string type_name() {
    return "Named<\"" + Name.str() + "\", " + Layer::type_name() + ">";
  }
};

namespace detail {
// Named is recognised by a member, not by a partial specialization on
// Named<Name, L>: nvcc's front end does not match a class-type template
// argument (the name) in a partial specialization.
template <class L, class = void>
struct child_traits {
  using layer = L;
  static constexpr bool named = false;
};
template <class L>
struct child_traits<L, std::void_t<typename L::named_child>> {
  using layer = typename L::layer;
  static constexpr bool named = true;
  static constexpr auto name = L::name;
};

/// Where child I of a container sits, for diagnostics.
template <class C, std::size_t I, class Where, bool Named = child_traits<C>::named>
struct where_for {
  using type = at_child<I, Where>;
};
template <class C, std::size_t I, class Where>
struct where_for<C, I, Where, true> {
  using type = at_named<C::name, Where>;
};
}  // namespace detail

/// Whether `L` is a Named<...>.
template <class L>
inline constexpr bool is_named_v = detail::child_traits<L>::named;

/// The layer inside a Named<...>, or `L` itself.
template <class L>
using unnamed_t = typename detail::child_traits<L>::layer;

}  // namespace typenet
