// typenet/data/file_bytes.hpp — a dataset file's bytes, gunzipped when it is gzip'd.
//
//   auto bytes = tn::data::read_file_bytes("train-images-idx3-ubyte.gz");  // inflated
//
// A file that starts with gzip's magic (1f 8b) is inflated with zlib; any
// other file is returned as is. A truncated or corrupt gzip stream, a missing
// or unreadable file, and output beyond `max_bytes` throw data_error naming
// the file.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "typenet/data/example.hpp"

namespace typenet::data {

namespace detail {

inline std::vector<std::uint8_t> read_raw(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw data_error(path.string() + ": no such file");
  if (std::filesystem::is_directory(path, ec))
    throw data_error(path.string() + ": is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw data_error(path.string() + ": cannot open: " + std::strerror(errno));
  std::vector<std::uint8_t> bytes;
  try {
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure& e) {
    throw data_error(path.string() + ": read error: " + e.what());
  }
  if (in.bad()) throw data_error(path.string() + ": read error");
  return bytes;
}

inline bool is_gzip(const std::vector<std::uint8_t>& b) {
  return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

inline std::vector<std::uint8_t> gunzip(const std::vector<std::uint8_t>& in,
                                        const std::string& name, std::size_t max_bytes) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw data_error(name + ": zlib init failed");
  std::vector<std::uint8_t> out;
  out.resize(std::min(std::max<std::size_t>(in.size() * 4, 1024), max_bytes));
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  std::size_t produced = 0;
  while (rc != Z_STREAM_END) {
    if (produced == out.size()) {
      if (out.size() >= max_bytes) {
        inflateEnd(&z);
        throw data_error(name + ": inflates to more than " + std::to_string(max_bytes) + " bytes");
      }
      out.resize(std::min(out.size() * 2, max_bytes));
    }
    z.next_out = out.data() + produced;
    z.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - produced, 1u << 30));
    const uInt before = z.avail_out;
    rc = inflate(&z, Z_NO_FLUSH);
    produced += before - z.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && z.avail_in == 0) {
      inflateEnd(&z);
      throw data_error(name + ": truncated gzip data (the stream ends after " +
                       std::to_string(produced) + " inflated bytes)");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      const std::string why = z.msg ? z.msg : "error " + std::to_string(rc);
      inflateEnd(&z);
      throw data_error(name + ": corrupt gzip data: " + why);
    }
  }
  inflateEnd(&z);
  out.resize(produced);
  return out;
}

}  // namespace detail

/// The file's bytes, inflated if the file is gzip'd.
inline std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path,
                                                 std::size_t max_bytes = std::size_t{1} << 33) {
  auto raw = detail::read_raw(path);
  if (!detail::is_gzip(raw)) return raw;
  return detail::gunzip(raw, path.string(), max_bytes);
}

}  // namespace typenet::data
