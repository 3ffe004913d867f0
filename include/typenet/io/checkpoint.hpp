// typenet/io/checkpoint.hpp — tensors read from a weight file, before they meet a model.
//
// Every reader (safetensors, PyTorch zip, PyTorch legacy) produces a
// `checkpoint`: named tensor records in file order, each a typed, strided
// view into a byte storage that the checkpoint keeps alive (a memory-mapped
// file or a buffer read from a zip entry). Records are validated when they
// are made: the view lies inside its storage. `read_as<T>` converts any
// supported element type to float or double, honouring strides.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "typenet/core/dtype.hpp"
#include "typenet/io/errors.hpp"

namespace typenet::io {

/// Bytes that records point into; owners keep them alive (a mapping, a
/// buffer, a deflated zip record inflated on demand).
///
/// A storage knows its size without producing its bytes, so records are
/// checked against it before anything is read. `prefix(n)` gives at least the
/// first n bytes: a storage that produces its bytes on demand (inflating,
/// computing) produces no more than that, so a reader that touches only the
/// start of a huge storage costs only the start. Spans stay valid as long as
/// the storage lives. All members are safe to call from several threads.
struct byte_storage {
  virtual ~byte_storage() = default;
  /// Every byte (a storage made on demand makes them all).
  virtual std::span<const std::byte> bytes() const = 0;
  /// The number of bytes, known without producing them.
  virtual std::size_t size() const { return bytes().size(); }
  /// At least the first `n` (<= size()) bytes; the span may be longer.
  virtual std::span<const std::byte> prefix(std::size_t n) const {
    (void)n;
    return bytes();
  }
  /// Whether reading costs memory for the bytes read (inflated or computed
  /// on demand), rather than viewing bytes that already exist.
  virtual bool made_on_demand() const { return false; }
};

/// A storage that owns a heap buffer.
struct buffer_storage final : byte_storage {
  std::vector<std::byte> data;
  std::span<const std::byte> bytes() const override { return data; }
};

/// One tensor of a checkpoint: element type, shape, strides and offset in
/// elements into its storage.
struct tensor_record {
  dtype type = dtype::f32;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;
  std::int64_t offset = 0;
  std::shared_ptr<const byte_storage> storage;

  std::int64_t numel() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }

  std::string shape_string() const {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
  }

  /// The storage bytes the record spans: from the storage's start through its
  /// last element (0 when it has no elements). Call after validate().
  std::uint64_t extent() const {
    std::int64_t last = offset;
    for (std::size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == 0) return 0;
      last += (shape[i] - 1) * strides[i];
    }
    return static_cast<std::uint64_t>(last + 1) * dtype_size(type);
  }

  /// Throws format_error unless every element lies inside the storage (its
  /// size(): nothing is read or inflated).
  void validate(const std::string& where) const {
    if (!storage) throw format_error(where + ": tensor without storage");
    if (strides.size() != shape.size())
      throw format_error(where + ": " + std::to_string(shape.size()) + " dimensions but " +
                         std::to_string(strides.size()) + " strides");
    const auto available = static_cast<std::int64_t>(storage->size() / dtype_size(type));
    if (offset < 0) throw format_error(where + ": negative storage offset");
    std::int64_t last = offset;
    for (std::size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] < 0 || strides[i] < 0)
        throw format_error(where + ": negative size or stride in shape " + shape_string());
      if (shape[i] == 0) return;
      if (shape[i] - 1 > (INT64_MAX - last) / std::max<std::int64_t>(strides[i], 1))
        throw format_error(where + ": shape " + shape_string() + " overflows");
      last += (shape[i] - 1) * strides[i];
    }
    if (last >= available)
      throw format_error(where + ": tensor of shape " + shape_string() + " at element offset " +
                         std::to_string(offset) + " runs past its storage of " +
                         std::to_string(available) + " elements");
  }

  /// Contiguous row-major strides for `shape`.
  static std::vector<std::int64_t> contiguous_strides(const std::vector<std::int64_t>& shape) {
    std::vector<std::int64_t> strides(shape.size());
    std::int64_t s = 1;
    for (std::size_t i = shape.size(); i-- > 0;) {
      strides[i] = s;
      s *= shape[i];
    }
    return strides;
  }
};

namespace detail {
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1f;
  std::uint32_t mantissa = h & 0x3ffu;
  std::uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exponent = 127 - 15 + 1;
      while (!(mantissa & 0x400u)) {
        mantissa <<= 1;
        --exponent;
      }
      bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

template <class Raw>
Raw load(const std::byte* p) {
  Raw v;
  std::memcpy(&v, p, sizeof(Raw));
  return v;
}

inline double element_at(dtype type, const std::byte* p) {
  switch (type) {
    case dtype::f16:
      return half_to_float(load<std::uint16_t>(p));
    case dtype::bf16: {
      const std::uint32_t bits = std::uint32_t{load<std::uint16_t>(p)} << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
    case dtype::f32:
      return load<float>(p);
    case dtype::f64:
      return load<double>(p);
    case dtype::i64:
      return static_cast<double>(load<std::int64_t>(p));
    case dtype::i32:
      return load<std::int32_t>(p);
    case dtype::i16:
      return load<std::int16_t>(p);
    case dtype::i8:
      return load<std::int8_t>(p);
    case dtype::u8:
      return load<std::uint8_t>(p);
    case dtype::boolean:
      return load<std::uint8_t>(p) ? 1.0 : 0.0;
  }
  return 0;
}
}  // namespace detail

/// Copies the record's elements in row-major order into `out` (numel()
/// elements), converting to T (float, double or std::int64_t).
/// Only the storage's prefix up to the record's last element is produced
/// (inflated), not the whole storage.
template <class T>
void read_as(const tensor_record& r, T* out) {
  const std::int64_t n = r.numel();
  if (n == 0) return;
  const auto* base = r.storage->prefix(static_cast<std::size_t>(r.extent())).data();
  const std::size_t size = dtype_size(r.type);
  const std::size_t rank = r.shape.size();
  const bool same_type = (std::is_same_v<T, float> && r.type == dtype::f32) ||
                         (std::is_same_v<T, double> && r.type == dtype::f64) ||
                         (std::is_same_v<T, std::int64_t> && r.type == dtype::i64);
  if (same_type && r.strides == tensor_record::contiguous_strides(r.shape)) {
    std::memcpy(out, base + r.offset * static_cast<std::int64_t>(size), n * sizeof(T));
    return;
  }
  std::vector<std::int64_t> index(rank, 0);
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t element = r.offset;
    for (std::size_t d = 0; d < rank; ++d) element += index[d] * r.strides[d];
    const std::byte* p = base + element * static_cast<std::int64_t>(size);
    if constexpr (std::is_same_v<T, std::int64_t>) {
      out[i] = r.type == dtype::i64 ? detail::load<std::int64_t>(p)
                                    : static_cast<std::int64_t>(detail::element_at(r.type, p));
    } else {
      out[i] = static_cast<T>(detail::element_at(r.type, p));
    }
    for (std::size_t d = rank; d-- > 0;) {
      if (++index[d] < r.shape[d]) break;
      index[d] = 0;
    }
  }
}

/// Named tensor records in file order, plus string metadata (safetensors'
/// __metadata__; empty for PyTorch files).
struct checkpoint {
  std::string source;  ///< the file, for messages
  std::vector<std::pair<std::string, tensor_record>> tensors;
  std::map<std::string, std::string> metadata;

  const tensor_record* find(const std::string& name) const {
    for (const auto& [key, record] : tensors)
      if (key == name) return &record;
    return nullptr;
  }
};

}  // namespace typenet::io
