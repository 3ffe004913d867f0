// typenet/data/cifar.hpp — CIFAR-10 and CIFAR-100 binary batches.
//
//   tn::data::CIFAR10 train("cifar-10-batches-bin", tn::data::split::train);  // 50000 examples
//   tn::data::CIFAR100 test("cifar-100-binary", tn::data::split::test,
//                           tn::data::cifar100_labels::coarse);              // 20 superclasses
//
// The "binary version" from https://www.cs.toronto.edu/~kriz/cifar.html:
//   CIFAR-10:  data_batch_1.bin ... data_batch_5.bin, test_batch.bin; each
//              record is 1 label byte (0-9) and 3072 pixel bytes.
//   CIFAR-100: train.bin, test.bin; each record is a coarse label byte (0-19),
//              a fine label byte (0-99) and 3072 pixel bytes.
// Pixels are the red, green and blue planes of a 32x32 image, rows top to
// bottom. Examples are 32x32x3 images in [0, 1]. A file whose size is not a
// whole number of records, a label out of range, or a file (read or, when
// gzip'd, inflated) larger than cifar_options::max_file_bytes throws
// data_error naming the file, the record or the limit.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "typenet/config.hpp"
#include "typenet/data/example.hpp"
#include "typenet/data/file_bytes.hpp"
#include "typenet/data/idx.hpp"
#include "typenet/image/image.hpp"

namespace typenet::data {

enum class cifar100_labels { fine, coarse };

/// Bounds on what a CIFAR batch file may hold.
struct cifar_options {
  /// The most bytes one file may hold (or inflate to, when gzip'd); the
  /// largest official file (CIFAR-100's train.bin) has 153,700,000.
  std::size_t max_file_bytes = std::size_t{1} << 30;
};

namespace detail {

inline constexpr std::size_t cifar_pixels = 32 * 32 * 3;

/// Records of `label_bytes` labels then 3072 pixels; keeps label `which`.
class cifar_records {
 public:
  void append(const std::filesystem::path& file, std::size_t label_bytes, std::size_t which,
              int classes, const cifar_options& options);

  /// The same from a file's bytes as they lie on disk (plain or gzip'd).
  void append_bytes(std::span<const std::uint8_t> raw, const std::string& name,
                    std::size_t label_bytes, std::size_t which, int classes,
                    const cifar_options& options);

  std::size_t size() const noexcept { return labels_.size(); }
  int label(std::size_t i) const noexcept { return labels_[i]; }

  example get(std::size_t i) const {
    example ex;
    ex.image = image(32, 32, 3);
    const auto* planes = pixels_.data() + i * cifar_pixels;
    float* out = ex.image.data();
    for (std::size_t p = 0; p < 32 * 32; ++p)
      for (std::size_t c = 0; c < 3; ++c)
        out[p * 3 + c] = static_cast<float>(planes[c * 32 * 32 + p]) / 255.0f;
    ex.label = labels_[i];
    return ex;
  }

 private:
  std::vector<std::uint8_t> labels_;
  std::vector<std::uint8_t> pixels_;
};

}  // namespace detail

class CIFAR10 {
 public:
  /// The batches of `split` under `root` (the extracted cifar-10-batches-bin).
  CIFAR10(const std::filesystem::path& root, split s, const cifar_options& options = {}) {
    if (s == split::train)
      for (int b = 1; b <= 5; ++b)
        records_.append(root / ("data_batch_" + std::to_string(b) + ".bin"), 1, 0, 10, options);
    else
      records_.append(root / "test_batch.bin", 1, 0, 10, options);
  }
  /// Any list of CIFAR-10 batch files, in order.
  explicit CIFAR10(std::span<const std::filesystem::path> files,
                   const cifar_options& options = {}) {
    for (const auto& f : files) records_.append(f, 1, 0, 10, options);
  }
  /// One batch file's bytes as they lie on disk (plain or gzip'd); `name`
  /// stands for the file in messages.
  CIFAR10(std::span<const std::uint8_t> file_bytes, const std::string& name,
          const cifar_options& options = {}) {
    records_.append_bytes(file_bytes, name, 1, 0, 10, options);
  }

  std::size_t size() const noexcept { return records_.size(); }
  int label(std::size_t i) const {
    detail::check_index(i, size(), "CIFAR10");
    return records_.label(i);
  }
  example get(std::size_t i) const {
    detail::check_index(i, size(), "CIFAR10");
    return records_.get(i);
  }

  static constexpr std::array<const char*, 10> classes = {
      "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

 private:
  detail::cifar_records records_;
};

class CIFAR100 {
 public:
  /// train.bin or test.bin under `root` (the extracted cifar-100-binary), with
  /// fine (100 classes) or coarse (20 superclasses) labels.
  CIFAR100(const std::filesystem::path& root, split s,
           cifar100_labels labels = cifar100_labels::fine, const cifar_options& options = {})
      : CIFAR100(root / (s == split::train ? "train.bin" : "test.bin"), labels, options) {}
  CIFAR100(const std::filesystem::path& file, cifar100_labels labels,
           const cifar_options& options = {})
      : labels_(labels) {
    records_.append(file, 2, labels == cifar100_labels::coarse ? 0 : 1, 100, options);
  }
  /// A file's bytes as they lie on disk (plain or gzip'd); `name` stands for
  /// the file in messages.
  CIFAR100(std::span<const std::uint8_t> file_bytes, const std::string& name,
           cifar100_labels labels, const cifar_options& options = {})
      : labels_(labels) {
    records_.append_bytes(file_bytes, name, 2, labels == cifar100_labels::coarse ? 0 : 1, 100,
                          options);
  }

  std::size_t size() const noexcept { return records_.size(); }
  int classes() const noexcept { return labels_ == cifar100_labels::coarse ? 20 : 100; }
  int label(std::size_t i) const {
    detail::check_index(i, size(), "CIFAR100");
    return records_.label(i);
  }
  example get(std::size_t i) const {
    detail::check_index(i, size(), "CIFAR100");
    return records_.get(i);
  }

 private:
  cifar100_labels labels_;
  detail::cifar_records records_;
};

}  // namespace typenet::data

#if !defined(TYPENET_COMPILED_VISION)
#include "typenet/data/impl/cifar.ipp"
#endif
