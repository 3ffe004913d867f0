// typenet/io/impl/weight_file.ipp — the definitions of io/weight_file.hpp:
// included by that header in the header-only default, compiled once into
// typenet::io_compiled (src/io.cpp) under TYPENET_COMPILED_IO.
#pragma once

#include <memory>

#include "typenet/io/mapped_file.hpp"
#include "typenet/io/weight_file.hpp"

namespace typenet::io {

TYPENET_IO_DECL weight_format detect_weight_format(std::span<const std::byte> bytes) {
  const auto at = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  if (bytes.size() >= 4 && at(0) == 'P' && at(1) == 'K' && at(2) == 3 && at(3) == 4)
    return weight_format::torch_zip;
  if (bytes.size() >= 9 && at(8) == '{') {
    std::uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = (length << 8) | at(static_cast<std::size_t>(i));
    if (length <= bytes.size() - 8) return weight_format::safetensors;
  }
  if (bytes.size() >= 2 && at(0) == 0x80 && at(1) >= 2 && at(1) <= 5)
    return weight_format::torch_legacy;
  return weight_format::safetensors;
}

TYPENET_IO_DECL checkpoint read_weight_file(const std::string& path,
                                            const std::string& state_dict_key,
                                            const weight_file_limits& limits) {
  auto file = std::make_shared<mapped_file>(path);
  switch (detect_weight_format(file->bytes())) {
    case weight_format::safetensors:
      return read_safetensors(file, path, limits.safetensors);
    case weight_format::torch_zip:
    case weight_format::torch_legacy: {
      torch_read_options options;
      options.state_dict_key = state_dict_key;
      options.pickle_limits = limits.pickle;
      options.max_pickle_bytes = limits.max_pickle_bytes;
      return read_torch(std::move(file), path, options);
    }
  }
  return {};
}

}  // namespace typenet::io
