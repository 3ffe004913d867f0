// typenet/io/safetensors.hpp — reading and writing safetensors files.
//
// Format: an 8-byte little-endian header length N, N bytes of JSON
// ({"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]},
// "__metadata__": {"key": "value"}}), then the tensor bytes, offsets
// relative to the end of the header. Reading validates what the reference
// implementation does and more: header inside the file and below 100 MB,
// JSON object, known dtypes, non-negative shapes, end - begin equal to the
// tensor's byte size, tensors laid end to end without overlap or holes and
// covering the data exactly. Limits on the header's size and JSON nesting
// (safetensors_limits) are checked before any JSON value is built. The file
// is memory-mapped. Writing pads the header with spaces to a multiple of 8
// bytes and goes through write_file_durably: a crash or power loss never
// leaves half a file.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "typenet/config.hpp"
#include "typenet/io/checkpoint.hpp"
#include "typenet/io/errors.hpp"

namespace typenet::io {

/// Bounds on a safetensors header, checked before any JSON value is built.
/// A real header is a few levels deep (object, tensor entry, shape array)
/// and a few hundred bytes per tensor; the defaults leave ample room.
struct safetensors_limits {
  /// The JSON header's length in bytes (the reference implementation's 100 MB).
  std::uint64_t max_header_bytes = 100'000'000;
  /// Nesting of JSON objects and arrays: a deep header would exhaust the
  /// stack while a JSON tree is built.
  int max_depth = 64;
};

/// Parses safetensors bytes held by `storage`; `source` names them in errors.
TYPENET_IO_DECL checkpoint read_safetensors(std::shared_ptr<const byte_storage> storage,
                                            const std::string& source,
                                            const safetensors_limits& limits = {});

/// Reads a safetensors file (memory-mapped).
TYPENET_IO_DECL checkpoint read_safetensors(const std::string& path,
                                            const safetensors_limits& limits = {});

/// A tensor to write: contiguous row-major bytes of `type` and `shape`.
struct tensor_to_write {
  std::string name;
  dtype type;
  std::vector<std::int64_t> shape;
  std::span<const std::byte> bytes;
};

/// Writes tensors (in the given order) and metadata, atomically and durably
/// (io/durable_file.hpp: temporary file, fsync, rename, fsync of the directory).
TYPENET_IO_DECL void write_safetensors(const std::string& path,
                                       const std::vector<tensor_to_write>& tensors,
                                       const std::map<std::string, std::string>& metadata);

}  // namespace typenet::io

#if !defined(TYPENET_COMPILED_IO)
#include "typenet/io/impl/safetensors.ipp"
#endif
