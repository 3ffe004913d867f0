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
#include <span>
#include <string>

#include "typenet/config.hpp"
#include "typenet/io/checkpoint.hpp"
#include "typenet/io/errors.hpp"
#include "typenet/io/safetensors.hpp"
#include "typenet/io/torch_file.hpp"

namespace typenet::io {

enum class weight_format { safetensors, torch_zip, torch_legacy };

/// The format of a weight file's bytes (see above).
TYPENET_IO_DECL weight_format detect_weight_format(std::span<const std::byte> bytes);

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
TYPENET_IO_DECL checkpoint read_weight_file(const std::string& path,
                                            const std::string& state_dict_key,
                                            const weight_file_limits& limits = {});

}  // namespace typenet::io

#if !defined(TYPENET_COMPILED_IO)
#include "typenet/io/impl/weight_file.ipp"
#endif
