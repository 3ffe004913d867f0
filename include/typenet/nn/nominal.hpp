// typenet/nn/nominal.hpp — named network types, and the structural names they stand for.
//
// A zoo model is a struct deriving from its definition (a Sequential), not an
// alias of it:
//
//   template <int Classes = 1000>
//   struct ResNet18 : BasicResNet<2, 2, 2, 2, Classes> {
//     using definition = BasicResNet<2, 2, 2, 2, Classes>;
//     static std::string type_name() { return "models::ResNet18<1000>"; }
//   };
//
// so symbols, compiler errors, summaries and the architecture string saved in
// weight files say "models::ResNet18<1000>" instead of spelling out the whole
// tree. Files saved before the zoo was nominal carry the spelled-out name:
// structural_type_name<Net>() rebuilds it, and loaders accept either.
#pragma once

#include <boost/mp11/algorithm.hpp>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "typenet/nn/named.hpp"
#include "typenet/nn/residual.hpp"
#include "typenet/nn/sequential.hpp"

namespace typenet {

/// Whether L is a named network: a type with a `definition` it stands for.
template <class L>
concept nominal_network = requires {
  typename L::definition;
};

namespace detail {
template <class... L>
std::true_type derives_from_sequential(const Sequential<L...>*);
std::false_type derives_from_sequential(const void*);
}  // namespace detail

/// Whether L is a Sequential or derives from one (named networks, FirstChildren).
template <class L>
inline constexpr bool is_sequential_v =
    decltype(detail::derives_from_sequential(static_cast<const L*>(nullptr)))::value;

namespace detail {
template <class T>
struct is_residual_type : std::false_type {};
template <class B, class S, class A>
struct is_residual_type<Residual<B, S, A>> : std::true_type {};

/// (nominal name, the definition's type_name) of every named network inside L.
template <class L>
void collect_nominal_names(std::vector<std::pair<std::string, std::string>>& out) {
  using U = unnamed_t<L>;
  if constexpr (nominal_network<U>) {
    out.emplace_back(U::type_name(), U::definition::type_name());
    collect_nominal_names<typename U::definition>(out);
  } else if constexpr (requires { typename U::source; }) {  // FirstChildren<N, Net>
    collect_nominal_names<typename U::source>(out);
  } else if constexpr (is_sequential_v<U>) {
    boost::mp11::mp_for_each<boost::mp11::mp_transform<std::type_identity, typename U::children>>(
        [&](auto child) { collect_nominal_names<typename decltype(child)::type>(out); });
  } else if constexpr (is_residual_type<U>::value) {
    collect_nominal_names<typename U::body>(out);
    collect_nominal_names<typename U::shortcut>(out);
  }
}
}  // namespace detail

/// Net's type_name() with every named network spelled out as its definition:
/// the architecture string of files saved before the zoo was nominal.
template <class Net>
std::string structural_type_name() {
  std::vector<std::pair<std::string, std::string>> names;
  detail::collect_nominal_names<Net>(names);
  std::string s = Net::type_name();
  // Definitions may name other named networks: substitute until none is left.
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& [nominal, structural] : names)
      for (std::size_t at = s.find(nominal); at != std::string::npos;
           at = s.find(nominal, at + structural.size())) {
        s.replace(at, nominal.size(), structural);
        changed = true;
      }
  }
  return s;
}

}  // namespace typenet
