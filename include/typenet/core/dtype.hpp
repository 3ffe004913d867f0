// typenet/core/dtype.hpp — element types of tensors and of weight files, one enum for both.
//
// A model's state holds f32, f64 and i64 (BatchNorm's counter); weight files
// may hold any of these, converted on load. The names are safetensors'
// ("F32", "BF16", "BOOL"), used in files and in messages alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace typenet {

enum class dtype { f16, bf16, f32, f64, i64, i32, i16, i8, u8, boolean };

/// The dtype of a model's scalar type or counter.
template <class T>
inline constexpr dtype dtype_of_v = std::is_same_v<T, float>    ? dtype::f32
                                    : std::is_same_v<T, double> ? dtype::f64
                                                                : dtype::i64;

/// Bytes per element.
constexpr std::size_t dtype_size(dtype t) {
  switch (t) {
    case dtype::f16:
    case dtype::bf16:
    case dtype::i16:
      return 2;
    case dtype::f32:
    case dtype::i32:
      return 4;
    case dtype::f64:
    case dtype::i64:
      return 8;
    case dtype::i8:
    case dtype::u8:
    case dtype::boolean:
      return 1;
  }
  return 0;
}

/// safetensors' dtype names, also used in messages.
constexpr const char* dtype_name(dtype t) {
  switch (t) {
    case dtype::f16:
      return "F16";
    case dtype::bf16:
      return "BF16";
    case dtype::f32:
      return "F32";
    case dtype::f64:
      return "F64";
    case dtype::i64:
      return "I64";
    case dtype::i32:
      return "I32";
    case dtype::i16:
      return "I16";
    case dtype::i8:
      return "I8";
    case dtype::u8:
      return "U8";
    case dtype::boolean:
      return "BOOL";
  }
  return "?";
}

}  // namespace typenet
