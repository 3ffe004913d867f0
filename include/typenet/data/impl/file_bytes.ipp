// typenet/data/impl/file_bytes.ipp — the definitions of data/file_bytes.hpp that are not
// templates: included by that header in the header-only default, compiled
// once into typenet::vision_compiled (src/vision.cpp) under
// TYPENET_COMPILED_VISION.
#pragma once

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <new>

#include "typenet/data/file_bytes.hpp"
#include "typenet/data/gzip_stream.hpp"

namespace typenet::data {

namespace detail {

TYPENET_VISION_DECL std::vector<std::uint8_t> read_raw(const std::filesystem::path& path,
                                                       std::size_t max_bytes, const char* option) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw data_error(path.string() + ": no such file");
  if (std::filesystem::is_directory(path, ec))
    throw data_error(path.string() + ": is a directory, expected a file");
  if (const auto size = std::filesystem::file_size(path, ec); !ec && size > max_bytes)
    throw data_error(path.string() + ": " + std::to_string(size) +
                     " bytes, more than the limit of " + std::to_string(max_bytes) +
                     (option ? std::string(" (") + option + ")" : ""));
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

TYPENET_VISION_DECL std::vector<std::uint8_t> gunzip(std::span<const std::uint8_t> in,
                                                     const std::string& name, std::size_t max_bytes,
                                                     const char* option) {
  gzip_stream z(in, name);
  std::vector<std::uint8_t> out;
  std::size_t produced = 0;
  while (!z.ended()) {
    if (produced == out.size()) {
      if (out.size() >= max_bytes) {
        std::uint8_t spare;
        if (z.read(&spare, 1) == 0) break;  // ends exactly at the limit
        throw data_error(name + ": inflates to more than " + std::to_string(max_bytes) + " bytes" +
                         (option ? std::string(" (") + option + ")" : ""));
      }
      out.resize(std::min(std::max<std::size_t>({in.size() * 4, 1024, out.size() * 2}), max_bytes));
    }
    produced += z.read(out.data() + produced, out.size() - produced);
  }
  out.resize(produced);
  return out;
}

}  // namespace detail

TYPENET_VISION_DECL std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path,
                                                              std::size_t max_bytes) {
  auto raw = detail::read_raw(path);
  if (!detail::is_gzip(raw)) {
    if (raw.size() > max_bytes)
      throw data_error(path.string() + ": " + std::to_string(raw.size()) +
                       " bytes, more than the limit of " + std::to_string(max_bytes));
    return raw;
  }
  try {
    return detail::gunzip(raw, path.string(), max_bytes);
  } catch (const std::bad_alloc&) {
    throw data_error(path.string() + ": out of memory inflating it");
  }
}

}  // namespace typenet::data
