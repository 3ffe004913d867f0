// typenet/core/fixed_string.hpp — string literals as template arguments.
//
// `Named<"conv1", L>` needs its name as a structural value. fixed_string<N>
// holds N characters (without the terminating zero) and compares at compile
// time, so duplicate child names are rejected before anything runs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace typenet {

template <std::size_t N>
struct fixed_string {
  char chars[N + 1]{};

  constexpr fixed_string() = default;
  constexpr fixed_string(const char (&text)[N + 1]) {  // NOLINT: implicit by design
    for (std::size_t i = 0; i <= N; ++i) chars[i] = text[i];
  }
  static constexpr std::size_t size() { return N; }
  static constexpr bool empty() { return N == 0; }
  constexpr std::string_view view() const { return {chars, N}; }
  std::string str() const { return std::string(chars, N); }
  constexpr bool contains(char c) const {
    for (std::size_t i = 0; i < N; ++i)
      if (chars[i] == c) return true;
    return false;
  }

  /// Position of the first `c`, or N.
  constexpr std::size_t find(char c) const {
    for (std::size_t i = 0; i < N; ++i)
      if (chars[i] == c) return i;
    return N;
  }
  /// Whether every character is a decimal digit (a positional key such as "3").
  constexpr bool is_index() const {
    for (std::size_t i = 0; i < N; ++i)
      if (chars[i] < '0' || chars[i] > '9') return false;
    return N > 0;
  }
  constexpr std::size_t to_index() const {
    std::size_t v = 0;
    for (std::size_t i = 0; i < N; ++i) v = v * 10 + std::size_t(chars[i] - '0');
    return v;
  }
  /// The `Len` characters from `Pos` ("up1.conv" -> substr<0, 3>() == "up1").
  template <std::size_t Pos, std::size_t Len>
  constexpr fixed_string<Len> substr() const {
    static_assert(Pos + Len <= N, "fixed_string::substr out of range");
    fixed_string<Len> s;
    for (std::size_t i = 0; i < Len; ++i) s.chars[i] = chars[Pos + i];
    return s;
  }

  template <std::size_t M>
  constexpr bool operator==(const fixed_string<M>& other) const {
    return view() == other.view();
  }
};

template <std::size_t N>
fixed_string(const char (&)[N]) -> fixed_string<N - 1>;

}  // namespace typenet
