// typenet/data/impl/cifar.ipp — the definitions of data/cifar.hpp that are not
// templates: included by that header in the header-only default, compiled
// once into typenet::vision_compiled (src/vision.cpp) under
// TYPENET_COMPILED_VISION.
#pragma once

#include <new>

#include "typenet/data/cifar.hpp"

namespace typenet::data {

TYPENET_VISION_DECL void detail::cifar_records::append(const std::filesystem::path& file,
                                                       std::size_t label_bytes, std::size_t which,
                                                       int classes, const cifar_options& options) {
  const auto raw = read_raw(file, options.max_file_bytes,
                            "the limit for a CIFAR file; cifar_options::max_file_bytes raises it");
  append_bytes(raw, file.string(), label_bytes, which, classes, options);
}

TYPENET_VISION_DECL void detail::cifar_records::append_bytes(std::span<const std::uint8_t> raw,
                                                             const std::string& name,
                                                             std::size_t label_bytes,
                                                             std::size_t which, int classes,
                                                             const cifar_options& options) {
  std::vector<std::uint8_t> inflated;
  std::span<const std::uint8_t> bytes = raw;
  if (is_gzip(raw)) {
    try {
      inflated = gunzip(raw, name, options.max_file_bytes,
                        "the limit for a CIFAR file; cifar_options::max_file_bytes raises it");
    } catch (const std::bad_alloc&) {
      throw data_error(name + ": out of memory inflating it");
    }
    bytes = inflated;
  } else if (raw.size() > options.max_file_bytes) {
    throw data_error(name + ": " + std::to_string(raw.size()) + " bytes, more than the limit of " +
                     std::to_string(options.max_file_bytes) +
                     " (the limit for a CIFAR file; cifar_options::max_file_bytes raises it)");
  }
  const std::size_t record = label_bytes + cifar_pixels;
  if (bytes.empty() || bytes.size() % record != 0)
    throw data_error(name + ": " + std::to_string(bytes.size()) +
                     " bytes is not a whole number of " + std::to_string(record) +
                     "-byte CIFAR records (truncated file, or CIFAR-10 and CIFAR-100 mixed up?)");
  const std::size_t n = bytes.size() / record;
  labels_.reserve(labels_.size() + n);
  pixels_.reserve(pixels_.size() + n * cifar_pixels);
  for (std::size_t i = 0; i < n; ++i) {
    const auto* r = bytes.data() + i * record;
    for (std::size_t l = 0; l < label_bytes; ++l) {
      const int limit = label_bytes == 1 ? classes : (l == 0 ? 20 : 100);
      if (r[l] >= limit)
        throw data_error(name + ": record " + std::to_string(i) + " has label " +
                         std::to_string(r[l]) + ", out of range [0, " + std::to_string(limit) +
                         ")");
    }
    labels_.push_back(r[which]);
    pixels_.insert(pixels_.end(), r + label_bytes, r + record);
  }
}

}  // namespace typenet::data
