// typenet/nn/edit.hpp — new network types from old ones: replace, drop or append children.
//
// Transfer learning's surgery, done on types so the compiler checks the
// result (PyTorch: `model.fc = nn.Linear(512, 2)`):
//
//   using Dogs = tn::ReplaceChild<tn::models::ResNet34<>, "fc", tn::Linear<2>>;  // new head
//   using Trunk = tn::DropLast<tn::models::ResNet18<>, 2>;   // without avgpool and fc
//   using Deeper = tn::Append<Trunk, tn::Conv2d<256, 3, tn::Padding<1>>, tn::ReLU>;
//
// Requirements: Net is a Sequential (or derives from one). Guarantees: the
// children that remain keep their keys — a Named child keeps its name, an
// unnamed one its position — so a checkpoint of Net loads into the edited
// network (skip the replaced child's keys, e.g. load_options{.skip = {"fc."}}).
// Appended unnamed children are keyed by their position, as in PyTorch.
// ReplaceChild keeps the replaced child's name. FirstChildren
// (nn/first_children.hpp) is the PyTorch `nn.Sequential(*children[:n])`
// spelling, which renames children to their positions.
#pragma once

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <cstddef>

#include "typenet/core/fixed_string.hpp"
#include "typenet/nn/named.hpp"
#include "typenet/nn/sequential.hpp"

namespace typenet {

namespace detail {

template <class Old, class New>
struct named_like {
  using type = New;
};
template <fixed_string Name, class Layer, class New>
struct named_like<Named<Name, Layer>, New> {
  using type = Named<Name, New>;
};

template <class Net, fixed_string Name, class New>
struct replace_child {
  static constexpr std::size_t index = Net::template index_of<Name>();
  static_assert(index < Net::size,
                "ReplaceChild<Net, \"name\", Layer>: Net has no child Named \"name\"; "
                "use ReplaceChildAt<Net, index, Layer> for an unnamed child");
  using type = boost::mp11::mp_rename<
      boost::mp11::mp_replace_at_c<typename Net::children, (index < Net::size ? index : 0),
                                   Named<Name, New>>,
      Sequential>;
};

template <class Net, std::size_t I, class New>
struct replace_child_at {
  static_assert(I < Net::size, "ReplaceChildAt<Net, I, Layer>: Net has fewer than I + 1 children");
  using type = boost::mp11::mp_rename<
      boost::mp11::mp_replace_at_c<
          typename Net::children, (I < Net::size ? I : 0),
          typename named_like<boost::mp11::mp_at_c<typename Net::children, (I < Net::size ? I : 0)>,
                              New>::type>,
      Sequential>;
};

template <class Net, std::size_t K>
struct drop_last {
  static_assert(K < Net::size, "DropLast<Net, K>: K must leave at least one child of Net");
  using type = boost::mp11::mp_rename<
      boost::mp11::mp_take_c<typename Net::children, (K < Net::size ? Net::size - K : 1)>,
      Sequential>;
};

}  // namespace detail

/// Net with its child Named `Name` replaced by `New` (which keeps the name).
template <class Net, fixed_string Name, class New>
using ReplaceChild = typename detail::replace_child<Net, Name, New>::type;

/// Net with child `I` replaced by `New` (a Named child's name is kept).
template <class Net, std::size_t I, class New>
using ReplaceChildAt = typename detail::replace_child_at<Net, I, New>::type;

/// Net without its last K children; the rest keep their keys.
template <class Net, std::size_t K>
using DropLast = typename detail::drop_last<Net, K>::type;

/// Net with `Layers...` appended after its children.
template <class Net, class... Layers>
using Append = boost::mp11::mp_rename<boost::mp11::mp_push_back<typename Net::children, Layers...>,
                                      Sequential>;

}  // namespace typenet
