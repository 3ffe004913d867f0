// typenet/data/gzip_stream.hpp — a gzip stream inflated step by step (zlib).
//
// For readers that know from a header how many bytes to expect (data/idx.hpp,
// data/cifar.hpp) and take no more; data/file_bytes.hpp inflates whole files.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>

#include "typenet/data/example.hpp"

namespace typenet::data {

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

}  // namespace typenet::data
