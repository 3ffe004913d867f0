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
// -1 or 1, a row with the wrong number of values, or an image without a
// partition entry throws data_error naming the file and line.
#pragma once

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "typenet/data/example.hpp"
#include "typenet/image/image.hpp"

namespace typenet::data {

enum class celeba_split { train, valid, test, all };

class CelebA {
 public:
  CelebA(const std::filesystem::path& root, celeba_split which,
         read_options options = {.channels = 3})
      : images_(root / "img_align_celeba"), options_(options) {
    const auto attr_file = root / "list_attr_celeba.txt";
    const auto partition_file = root / "list_eval_partition.txt";
    const auto partitions = read_partitions(partition_file);
    std::ifstream in = open(attr_file);
    std::string line;
    std::size_t line_no = 1;
    long long declared = -1;
    if (!std::getline(in, line) || !(std::istringstream(line) >> declared) || declared < 0)
      throw data_error(attr_file.string() + ":1: expected the number of images");
    ++line_no;
    if (!std::getline(in, line))
      throw data_error(attr_file.string() + ":2: missing attribute names");
    {
      std::istringstream names(line);
      for (std::string n; names >> n;) attribute_names_.push_back(n);
    }
    if (attribute_names_.empty()) throw data_error(attr_file.string() + ":2: no attribute names");
    std::size_t rows = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      ++rows;
      std::istringstream fields(line);
      std::string file;
      fields >> file;
      std::vector<float> attrs;
      for (std::string v; fields >> v;) {
        if (v != "1" && v != "-1")
          throw data_error(attr_file.string() + ":" + std::to_string(line_no) +
                           ": attribute value '" + v + "' for " + file + " is not -1 or 1");
        attrs.push_back(v == "1" ? 1.0f : 0.0f);
      }
      if (attrs.size() != attribute_names_.size())
        throw data_error(attr_file.string() + ":" + std::to_string(line_no) + ": " + file +
                         " has " + std::to_string(attrs.size()) + " attribute values, expected " +
                         std::to_string(attribute_names_.size()));
      const auto p = partitions.find(file);
      if (p == partitions.end())
        throw data_error(partition_file.string() + ": no partition for " + file + " (listed in " +
                         attr_file.string() + ")");
      if (which == celeba_split::all || p->second == static_cast<int>(which)) {
        files_.push_back(file);
        attributes_.push_back(std::move(attrs));
      }
    }
    if (static_cast<long long>(rows) != declared)
      throw data_error(attr_file.string() + ": line 1 declares " + std::to_string(declared) +
                       " images but " + std::to_string(rows) + " rows follow");
  }

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
  static std::ifstream open(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in)
      throw data_error(file.string() + ": cannot open (CelebA expects it in the root folder)");
    return in;
  }

  static std::unordered_map<std::string, int> read_partitions(const std::filesystem::path& file) {
    std::ifstream in = open(file);
    std::unordered_map<std::string, int> partitions;
    std::string line;
    for (std::size_t line_no = 1; std::getline(in, line); ++line_no) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      std::istringstream fields(line);
      std::string name;
      int part = -1;
      std::string extra;
      if (!(fields >> name >> part) || part < 0 || part > 2 || (fields >> extra))
        throw data_error(file.string() + ":" + std::to_string(line_no) +
                         ": expected '<image file> <0, 1 or 2>'");
      partitions[name] = part;
    }
    return partitions;
  }

  std::filesystem::path images_;
  read_options options_;
  std::vector<std::string> attribute_names_;
  std::vector<std::string> files_;
  std::vector<std::vector<float>> attributes_;
};

}  // namespace typenet::data
