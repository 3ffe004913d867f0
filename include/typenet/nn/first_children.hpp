// typenet/nn/first_children.hpp — FirstChildren<N, Net>: the first N children of a Sequential.
//
// The lecture's `nn.Sequential(*list(resnet.children())[0:6])`: a new
// Sequential of Net's first N children, keyed by position as PyTorch keys
// them ("0.weight" for conv1, "4.0.conv1.weight" for layer1's first block).
// `source_key(i)` gives the key the same child has in Net ("conv1",
// "layer1"), so a checkpoint of the whole network loads into the
// truncated one with the name mapping derived from the types.
#pragma once

#include <boost/mp11/algorithm.hpp>
#include <string>

#include "typenet/nn/named.hpp"
#include "typenet/nn/sequential.hpp"

namespace typenet {

namespace detail {
template <std::size_t N, class Net>
struct first_children {
  static_assert(N > 0 && N <= Net::size,
                "FirstChildren<N, Net>: N must be between 1 and the number of children of Net");
  using type = boost::mp11::mp_rename<
      boost::mp11::mp_transform<unnamed_t, boost::mp11::mp_take_c<typename Net::children, N>>,
      Sequential>;
};
}  // namespace detail

template <std::size_t N, class Net>
struct FirstChildren : detail::first_children<N, Net>::type {
  using source = Net;
  static constexpr std::size_t count = N;

  /// The key child `index` has in Net ("layer1"), for loading Net's checkpoints.
  static std::string source_key(std::size_t index) {
    std::string key;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((I == index ? (key = Net::template key<I>(), 0) : 0), ...);
    }
    (std::make_index_sequence<N>{});
    return key;
  }

  static std::string type_name() {
    return "FirstChildren<" + std::to_string(N) + ", " + Net::type_name() + ">";
  }
};

}  // namespace typenet
