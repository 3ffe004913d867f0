// typenet/data/impl/celeba.ipp — the definitions of data/celeba.hpp that are not
// templates: included by that header in the header-only default, compiled
// once into typenet::vision_compiled (src/vision.cpp) under
// TYPENET_COMPILED_VISION.
#pragma once

#include <algorithm>
#include <fstream>
#include <istream>
#include <sstream>
#include <unordered_map>

#include "typenet/data/celeba.hpp"

namespace typenet::data {

TYPENET_VISION_DECL CelebA::CelebA(const std::filesystem::path& root, celeba_split which,
                                   read_options options, const celeba_options& limits)
    : images_(root / "img_align_celeba"), options_(options) {
  const auto attr_file = root / "list_attr_celeba.txt";
  const auto partition_file = root / "list_eval_partition.txt";
  std::ifstream partitions = open(partition_file);
  std::ifstream attributes = open(attr_file);
  read(attributes, attr_file.string(), partitions, partition_file.string(), which, limits);
}

TYPENET_VISION_DECL CelebA::CelebA(const std::filesystem::path& root, celeba_split which,
                                   std::istream& attributes, const std::string& attr_name,
                                   std::istream& partitions, const std::string& partition_name,
                                   read_options options, const celeba_options& limits)
    : images_(root / "img_align_celeba"), options_(options) {
  read(attributes, attr_name, partitions, partition_name, which, limits);
}

TYPENET_VISION_DECL std::ifstream CelebA::open(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw data_error(file.string() + ": cannot open (CelebA expects it in the root folder)");
  return in;
}

TYPENET_VISION_DECL bool CelebA::next_line(std::istream& in, std::string& line,
                                           std::vector<char>& buffer, const std::string& name,
                                           std::size_t line_no, const celeba_options& limits) {
  // The buffer is allocated whole, so a raised limit is capped at 1 GiB.
  buffer.resize(std::min(limits.max_line_bytes, std::size_t{1} << 30) + 1);
  in.getline(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  const auto got = static_cast<std::size_t>(in.gcount());
  if (in.bad()) throw data_error(name + ":" + std::to_string(line_no) + ": read error");
  if (in.fail()) {
    if (in.eof() && got == 0) return false;
    throw data_error(name + ":" + std::to_string(line_no) + ": line longer than " +
                     std::to_string(limits.max_line_bytes) +
                     " bytes (celeba_options::max_line_bytes raises the limit)");
  }
  line.assign(buffer.data(), got - (in.eof() ? 0 : 1));
  return true;
}

TYPENET_VISION_DECL void CelebA::read(std::istream& in, const std::string& attr_file,
                                      std::istream& partition_in, const std::string& partition_file,
                                      celeba_split which, const celeba_options& limits) {
  const auto partitions = read_partitions(partition_in, partition_file, limits);
  std::string line;
  std::vector<char> buffer;
  std::size_t line_no = 1;
  long long declared = -1;
  if (!next_line(in, line, buffer, attr_file, line_no, limits) ||
      !(std::istringstream(line) >> declared) || declared < 0)
    throw data_error(attr_file + ":1: expected the number of images");
  if (static_cast<unsigned long long>(declared) > limits.max_images)
    throw data_error(attr_file + ":1: declares " + std::to_string(declared) +
                     " images, more than the limit of " + std::to_string(limits.max_images) +
                     " (celeba_options::max_images raises it)");
  ++line_no;
  if (!next_line(in, line, buffer, attr_file, line_no, limits))
    throw data_error(attr_file + ":2: missing attribute names");
  {
    std::istringstream names(line);
    for (std::string n; names >> n;) {
      if (attribute_names_.size() == limits.max_attributes)
        throw data_error(attr_file + ":2: more than " + std::to_string(limits.max_attributes) +
                         " attribute names (celeba_options::max_attributes raises the limit)");
      attribute_names_.push_back(n);
    }
  }
  if (attribute_names_.empty()) throw data_error(attr_file + ":2: no attribute names");
  std::size_t rows = 0;
  while (next_line(in, line, buffer, attr_file, line_no + 1, limits)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (++rows > static_cast<std::size_t>(declared))
      throw data_error(attr_file + ":" + std::to_string(line_no) + ": line 1 declares " +
                       std::to_string(declared) + " images but more rows follow");
    std::istringstream fields(line);
    std::string file;
    fields >> file;
    std::vector<float> attrs;
    for (std::string v; fields >> v;) {
      if (v != "1" && v != "-1")
        throw data_error(attr_file + ":" + std::to_string(line_no) + ": attribute value '" +
                         v.substr(0, 40) + "' for " + file.substr(0, 80) + " is not -1 or 1");
      if (attrs.size() == attribute_names_.size())
        throw data_error(attr_file + ":" + std::to_string(line_no) + ": " + file.substr(0, 80) +
                         " has more than " + std::to_string(attribute_names_.size()) +
                         " attribute values");
      attrs.push_back(v == "1" ? 1.0f : 0.0f);
    }
    if (attrs.size() != attribute_names_.size())
      throw data_error(attr_file + ":" + std::to_string(line_no) + ": " + file.substr(0, 80) +
                       " has " + std::to_string(attrs.size()) + " attribute values, expected " +
                       std::to_string(attribute_names_.size()));
    const auto p = partitions.find(file);
    if (p == partitions.end())
      throw data_error(partition_file + ": no partition for " + file.substr(0, 80) +
                       " (listed in " + attr_file + ")");
    if (which == celeba_split::all || p->second == static_cast<int>(which)) {
      files_.push_back(file);
      attributes_.push_back(std::move(attrs));
    }
  }
  if (static_cast<long long>(rows) != declared)
    throw data_error(attr_file + ": line 1 declares " + std::to_string(declared) + " images but " +
                     std::to_string(rows) + " rows follow");
}

TYPENET_VISION_DECL std::unordered_map<std::string, int> CelebA::read_partitions(
    std::istream& in, const std::string& file, const celeba_options& limits) {
  std::unordered_map<std::string, int> partitions;
  std::string line;
  std::vector<char> buffer;
  for (std::size_t line_no = 1; next_line(in, line, buffer, file, line_no, limits); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream fields(line);
    std::string name;
    int part = -1;
    std::string extra;
    if (!(fields >> name >> part) || part < 0 || part > 2 || (fields >> extra))
      throw data_error(file + ":" + std::to_string(line_no) +
                       ": expected '<image file> <0, 1 or 2>'");
    partitions[name] = part;
    if (partitions.size() > limits.max_images)
      throw data_error(file + ":" + std::to_string(line_no) + ": more than " +
                       std::to_string(limits.max_images) +
                       " images (celeba_options::max_images raises the limit)");
  }
  return partitions;
}

}  // namespace typenet::data
