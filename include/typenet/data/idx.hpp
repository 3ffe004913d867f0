// typenet/data/idx.hpp — IDX files, and the MNIST and Fashion-MNIST datasets built on them.
//
//   tn::data::FashionMNIST train("/usr/share/datasets/fashion-mnist", tn::data::split::train);
//   train.size();          // 60000
//   auto ex = train.get(0); // ex.image: 28x28x1 in [0, 1]; ex.label in [0, 10)
//
// IDX (LeCun's format): two zero bytes, an element type (0x08 = unsigned
// byte, the only one MNIST uses and the only one read here), the number of
// dimensions, each dimension as a big-endian uint32, then the values. Files
// may be gzip'd (as distributed, and as Debian's dataset-fashion-mnist
// installs them) or plain. The root folder holds
//   train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
//   t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]
// A wrong magic number, a size that disagrees with the header, a header that
// declares more than idx_options::max_values, image and label counts that
// differ, or a label >= 10 throw data_error naming the file. A gzip'd file is
// inflated no further than its header declares (plus one byte, to find
// trailing data), so a gzip bomb costs at most the declared size.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "typenet/data/example.hpp"
#include "typenet/data/file_bytes.hpp"
#include "typenet/image/image.hpp"

namespace typenet::data {

enum class split { train, test };

/// An IDX array of unsigned bytes.
struct idx_array {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> values;
};

/// Bounds on what an IDX file may declare.
struct idx_options {
  /// The most values (the product of the dimensions) a file may declare;
  /// MNIST's largest file holds 47,040,000.
  std::size_t max_values = std::size_t{1} << 31;
};

namespace detail {

/// The header at the start of `b`: the dimensions and the header's size, or
/// nothing when `b` is too short to hold it (`need` is then the bytes it
/// needs). Throws on a bad magic number, type or rank, or dimensions whose
/// product overflows or exceeds idx_options::max_values.
struct idx_header {
  std::vector<std::size_t> dims;
  std::size_t size = 0;   ///< bytes of the header
  std::size_t count = 0;  ///< values that follow
};

inline bool parse_idx_header(std::span<const std::uint8_t> b, const std::string& name,
                             const idx_options& options, idx_header& h, std::size_t& need) {
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

inline std::string idx_count_mismatch(const std::string& name, std::size_t count,
                                      std::size_t data_bytes) {
  return name + ": IDX header promises " + std::to_string(count) + " values but " +
         std::to_string(data_bytes) + " follow (" +
         (data_bytes < count ? "truncated file" : "trailing data") + ")";
}

}  // namespace detail

/// Parses IDX bytes; `name` is the file name for messages.
inline idx_array parse_idx(std::span<const std::uint8_t> b, const std::string& name,
                           const idx_options& options = {}) {
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

/// Reads an IDX file's bytes as they lie on disk, plain or gzip'd (the
/// in-memory entry point; `name` stands for the file in messages). A gzip'd
/// file is inflated only as far as its header declares: the header first,
/// then its values, then one byte more to find trailing data; a stream that
/// inflates beyond the declaration is an error, whatever it would inflate to.
inline idx_array read_idx_bytes(std::span<const std::uint8_t> file, const std::string& name,
                                const idx_options& options = {}) {
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

/// Reads an IDX file, plain or gzip'd.
inline idx_array read_idx(const std::filesystem::path& path, const idx_options& options = {}) {
  return read_idx_bytes(detail::read_raw(path), path.string(), options);
}

/// MNIST-format images and labels: 1-channel images with labels in [0, classes).
class MNIST {
 public:
  /// The `split` files under `root`, each plain or with ".gz".
  MNIST(const std::filesystem::path& root, split s)
      : MNIST(
            find(root, s == split::train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte"),
            find(root, s == split::train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte")) {}

  /// An images file (N x H x W) and a labels file (N).
  MNIST(const std::filesystem::path& images_file, const std::filesystem::path& labels_file,
        int classes = 10) {
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

  std::size_t size() const noexcept { return labels_.size(); }
  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }
  int label(std::size_t index) const {
    detail::check_index(index, size(), "MNIST");
    return labels_[index];
  }
  /// The raw bytes of image `index` (row-major, 0 = white background in MNIST).
  std::span<const std::uint8_t> pixels(std::size_t index) const {
    detail::check_index(index, size(), "MNIST");
    const std::size_t n = static_cast<std::size_t>(width_) * static_cast<std::size_t>(height_);
    return {pixels_.data() + index * n, n};
  }

  example get(std::size_t index) const {
    example ex;
    ex.image = from_bytes(pixels(index), width_, height_, 1);
    ex.label = labels_[index];
    return ex;
  }

 private:
  static std::filesystem::path find(const std::filesystem::path& root, const std::string& stem) {
    for (const auto& name : {stem, stem + ".gz"}) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(root / name, ec)) return root / name;
    }
    throw data_error((root / stem).string() + "[.gz]: no such file (expected the MNIST layout: " +
                     "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, " +
                     "t10k-labels-idx1-ubyte, each plain or gzip'd)");
  }

  int width_ = 0;
  int height_ = 0;
  std::vector<std::uint8_t> pixels_;
  std::vector<std::uint8_t> labels_;
};

/// Fashion-MNIST has MNIST's format and file names; only the classes differ.
class FashionMNIST : public MNIST {
 public:
  using MNIST::MNIST;
  static constexpr const char* classes[10] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                              "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                              "Bag",         "Ankle boot"};
};

}  // namespace typenet::data
