// typenet/nn/key_aliases.hpp — other names a parameter answers to when loading.
//
// FirstChildren<6, ResNet18<>> keys its children by position ("4.0.conv1.
// weight"), but a torchvision checkpoint names the same tensor
// "layer1.0.conv1.weight". Walking the network type yields, for every key
// prefix below a FirstChildren, the prefix the source network uses, so the
// loader can accept either name with no hand-written table.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "typenet/nn/first_children.hpp"
#include "typenet/nn/named.hpp"
#include "typenet/nn/nominal.hpp"
#include "typenet/nn/residual.hpp"
#include "typenet/nn/sequential.hpp"

namespace typenet {

/// (model key prefix, source key prefix) pairs, outermost first.
using key_alias_list = std::vector<std::pair<std::string, std::string>>;

namespace detail {
template <class T>
struct is_residual : std::false_type {};
template <class B, class S, class A>
struct is_residual<Residual<B, S, A>> : std::true_type {};
template <class T>
struct is_first_children : std::false_type {};
template <std::size_t N, class Net>
struct is_first_children<FirstChildren<N, Net>> : std::true_type {};

/// Whether a FirstChildren occurs anywhere inside L (decided by the types alone).
template <class L>
constexpr bool has_first_children() {
  using U = unnamed_t<L>;
  if constexpr (is_first_children<U>::value) {
    return true;
  } else if constexpr (is_sequential_v<U>) {
    return []<std::size_t... I>(std::index_sequence<I...>) {
      return (has_first_children<typename U::template child<I>>() || ...);
    }
    (std::make_index_sequence<U::size>{});
  } else if constexpr (is_residual<U>::value) {
    return has_first_children<typename U::body>() || has_first_children<typename U::shortcut>();
  } else {
    return false;
  }
}

template <class L>
void collect_key_aliases(key_alias_list& out, const std::string& prefix, const std::string& alias) {
  using U = unnamed_t<L>;
  if constexpr (is_first_children<U>::value) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((out.emplace_back(prefix + std::to_string(I) + ".", alias + U::source_key(I) + "."),
        collect_key_aliases<typename U::template child<I>>(out, prefix + std::to_string(I) + ".",
                                                           alias + U::source_key(I) + ".")),
       ...);
    }
    (std::make_index_sequence<U::size>{});
  } else if constexpr (is_sequential_v<U>) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (collect_key_aliases<typename U::template child<I>>(out, prefix + U::template key<I>() + ".",
                                                          alias + U::template key<I>() + "."),
       ...);
    }
    (std::make_index_sequence<U::size>{});
  } else if constexpr (is_residual<U>::value) {
    collect_key_aliases<typename U::body>(out, prefix, alias);
    collect_key_aliases<typename U::shortcut>(out, prefix + U::shortcut_key() + ".",
                                              alias + U::shortcut_key() + ".");
  }
}
}  // namespace detail

/// Every renaming FirstChildren introduces inside Net.
template <class Net>
key_alias_list key_aliases() {
  key_alias_list out;
  // Only FirstChildren renames; without one, walking the type would only
  // compile a function per container for nothing.
  if constexpr (detail::has_first_children<Net>()) detail::collect_key_aliases<Net>(out, "", "");
  return out;
}

/// The name `key` has in the source networks of Net's FirstChildren (the key
/// itself when there are none).
inline std::string source_key(const key_alias_list& aliases, const std::string& key) {
  std::string best_from, best_to;
  for (const auto& [from, to] : aliases)
    if (key.starts_with(from) && from.size() > best_from.size()) {
      best_from = from;
      best_to = to;
    }
  return best_from.empty() ? key : best_to + key.substr(best_from.size());
}

}  // namespace typenet
