// typenet/io/weight_file.hpp — open any supported weight file by its content.
//
// The first bytes decide, not the extension: "PK\3\4" is PyTorch's zip
// format; an 8-byte little-endian length that fits the file followed by '{'
// is safetensors (checked before pickle: a header length such as 0x0480
// starts with the byte 0x80 too); a pickle protocol marker (0x80, protocol
// 2 to 5) is the legacy torch.save format; anything else is read as
// safetensors, whose reader says what is wrong.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "typenet/io/checkpoint.hpp"
#include "typenet/io/errors.hpp"
#include "typenet/io/mapped_file.hpp"
#include "typenet/io/safetensors.hpp"
#include "typenet/io/torch_file.hpp"

namespace typenet::io {

enum class weight_format { safetensors, torch_zip, torch_legacy };

inline weight_format detect_weight_format(std::span<const std::byte> bytes) {
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

/// The limits of every format's reader, for a file whose format is not known yet.
struct weight_file_limits {
  safetensors_limits safetensors{};
  /// Bounds on a PyTorch file's pickle (torch_read_options::pickle_limits).
  pickle::limits pickle{};
  /// torch_read_options::max_pickle_bytes.
  std::uint64_t max_pickle_bytes = torch_read_options{}.max_pickle_bytes;
};

/// Reads a weight file into a checkpoint. `state_dict_key` selects the entry
/// of a PyTorch checkpoint dict that holds the state dict ("" : the file is
/// the state dict; "*": find it, see torch_read_options).
inline checkpoint read_weight_file(const std::string& path, const std::string& state_dict_key,
                                   const weight_file_limits& limits = {}) {
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
