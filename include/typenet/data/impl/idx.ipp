// typenet/data/impl/idx.ipp — the definitions of data/idx.hpp that are not
// templates: included by that header in the header-only default, compiled
// once into typenet::vision_compiled (src/vision.cpp) under
// TYPENET_COMPILED_VISION.
#pragma once

#include <algorithm>
#include <new>

#include "typenet/data/gzip_stream.hpp"
#include "typenet/data/idx.hpp"

namespace typenet::data {

namespace detail {

TYPENET_VISION_DECL bool parse_idx_header(std::span<const std::uint8_t> b, const std::string& name,
                                          const idx_options& options, idx_header& h,
                                          std::size_t& need) {
  need = 4;
  if (b.size() < 4) return false;
  if (b[0] != 0 || b[1] != 0)
    throw data_error(name + ": not an IDX file (magic number starts with " + std::to_string(b[0]) +
                     ", " + std::to_string(b[1]) + " instead of 0, 0)");
  if (b[2] != 0x08)
    throw data_error(name + ": IDX element type " + std::to_string(b[2]) +
                     " is not supported (only 8 = unsigned byte, as in MNIST)");
  const std::size_t rank = b[3];
  if (rank == 0) throw data_error(name + ": IDX file with 0 dimensions");
  need = 4 + 4 * rank;
  if (b.size() < need) return false;
  h.dims.clear();
  h.size = need;
  h.count = 1;
  bool zero = false;
  // Saturates just above max_values (and at 2^64 - 1 when that is the limit).
  const std::uint64_t cap = std::uint64_t{options.max_values} < UINT64_MAX
                                ? std::uint64_t{options.max_values} + 1
                                : UINT64_MAX;
  std::uint64_t count = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    const auto* p = b.data() + 4 + 4 * d;
    const std::size_t n = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) |
                          (std::size_t{p[2]} << 8) | std::size_t{p[3]};
    h.dims.push_back(n);
    zero = zero || n == 0;
    std::uint64_t product = 0;
    if (n != 0) count = __builtin_mul_overflow(count, n, &product) ? cap : std::min(product, cap);
  }
  if (!zero && count > options.max_values) {
    std::string dims;
    for (const auto n : h.dims) dims += (dims.empty() ? "" : " x ") + std::to_string(n);
    throw data_error(name + ": IDX header declares " + dims + " values, more than the limit of " +
                     std::to_string(options.max_values) + " (idx_options::max_values raises it)");
  }
  h.count = zero ? 0 : static_cast<std::size_t>(count);
  return true;
}

}  // namespace detail

namespace detail {

TYPENET_VISION_DECL std::string idx_count_mismatch(const std::string& name, std::size_t count,
                                                   std::size_t data_bytes) {
  return name + ": IDX header promises " + std::to_string(count) + " values but " +
         std::to_string(data_bytes) + " follow (" +
         (data_bytes < count ? "truncated file" : "trailing data") + ")";
}

}  // namespace detail

TYPENET_VISION_DECL idx_array parse_idx(std::span<const std::uint8_t> b, const std::string& name,
                                        const idx_options& options) {
  detail::idx_header h;
  std::size_t need = 0;
  if (!detail::parse_idx_header(b, name, options, h, need)) {
    if (need == 4)
      throw data_error(name + ": too short for an IDX file (" + std::to_string(b.size()) +
                       " bytes)");
    throw data_error(name + ": truncated IDX header (" + std::to_string((need - 4) / 4) +
                     " dimensions)");
  }
  const std::size_t data_bytes = b.size() - h.size;
  if (data_bytes != h.count)
    throw data_error(detail::idx_count_mismatch(name, h.count, data_bytes));
  idx_array a;
  a.dims = std::move(h.dims);
  a.values.assign(b.begin() + static_cast<std::ptrdiff_t>(h.size), b.end());
  return a;
}

TYPENET_VISION_DECL idx_array read_idx_bytes(std::span<const std::uint8_t> file,
                                             const std::string& name, const idx_options& options) {
  if (!detail::is_gzip(file)) return parse_idx(file, name, options);
  try {
    gzip_stream z(file, name);
    std::vector<std::uint8_t> head(4);
    detail::idx_header h;
    std::size_t need = 0;
    std::size_t have = z.read(head.data(), 4);
    while (!detail::parse_idx_header(std::span(head.data(), have), name, options, h, need) &&
           have == head.size() && need > have) {
      head.resize(need);
      have += z.read(head.data() + have, need - have);
    }
    if (have < need) return parse_idx(std::span(head.data(), have), name, options);  // throws
    idx_array a;
    a.dims = std::move(h.dims);
    // The buffer grows with what inflates: a header that declares much and
    // a stream that holds little cost only what the stream holds.
    std::size_t got = 0;
    while (got < h.count) {
      a.values.resize(std::min(h.count, std::max<std::size_t>(2 * got, std::size_t{1} << 20)));
      const std::size_t n = z.read(a.values.data() + got, a.values.size() - got);
      got += n;
      if (got < a.values.size()) break;  // the stream ended
    }
    if (got < h.count) throw data_error(detail::idx_count_mismatch(name, h.count, got));
    std::uint8_t spare;
    if (z.read(&spare, 1) != 0)
      throw data_error(name + ": inflates to more than the " + std::to_string(h.size + h.count) +
                       " bytes its IDX header declares (trailing data)");
    return a;
  } catch (const std::bad_alloc&) {
    throw data_error(name + ": out of memory reading it (idx_options::max_values bounds it)");
  }
}

TYPENET_VISION_DECL idx_array read_idx(const std::filesystem::path& path,
                                       const idx_options& options) {
  return read_idx_bytes(detail::read_raw(path), path.string(), options);
}
TYPENET_VISION_DECL MNIST::MNIST(const std::filesystem::path& images_file,
                                 const std::filesystem::path& labels_file, int classes) {
  auto images = read_idx(images_file);
  auto labels = read_idx(labels_file);
  if (images.dims.size() != 3)
    throw data_error(images_file.string() + ": expected 3 dimensions (N x H x W), got " +
                     std::to_string(images.dims.size()));
  if (labels.dims.size() != 1)
    throw data_error(labels_file.string() + ": expected 1 dimension (N), got " +
                     std::to_string(labels.dims.size()));
  if (images.dims[0] != labels.dims[0])
    throw data_error(images_file.string() + " holds " + std::to_string(images.dims[0]) +
                     " images but " + labels_file.string() + " holds " +
                     std::to_string(labels.dims[0]) + " labels");
  for (std::size_t i = 0; i < labels.values.size(); ++i)
    if (labels.values[i] >= classes)
      throw data_error(labels_file.string() + ": label " + std::to_string(labels.values[i]) +
                       " of example " + std::to_string(i) + " is out of range [0, " +
                       std::to_string(classes) + ")");
  height_ = static_cast<int>(images.dims[1]);
  width_ = static_cast<int>(images.dims[2]);
  pixels_ = std::move(images.values);
  labels_ = std::move(labels.values);
}
TYPENET_VISION_DECL std::filesystem::path MNIST::find(const std::filesystem::path& root,
                                                      const std::string& stem) {
  for (const auto& name : {stem, stem + ".gz"}) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(root / name, ec)) return root / name;
  }
  throw data_error((root / stem).string() + "[.gz]: no such file (expected the MNIST layout: " +
                   "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, " +
                   "t10k-labels-idx1-ubyte, each plain or gzip'd)");
}
}  // namespace typenet::data
