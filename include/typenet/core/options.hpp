// typenet/core/options.hpp — option tags of convolution and pooling layers.
//
// PyTorch's keyword arguments become tag types: `Conv2d<64, 3, Stride<2>,
// Padding<1>, NoBias>`. Two-dimensional options take (H, W) with W = H by
// default, like PyTorch's int-or-tuple arguments; a kernel of different
// height and width is written `Kernel{3, 5}`.
#pragma once

#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <string>
#include <type_traits>

namespace typenet {

namespace detail {
inline std::string pair_name(const char* tag, int h, int w) {
  return std::string(tag) + "<" + std::to_string(h) + (h == w ? "" : ", " + std::to_string(w)) +
         ">";
}
}  // namespace detail

/// A kernel size: `3` or `Kernel{3, 5}` (height, width).
struct Kernel {
  int h;
  int w;
  constexpr Kernel(int size) : h(size), w(size) {}  // NOLINT: `Conv2d<64, 3>` reads best
  constexpr Kernel(int height, int width) : h(height), w(width) {}
  std::string str() const {
    return h == w ? std::to_string(h)
                  : "Kernel{" + std::to_string(h) + ", " + std::to_string(w) + "}";
  }
};

template <int H, int W = H>
struct Stride {
  static constexpr int h = H, w = W;
  static std::string name() { return detail::pair_name("Stride", H, W); }
};
template <int H, int W = H>
struct Padding {
  static constexpr int h = H, w = W;
  static std::string name() { return detail::pair_name("Padding", H, W); }
};
template <int H, int W = H>
struct Dilation {
  static constexpr int h = H, w = W;
  static std::string name() { return detail::pair_name("Dilation", H, W); }
};
template <int H, int W = H>
struct OutputPadding {
  static constexpr int h = H, w = W;
  static std::string name() { return detail::pair_name("OutputPadding", H, W); }
};
template <int G>
struct Groups {
  static constexpr int value = G;
  static std::string name() { return "Groups<" + std::to_string(G) + ">"; }
};
/// The layer has no bias term (`bias=False`).
struct NoBias {
  static std::string name() { return "NoBias"; }
};
/// Pooling output sizes round up (`ceil_mode=True`).
struct CeilMode {
  static std::string name() { return "CeilMode"; }
};
/// BatchNorm's `eps` as a ratio: Eps<std::ratio<1, 1000>> is eps=1e-3.
template <class Ratio>
struct Eps {
  static constexpr double value = static_cast<double>(Ratio::num) / Ratio::den;
  static_assert(value > 0, "Eps: eps must be positive");
  static std::string name() {
    return "Eps<" + std::to_string(Ratio::num) + "/" + std::to_string(Ratio::den) + ">";
  }
};
/// BatchNorm's `momentum` as a ratio: Momentum<std::ratio<1, 100>> is 0.01.
template <class Ratio>
struct Momentum {
  static constexpr double value = static_cast<double>(Ratio::num) / Ratio::den;
  static_assert(value >= 0 && value <= 1, "Momentum: momentum must be in [0, 1]");
  static std::string name() {
    return "Momentum<" + std::to_string(Ratio::num) + "/" + std::to_string(Ratio::den) + ">";
  }
};

/// AvgPool2d divides by the input elements a window covers, not counting
/// its padding (`count_include_pad=False`).
struct ExcludePad {
  static std::string name() { return "ExcludePad"; }
};
/// AvgPool2d divides every window's sum by N (`divisor_override=N`).
template <int N>
struct DivisorOverride {
  static_assert(N > 0, "DivisorOverride<N>: N must be positive");
  static constexpr int value = N;
  static std::string name() { return "DivisorOverride<" + std::to_string(N) + ">"; }
};

namespace detail {

template <template <int, int> class Tag, class T>
struct is_pair_option : std::false_type {};
template <template <int, int> class Tag, int H, int W>
struct is_pair_option<Tag, Tag<H, W>> : std::true_type {};

template <class T>
struct is_groups : std::false_type {};
template <int G>
struct is_groups<Groups<G>> : std::true_type {};

struct pair_value {
  int h, w;
};

template <template <int, int> class Tag, class Option>
constexpr void take_pair_option(pair_value& v) {
  if constexpr (is_pair_option<Tag, Option>::value) v = pair_value{Option::h, Option::w};
}

template <template <int, int> class Tag, int DefaultH, int DefaultW, class... Options>
constexpr pair_value find_pair_option() {
  pair_value v{DefaultH, DefaultW};
  (take_pair_option<Tag, Options>(v), ...);
  return v;
}

template <class Option>
constexpr int groups_of() {
  if constexpr (is_groups<Option>::value) {
    return Option::value;
  } else {
    return 0;
  }
}

}  // namespace detail

/// The (h, w) of option `Tag` among `Options`, or the defaults.
template <template <int, int> class Tag, int DefaultH, int DefaultW, class... Options>
inline constexpr detail::pair_value pair_option_v =
    detail::find_pair_option<Tag, DefaultH, DefaultW, Options...>();

/// The G of `Groups<G>` among `Options`, or 1.
template <class... Options>
inline constexpr int groups_option_v = [] {
  int g = 1;
  ((g = detail::is_groups<Options>::value ? detail::groups_of<Options>() : g), ...);
  return g;
}();

template <class Flag, class... Options>
inline constexpr bool has_option_v = (std::is_same_v<Flag, Options> || ...);

/// Option `T` is one of the pair tags `Allowed...`, or one of the flags `Flags...`.
template <class T, template <int, int> class... Allowed>
inline constexpr bool is_pair_option_of_v = (detail::is_pair_option<Allowed, T>::value || ...);

template <class T>
inline constexpr bool is_groups_option_v = detail::is_groups<T>::value;

/// Names of the options, joined for type_name(): ", Stride<2>, NoBias".
template <class... Options>
std::string option_names() {
  std::string s;
  ((s += ", " + Options::name()), ...);
  return s;
}

}  // namespace typenet
