// typenet/data/file_bytes.hpp — a dataset file's bytes, gunzipped when it is gzip'd.
//
//   auto bytes = tn::data::read_file_bytes("train-images-idx3-ubyte.gz");  // inflated
//
// A file that starts with gzip's magic (1f 8b) is inflated with zlib; any
// other file is returned as is. A truncated or corrupt gzip stream, a missing
// or unreadable file, and output beyond `max_bytes` throw data_error naming
// the file. `gzip_stream` inflates step by step, for readers that know from a
// header how many bytes to expect (data/idx.hpp) and take no more.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "typenet/data/example.hpp"

namespace typenet::data {

namespace detail {

inline std::vector<std::uint8_t> read_raw(const std::filesystem::path& path,
                                          std::size_t max_bytes = SIZE_MAX,
                                          const char* option = nullptr) {
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

inline bool is_gzip(std::span<const std::uint8_t> b) {
  return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

}  // namespace detail

/// A gzip stream inflated step by step, so a reader takes only the bytes it
/// expects (an IDX header, then the values it declares) and a bomb costs
/// nothing beyond them. The compressed bytes must outlive the stream.
/// Failures (truncated or corrupt data, a failed CRC) throw data_error
/// naming the file.
class gzip_stream {
 public:
  gzip_stream(std::span<const std::uint8_t> in, std::string name)
      : in_(in), name_(std::move(name)) {
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) throw data_error(name_ + ": zlib init failed");
  }
  gzip_stream(const gzip_stream&) = delete;
  gzip_stream& operator=(const gzip_stream&) = delete;
  ~gzip_stream() { inflateEnd(&z_); }

  /// Inflates up to `n` bytes into `out`; fewer only where the stream ends.
  std::size_t read(std::uint8_t* out, std::size_t n) {
    std::size_t got = 0;
    while (got < n && !ended_) got += step(out + got, n - got);
    return got;
  }
  /// Whether the stream has ended (its length and CRC checked).
  bool ended() const { return ended_; }
  /// Bytes inflated so far.
  std::uint64_t produced() const { return z_.total_out; }

 private:
  std::size_t step(std::uint8_t* out, std::size_t n) {
    constexpr std::size_t chunk = std::size_t{1} << 30;
    // zlib never writes through next_in; its type is not const only for old C.
    z_.next_in = const_cast<Bytef*>(in_.data() + z_.total_in);
    z_.avail_in = static_cast<uInt>(std::min<std::size_t>(in_.size() - z_.total_in, chunk));
    z_.next_out = out;
    z_.avail_out = static_cast<uInt>(std::min(n, chunk));
    const uInt before = z_.avail_out;
    const int rc = inflate(&z_, Z_NO_FLUSH);
    const std::size_t made = before - z_.avail_out;
    if (rc == Z_STREAM_END) {
      ended_ = true;
    } else if (rc == Z_BUF_ERROR) {  // no progress with room to write: the input ran out
      throw data_error(name_ + ": truncated gzip data (the stream ends after " +
                       std::to_string(z_.total_out) + " inflated bytes)");
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      throw data_error(name_ + ": corrupt gzip data: " +
                       (z_.msg ? std::string(z_.msg) : "error " + std::to_string(rc)));
    }
    return made;
  }

  std::span<const std::uint8_t> in_;
  std::string name_;
  bool ended_ = false;
  struct stream : z_stream {
    stream() : z_stream{} {}
  } z_;
};

namespace detail {

/// Inflates all of `in`, refusing more than `max_bytes`; `option` (may be
/// null) names the option that raises the limit, for the message.
inline std::vector<std::uint8_t> gunzip(std::span<const std::uint8_t> in, const std::string& name,
                                        std::size_t max_bytes, const char* option = nullptr) {
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

/// The file's bytes, inflated if the file is gzip'd; more than `max_bytes`
/// (read or inflated) throws data_error naming the file and the limit.
inline std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path,
                                                 std::size_t max_bytes = std::size_t{1} << 33) {
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
