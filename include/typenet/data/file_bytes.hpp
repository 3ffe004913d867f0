// typenet/data/file_bytes.hpp — a dataset file's bytes, gunzipped when it is gzip'd.
//
//   auto bytes = tn::data::read_file_bytes("train-images-idx3-ubyte.gz");  // inflated
//
// A file that starts with gzip's magic (1f 8b) is inflated with zlib; any
// other file is returned as is. A truncated or corrupt gzip stream, a missing
// or unreadable file, and output beyond `max_bytes` throw data_error naming
// the file. `gzip_stream` (data/gzip_stream.hpp) inflates step by step, for
// readers that know from a header how many bytes to expect (data/idx.hpp)
// and take no more.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "typenet/config.hpp"
#include "typenet/data/example.hpp"

namespace typenet::data {

namespace detail {

/// The file's bytes as they lie on disk; a file larger than `max_bytes`
/// throws data_error, naming `option` (may be null) as what raises the limit.
TYPENET_VISION_DECL std::vector<std::uint8_t> read_raw(const std::filesystem::path& path,
                                                       std::size_t max_bytes = SIZE_MAX,
                                                       const char* option = nullptr);

inline bool is_gzip(std::span<const std::uint8_t> b) {
  return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

/// Inflates all of `in`, refusing more than `max_bytes`; `option` (may be
/// null) names the option that raises the limit, for the message.
TYPENET_VISION_DECL std::vector<std::uint8_t> gunzip(std::span<const std::uint8_t> in,
                                                     const std::string& name, std::size_t max_bytes,
                                                     const char* option = nullptr);

}  // namespace detail

/// The file's bytes, inflated if the file is gzip'd; more than `max_bytes`
/// (read or inflated) throws data_error naming the file and the limit.
TYPENET_VISION_DECL std::vector<std::uint8_t> read_file_bytes(
    const std::filesystem::path& path, std::size_t max_bytes = (std::size_t{1} << 33));

}  // namespace typenet::data

#if !defined(TYPENET_COMPILED_VISION)
#include "typenet/data/impl/file_bytes.ipp"
#endif
