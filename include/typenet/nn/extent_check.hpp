// typenet/nn/extent_check.hpp — run-time extents checked before any work.
//
// A network with a dynamic input shape (`Shape<3, dyn, dyn>`) cannot check
// at compile time that every layer's output is non-empty: the extents come
// with the batch. `fits_extents<Net, In>(extents, &why)` walks the network
// type with the run-time extents, computing each layer's output extents as
// the nodes will, and stops at the first layer whose output would be empty
// (or the first merge whose branches disagree), recording its path, its type
// and both extents, so Model can throw a message as precise as the
// compile-time carriers. Nothing is allocated unless a layer misfits: a
// model alternating between sizes it accepts runs this without allocating.
#pragma once

#include <concepts>
#include <string>

#include "typenet/core/layer.hpp"
#include "typenet/core/shape.hpp"
#include "typenet/nn/named.hpp"

namespace typenet {

/// Where and why a network does not fit its run-time input extents.
struct extent_misfit {
  std::string path;    ///< state_dict prefix of the layer ("layer3.0.conv1"); empty: the root
  std::string layer;   ///< its type, as type_name() spells it
  std::string input;   ///< the extents it was given, "Shape<64, 2, 2>"
  std::string output;  ///< the extents it would produce, "Shape<128, 0, 0>"
  std::string reason;  ///< what is wrong, for a merge ("the branches differ: ...")

  /// "layer 'layer3.0.conv1' (Conv2d<...>) would turn Shape<64, 2, 2> into Shape<128, 0, 0>".
  std::string describe() const {
    std::string s = "layer '" + (path.empty() ? std::string("<root>") : path) + "' (" + layer + ")";
    if (!reason.empty()) return s + ": " + reason;
    return s + " would turn " + input + " into " + output + ", an empty output";
  }
};

namespace detail {
template <class L, class In>
concept checks_own_extents = requires(const extents_t<In>& e, extent_misfit* why) {
  { L::template fits<In>(e, why) } -> std::same_as<bool>;
};
}  // namespace detail

/// Whether L gives a non-empty output at every layer from input extents
/// `in`; when it does not and `why` is set, fills *why. A static input was
/// checked at compile time and fits.
template <class L, class In>
bool fits_extents(const extents_t<In>& in, extent_misfit* why) {
  using U = unnamed_t<L>;
  if constexpr (In::is_static) {
    return true;
  } else if constexpr (detail::checks_own_extents<U, In>) {
    return U::template fits<In>(in, why);
  } else {
    const auto out = output_extents_of<U, In>(in);
    for (int d : out) {
      if (d < 1) {
        if (why) *why = {"", U::type_name(), extents_string(in), extents_string(out), ""};
        return false;
      }
    }
    return true;
  }
}

/// Puts a container's key in front of a misfit's path (on the failure path only).
inline void prepend_path(extent_misfit* why, const std::string& key) {
  if (why && !key.empty()) why->path = why->path.empty() ? key : key + "." + why->path;
}

}  // namespace typenet
