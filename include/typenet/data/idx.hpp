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

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "typenet/config.hpp"
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

TYPENET_VISION_DECL bool parse_idx_header(std::span<const std::uint8_t> b, const std::string& name,
                                          const idx_options& options, idx_header& h,
                                          std::size_t& need);

TYPENET_VISION_DECL std::string idx_count_mismatch(const std::string& name, std::size_t count,
                                                   std::size_t data_bytes);

}  // namespace detail

/// Parses IDX bytes; `name` is the file name for messages.
TYPENET_VISION_DECL idx_array parse_idx(std::span<const std::uint8_t> b, const std::string& name,
                                        const idx_options& options = {});

/// Reads an IDX file's bytes as they lie on disk, plain or gzip'd (the
/// in-memory entry point; `name` stands for the file in messages). A gzip'd
/// file is inflated only as far as its header declares: the header first,
/// then its values, then one byte more to find trailing data; a stream that
/// inflates beyond the declaration is an error, whatever it would inflate to.
TYPENET_VISION_DECL idx_array read_idx_bytes(std::span<const std::uint8_t> file,
                                             const std::string& name,
                                             const idx_options& options = {});

/// Reads an IDX file, plain or gzip'd.
TYPENET_VISION_DECL idx_array read_idx(const std::filesystem::path& path,
                                       const idx_options& options = {});

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
        int classes = 10);

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
  static std::filesystem::path find(const std::filesystem::path& root, const std::string& stem);

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

#if !defined(TYPENET_COMPILED_VISION)
#include "typenet/data/impl/idx.ipp"
#endif
