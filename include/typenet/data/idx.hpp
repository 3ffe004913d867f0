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
// A wrong magic number, a size that disagrees with the header, image and
// label counts that differ, or a label >= 10 throw data_error naming the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
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

/// Parses IDX bytes; `name` is the file name for messages.
inline idx_array parse_idx(std::span<const std::uint8_t> b, const std::string& name) {
  if (b.size() < 4)
    throw data_error(name + ": too short for an IDX file (" + std::to_string(b.size()) + " bytes)");
  if (b[0] != 0 || b[1] != 0)
    throw data_error(name + ": not an IDX file (magic number starts with " + std::to_string(b[0]) +
                     ", " + std::to_string(b[1]) + " instead of 0, 0)");
  if (b[2] != 0x08)
    throw data_error(name + ": IDX element type " + std::to_string(b[2]) +
                     " is not supported (only 8 = unsigned byte, as in MNIST)");
  const std::size_t rank = b[3];
  if (rank == 0) throw data_error(name + ": IDX file with 0 dimensions");
  if (b.size() < 4 + 4 * rank)
    throw data_error(name + ": truncated IDX header (" + std::to_string(rank) + " dimensions)");
  idx_array a;
  std::size_t count = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    const auto* p = b.data() + 4 + 4 * d;
    const std::size_t n = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) |
                          (std::size_t{p[2]} << 8) | std::size_t{p[3]};
    a.dims.push_back(n);
    if (n != 0 && count > (std::size_t{1} << 40) / n)
      throw data_error(name + ": IDX dimensions too large");
    count *= n;
  }
  const std::size_t data_bytes = b.size() - 4 - 4 * rank;
  if (data_bytes != count)
    throw data_error(name + ": IDX header promises " + std::to_string(count) + " values but " +
                     std::to_string(data_bytes) + " follow (" +
                     (data_bytes < count ? "truncated file" : "trailing data") + ")");
  a.values.assign(b.begin() + static_cast<std::ptrdiff_t>(4 + 4 * rank), b.end());
  return a;
}

/// Reads an IDX file, plain or gzip'd.
inline idx_array read_idx(const std::filesystem::path& path) {
  return parse_idx(read_file_bytes(path), path.string());
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
