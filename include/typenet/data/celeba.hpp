// typenet/data/celeba.hpp — CelebA: face images with 40 binary attributes.
//
//   tn::data::CelebA train("celeba", tn::data::celeba_split::train);
//   auto ex = train.get(0);       // ex.image: the aligned JPEG as RGB;
//                                 // ex.attributes: 40 values in {0, 1}
//   train.attribute_names()[20];  // "Male"
//
// `root` holds what the CelebA site distributes (torchvision's layout):
//   img_align_celeba/000001.jpg ...
//   list_attr_celeba.txt     line 1: the number of images; line 2: the 40
//                            attribute names; then "000001.jpg  -1  1 ..."
//   list_eval_partition.txt  "000001.jpg 0" (0 train, 1 valid, 2 test)
// Attributes -1/1 become 0/1 (torchvision's (attr + 1) // 2), ready for
// BCEWithLogitsLoss. A count that disagrees with the lines, a value other than
// -1 or 1, a row with the wrong number of values, an image without a
// partition entry, or a list beyond celeba_options' bounds (line length,
// attributes, images) throws data_error naming the file and line (and the
// option that raises a bound).
#pragma once

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <istream>
#include <string>
#include <unordered_map>
#include <vector>

#include "typenet/config.hpp"
#include "typenet/data/example.hpp"
#include "typenet/image/image.hpp"

namespace typenet::data {

enum class celeba_split { train, valid, test, all };

/// Bounds on CelebA's two list files; CelebA has 202,599 images, 40
/// attributes and lines of about 250 bytes.
struct celeba_options {
  /// The most bytes one line of either list may have.
  std::size_t max_line_bytes = 64 * 1024;
  /// The most attribute names (line 2 of list_attr_celeba.txt).
  std::size_t max_attributes = 1024;
  /// The most images either list may hold (and list_attr_celeba.txt's line 1 declare).
  std::size_t max_images = 16u << 20;
};

class CelebA {
 public:
  CelebA(const std::filesystem::path& root, celeba_split which,
         read_options options = {.channels = 3}, const celeba_options& limits = {});

  /// The same from the two lists' contents (the in-memory entry point);
  /// `attr_name` and `partition_name` stand for the files in messages, and
  /// images are looked for under `root`/img_align_celeba.
  CelebA(const std::filesystem::path& root, celeba_split which, std::istream& attributes,
         const std::string& attr_name, std::istream& partitions, const std::string& partition_name,
         read_options options = {.channels = 3}, const celeba_options& limits = {});

  std::size_t size() const noexcept { return files_.size(); }
  const std::vector<std::string>& attribute_names() const noexcept { return attribute_names_; }
  std::filesystem::path path(std::size_t i) const {
    detail::check_index(i, size(), "CelebA");
    return images_ / files_[i];
  }
  const std::vector<float>& attributes(std::size_t i) const {
    detail::check_index(i, size(), "CelebA");
    return attributes_[i];
  }

  example get(std::size_t i) const {
    example ex;
    ex.image = read_image(path(i), options_);
    ex.attributes = attributes_[i];
    return ex;
  }

 private:
  static std::ifstream open(const std::filesystem::path& file);

  /// The next line of `in` into `line` (false at the end); a line longer
  /// than max_line_bytes throws instead of growing without bound.
  static bool next_line(std::istream& in, std::string& line, std::vector<char>& buffer,
                        const std::string& name, std::size_t line_no, const celeba_options& limits);

  void read(std::istream& in, const std::string& attr_file, std::istream& partition_in,
            const std::string& partition_file, celeba_split which, const celeba_options& limits);

  static std::unordered_map<std::string, int> read_partitions(std::istream& in,
                                                              const std::string& file,
                                                              const celeba_options& limits);

  std::filesystem::path images_;
  read_options options_;
  std::vector<std::string> attribute_names_;
  std::vector<std::string> files_;
  std::vector<std::vector<float>> attributes_;
};

}  // namespace typenet::data

#if !defined(TYPENET_COMPILED_VISION)
#include "typenet/data/impl/celeba.ipp"
#endif
