// typenet/io/zip_archive.hpp — a minimal, bounds-checked zip reader for torch.save's container.
//
// `zip_archive` reads the directory of a zip archive held in memory (usually a
// memory-mapped file): the end-of-central-directory record, the ZIP64 end
// record, its locator and the ZIP64 extra fields (large checkpoints need
// them), the central directory and every local header. Records come out two
// ways: `stored()` gives a view of a stored (method 0) record's bytes with no
// copy, which is how torch.save writes tensors; `extract()` copies a stored
// record or inflates a deflated (method 8) one with zlib, so an archive
// re-packed by a zip tool reads too. CRC-32s are checked on request.
// `zip_inflater` inflates a deflated record step by step, so a reader can
// stop at the bytes it needs (torch_file.hpp's deflated storages do).
//
// Guarantees: every offset and size is checked against the archive before it
// is used; multi-disk archives, encryption, duplicate names and other methods
// are refused; an inflated record may not exceed deflate's maximum ratio over
// its compressed size, so a forged size cannot ask for unbounded memory. Every
// failure is a typenet::format_error naming the archive and the record. The
// archive does not own its bytes: keep them alive while it is used.
//
// Link: zlib (-lz), for inflating and for CRC-32.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "typenet/io/errors.hpp"

namespace typenet::io {

/// One record of the central directory, sizes and offsets resolved (ZIP64 included).
struct zip_entry {
  std::string name;
  std::uint16_t method = 0;  ///< 0 stored, 8 deflated
  std::uint16_t flags = 0;
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t size = 0;           ///< uncompressed
  std::uint64_t header_offset = 0;  ///< of the local header
  std::uint64_t data_offset = 0;    ///< of the first data byte, past the local header
};

class zip_archive {
 public:
  /// Deflate cannot compress better than about 1032:1; more is a forged size.
  static constexpr std::uint64_t max_inflate_ratio = 1032;

  /// Parses the directory of the archive in `bytes`; `source` names it in messages.
  zip_archive(std::span<const std::byte> bytes, std::string source)
      : bytes_(bytes), source_(std::move(source)) {
    parse();
  }

  const std::string& source() const { return source_; }
  const std::vector<zip_entry>& entries() const { return entries_; }

  const zip_entry* find(std::string_view name) const {
    const auto it = index_.find(std::string(name));
    return it == index_.end() ? nullptr : &entries_[it->second];
  }

  /// A stored record's bytes, a view into the archive.
  std::span<const std::byte> stored(const zip_entry& e, bool verify_crc = true) const {
    if (e.method != 0)
      fail("record '" + e.name + "' is compressed (method " + std::to_string(e.method) +
           "), not stored");
    const auto data =
        bytes_.subspan(static_cast<std::size_t>(e.data_offset), static_cast<std::size_t>(e.size));
    if (verify_crc) check_crc(e, data);
    return data;
  }

  /// A record's compressed bytes, a view into the archive.
  std::span<const std::byte> compressed(const zip_entry& e) const {
    return bytes_.subspan(static_cast<std::size_t>(e.data_offset),
                          static_cast<std::size_t>(e.compressed_size));
  }

  /// A record's bytes, copied (stored) or inflated (deflated).
  std::vector<std::byte> extract(const zip_entry& e, bool verify_crc = true) const {
    if (e.method == 0) {
      const auto data = stored(e, verify_crc);
      return {data.begin(), data.end()};
    }
    if (e.method != 8)
      fail("record '" + e.name + "' uses compression method " + std::to_string(e.method) +
           "; only stored (0) and deflated (8) records can be read");
    return inflated(e, verify_crc);
  }

 private:
  static constexpr std::uint32_t eocd_signature = 0x06054b50;
  static constexpr std::uint32_t zip64_eocd_signature = 0x06064b50;
  static constexpr std::uint32_t zip64_locator_signature = 0x07064b50;
  static constexpr std::uint32_t central_signature = 0x02014b50;
  static constexpr std::uint32_t local_signature = 0x04034b50;
  static constexpr std::size_t eocd_size = 22, zip64_eocd_size = 56, zip64_locator_size = 20;
  static constexpr std::size_t central_size = 46, local_size = 30;
  [[noreturn]] void fail(const std::string& what) const {
    throw format_error(source_ + ": " + what);
  }

  // Throws unless the `n` bytes at `offset` lie inside [0, limit).
  void require(std::uint64_t offset, std::uint64_t n, std::uint64_t limit, const char* what) const {
    if (offset > limit || n > limit - offset)
      fail(std::string(what) + " at offset " + std::to_string(offset) + " lies beyond " +
           (limit == bytes_.size() ? "the end of the file" : "its region") + " (" +
           std::to_string(limit) + " bytes)");
  }

  // Little-endian field of `n` <= 8 bytes at `offset`, inside [0, limit).
  std::uint64_t field(std::uint64_t offset, std::size_t n, std::uint64_t limit,
                      const char* what) const {
    require(offset, n, limit, what);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
      v |= std::uint64_t{static_cast<std::uint8_t>(bytes_[static_cast<std::size_t>(offset + i)])}
           << (8 * i);
    return v;
  }
  std::uint64_t field(std::uint64_t offset, std::size_t n, const char* what) const {
    return field(offset, n, bytes_.size(), what);
  }

  void parse() {
    const std::uint64_t size = bytes_.size();
    // The end record is the last 22 bytes plus its comment: find the one
    // whose comment ends exactly at the end of the file.
    std::uint64_t eocd = 0;
    bool found = false;
    if (size >= eocd_size) {
      const std::uint64_t lowest = size - eocd_size > 0xffff ? size - eocd_size - 0xffff : 0;
      for (std::uint64_t p = size - eocd_size + 1; p-- > lowest;) {
        if (field(p, 4, "end record") == eocd_signature &&
            p + eocd_size + field(p + 20, 2, "end record comment length") == size) {
          eocd = p;
          found = true;
          break;
        }
      }
    }
    if (!found)
      fail(
          "no zip end-of-central-directory record at the end of the file (truncated, or not a "
          "zip archive)");

    if (field(eocd + 4, 2, "disk number") != 0 || field(eocd + 6, 2, "disk number") != 0)
      fail("multi-disk zip archives are not supported");
    std::uint64_t count = field(eocd + 10, 2, "entry count");
    std::uint64_t cd_size = field(eocd + 12, 4, "central directory size");
    std::uint64_t cd_offset = field(eocd + 16, 4, "central directory offset");
    std::uint64_t cd_limit = eocd;  // the directory must end before what follows it

    if (eocd >= zip64_locator_size &&
        field(eocd - zip64_locator_size, 4, "ZIP64 locator") == zip64_locator_signature) {
      const auto locator = eocd - zip64_locator_size;
      if (field(locator + 4, 4, "ZIP64 locator disk") != 0 ||
          field(locator + 16, 4, "ZIP64 locator disk count") > 1)
        fail("multi-disk zip archives are not supported");
      const auto end64 = field(locator + 8, 8, "ZIP64 end record offset");
      if (end64 > locator || zip64_eocd_size > locator - end64)
        fail("ZIP64 end record offset " + std::to_string(end64) +
             " does not leave room for the record before its locator at " +
             std::to_string(locator));
      if (field(end64, 4, "ZIP64 end record") != zip64_eocd_signature)
        fail("no ZIP64 end record at offset " + std::to_string(end64) +
             ", where its locator points");
      if (field(end64 + 16, 4, "ZIP64 disk number") != 0 ||
          field(end64 + 20, 4, "ZIP64 disk number") != 0)
        fail("multi-disk zip archives are not supported");
      count = field(end64 + 32, 8, "ZIP64 entry count");
      cd_size = field(end64 + 40, 8, "ZIP64 central directory size");
      cd_offset = field(end64 + 48, 8, "ZIP64 central directory offset");
      cd_limit = end64;
    }

    if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset)
      fail("central directory (" + std::to_string(cd_size) + " bytes at offset " +
           std::to_string(cd_offset) +
           ") lies beyond the end of the file or overlaps its end "
           "record at " +
           std::to_string(cd_limit));
    if (count > cd_size / central_size)
      fail("central directory of " + std::to_string(cd_size) + " bytes cannot hold the " +
           std::to_string(count) + " entries its end record claims");

    entries_.reserve(static_cast<std::size_t>(count));
    const auto cd_end = cd_offset + cd_size;
    std::uint64_t p = cd_offset;
    for (std::uint64_t i = 0; i < count; ++i) {
      auto e = central_entry(p, cd_end, i);
      local_header(e, cd_offset);
      if (!index_.emplace(e.name, entries_.size()).second)
        fail("record '" + e.name + "' appears twice in the central directory");
      entries_.push_back(std::move(e));
    }
  }

  // Reads the central directory entry at `p` (advanced past it).
  zip_entry central_entry(std::uint64_t& p, std::uint64_t cd_end, std::uint64_t i) const {
    if (field(p, 4, cd_end, "central directory entry") != central_signature)
      fail("central directory entry " + std::to_string(i) + " at offset " + std::to_string(p) +
           " has no signature");
    require(p, central_size, cd_end, "central directory entry");
    zip_entry e;
    e.flags = static_cast<std::uint16_t>(field(p + 8, 2, cd_end, "flags"));
    e.method = static_cast<std::uint16_t>(field(p + 10, 2, cd_end, "method"));
    e.crc32 = static_cast<std::uint32_t>(field(p + 16, 4, cd_end, "crc"));
    e.compressed_size = field(p + 20, 4, cd_end, "compressed size");
    e.size = field(p + 24, 4, cd_end, "size");
    const auto name_length = field(p + 28, 2, cd_end, "name length");
    const auto extra_length = field(p + 30, 2, cd_end, "extra length");
    const auto comment_length = field(p + 32, 2, cd_end, "comment length");
    std::uint64_t disk = field(p + 34, 2, cd_end, "disk");
    e.header_offset = field(p + 42, 4, cd_end, "local header offset");
    const auto name_at = p + central_size;
    require(name_at, name_length + extra_length + comment_length, cd_end,
            "central directory entry name");
    e.name.assign(reinterpret_cast<const char*>(bytes_.data() + name_at),
                  static_cast<std::size_t>(name_length));

    // ZIP64 extra field: the saturated 32-bit fields, in this order.
    const bool need_size = e.size == 0xffffffff, need_csize = e.compressed_size == 0xffffffff;
    const bool need_offset = e.header_offset == 0xffffffff, need_disk = disk == 0xffff;
    bool have_zip64 = false;
    for (std::uint64_t x = name_at + name_length, x_end = x + extra_length; x + 4 <= x_end;) {
      const auto id = field(x, 2, x_end, "extra field");
      const auto length = field(x + 2, 2, x_end, "extra field");
      const auto body = x + 4;
      require(body, length, x_end, "extra field");
      if (id == 0x0001 && !have_zip64) {
        have_zip64 = true;
        auto q = body;
        const auto body_end = body + length;
        const auto take = [&](std::size_t n) {
          const auto v = field(q, n, body_end, "ZIP64 extra field");
          q += n;
          return v;
        };
        if (need_size) e.size = take(8);
        if (need_csize) e.compressed_size = take(8);
        if (need_offset) e.header_offset = take(8);
        if (need_disk) disk = take(4);
      }
      x = body + length;
    }
    if (!have_zip64 && (need_size || need_csize || need_offset || need_disk))
      fail("record '" + e.name + "' has saturated 32-bit sizes but no ZIP64 extra field");
    if (disk != 0) fail("record '" + e.name + "' lies on another disk");
    if (e.flags & 1) fail("record '" + e.name + "' is encrypted");
    p = name_at + name_length + extra_length + comment_length;
    return e;
  }

  // Finds the data behind the local header; it must end before the directory.
  void local_header(zip_entry& e, std::uint64_t cd_offset) const {
    const auto h = e.header_offset;
    if (h > cd_offset || local_size > cd_offset - h)
      fail("record '" + e.name + "': local header offset " + std::to_string(h) +
           " lies beyond the start of the central directory at " + std::to_string(cd_offset));
    if (field(h, 4, "local header") != local_signature)
      fail("record '" + e.name + "': no local header at offset " + std::to_string(h));
    const auto name_length = field(h + 26, 2, "local name length");
    const auto extra_length = field(h + 28, 2, "local extra length");
    const auto name_at = h + local_size;
    require(name_at, name_length, cd_offset, "local header name");
    if (std::string_view(reinterpret_cast<const char*>(bytes_.data() + name_at),
                         static_cast<std::size_t>(name_length)) != e.name)
      fail("record '" + e.name + "': its local header names another record");
    e.data_offset = name_at + name_length + extra_length;
    if (e.method == 0 && e.compressed_size != e.size)
      fail("stored record '" + e.name + "' has compressed size " +
           std::to_string(e.compressed_size) + " but size " + std::to_string(e.size));
    if (e.data_offset > cd_offset || e.compressed_size > cd_offset - e.data_offset)
      fail("record '" + e.name + "' (" + std::to_string(e.compressed_size) + " bytes at offset " +
           std::to_string(e.data_offset) + ") runs beyond the start of the central directory at " +
           std::to_string(cd_offset) + " (truncated or corrupt archive)");
  }

  void check_crc(const zip_entry& e, std::span<const std::byte> data) const {
    const auto crc = ::crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size());
    if (crc != e.crc32) fail("record '" + e.name + "' fails its CRC-32 check (corrupt file)");
  }

  std::vector<std::byte> inflated(const zip_entry& e, bool verify_crc) const;

  std::span<const std::byte> bytes_;
  std::string source_;
  std::vector<zip_entry> entries_;
  std::unordered_map<std::string, std::size_t> index_;
};

/// Inflates one deflated (method 8) record step by step: `inflate_to(out, n)`
/// continues the stream until `out` holds its first n bytes, so a reader that
/// needs only a prefix of a huge record inflates only that prefix. The stream
/// is checked as far as it is read (corrupt or truncated data); reading the
/// whole record also checks that it ends at exactly its declared size and,
/// on request, its CRC-32 (a record read only in part cannot be: its CRC
/// covers every byte). The compressed bytes must outlive the inflater. Not
/// thread-safe: its owner serialises calls. Failures are format_errors naming
/// the archive and the record.
class zip_inflater {
 public:
  zip_inflater(std::span<const std::byte> compressed, zip_entry entry, std::string source,
               bool verify_crc)
      : in_(compressed), e_(std::move(entry)), source_(std::move(source)), verify_(verify_crc) {
    if (e_.method != 8)
      fail("uses compression method " + std::to_string(e_.method) + ", not deflate (8)");
    if (e_.size > e_.compressed_size * zip_archive::max_inflate_ratio + 1024)
      fail("claims an uncompressed size of " + std::to_string(e_.size) +
           " bytes, impossible from " + std::to_string(e_.compressed_size) + " compressed bytes");
    if (inflateInit2(&zs_, -MAX_WBITS) != Z_OK) fail("cannot be inflated: zlib does not start");
  }
  zip_inflater(const zip_inflater&) = delete;
  zip_inflater& operator=(const zip_inflater&) = delete;
  ~zip_inflater() { inflateEnd(&zs_); }

  const zip_entry& entry() const { return e_; }
  /// Bytes inflated so far: out[0, produced()) was filled by earlier calls.
  std::uint64_t produced() const { return zs_.total_out; }

  /// Inflates into out[produced(), n), n <= entry().size; `out` holds the
  /// bytes of earlier calls at [0, produced()).
  void inflate_to(std::byte* out, std::uint64_t n) {
    n = std::min<std::uint64_t>(n, e_.size);
    while (zs_.total_out < n && !ended_)
      step(reinterpret_cast<Bytef*>(out) + zs_.total_out, n - zs_.total_out);
    if (zs_.total_out < n)
      fail("inflates to " + std::to_string(zs_.total_out) + " bytes, not its declared " +
           std::to_string(e_.size));
    if (n == e_.size && !checked_) finish();
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw format_error(source_ + ": deflated record '" + e_.name + "' " + what);
  }

  // One call of inflate(), writing at most `room` bytes at `next`.
  void step(Bytef* next, std::uint64_t room) {
    constexpr std::uint64_t chunk = std::numeric_limits<uInt>::max();
    // zlib never writes through next_in; its type is not const only for old C.
    zs_.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(in_.data()) + zs_.total_in);
    zs_.avail_in = static_cast<uInt>(std::min<std::uint64_t>(in_.size() - zs_.total_in, chunk));
    zs_.next_out = next;
    zs_.avail_out = static_cast<uInt>(std::min(room, chunk));
    const int ret = ::inflate(&zs_, Z_NO_FLUSH);
    crc_ = static_cast<std::uint32_t>(
        ::crc32_z(crc_, next, static_cast<std::size_t>(zs_.next_out - next)));
    if (ret == Z_STREAM_END) {
      ended_ = true;
      return;
    }
    if (ret == Z_OK) return;
    if (ret == Z_BUF_ERROR) fail("is truncated");
    fail("is corrupt (zlib: " + (zs_.msg ? std::string(zs_.msg) : std::to_string(ret)) + ")");
  }

  // The whole record is out: the stream must end here, and match its CRC.
  void finish() {
    if (!ended_) {
      Bytef spare = 0;  // room for one byte beyond the declared size
      while (!ended_ && zs_.total_out == e_.size) step(&spare, 1);
      if (zs_.total_out > e_.size)
        fail("inflates to more than its declared " + std::to_string(e_.size) + " bytes");
    }
    checked_ = true;
    if (verify_ && crc_ != e_.crc32) fail("fails its CRC-32 check (corrupt file)");
  }

  std::span<const std::byte> in_;
  zip_entry e_;
  std::string source_;
  bool verify_ = true;
  bool ended_ = false, checked_ = false;
  std::uint32_t crc_ = 0;
  struct stream : z_stream {
    stream() : z_stream{} {}
  } zs_;
};

inline std::vector<std::byte> zip_archive::inflated(const zip_entry& e, bool verify_crc) const {
  zip_inflater inflater(compressed(e), e, source_, verify_crc);
  // The buffer grows with what inflates, so a forged size costs nothing up front.
  std::vector<std::byte> out;
  do {
    out.resize(static_cast<std::size_t>(std::min<std::uint64_t>(
        e.size, std::max<std::uint64_t>({65536, 2 * out.size(), 4 * e.compressed_size}))));
    inflater.inflate_to(out.data(), out.size());
  } while (out.size() < e.size);
  return out;
}

}  // namespace typenet::io
