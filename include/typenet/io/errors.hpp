// typenet/io/errors.hpp — errors of reading and writing files.
#pragma once

#include <string>

#include "typenet/core/errors.hpp"

namespace typenet {

/// A weight file is malformed, truncated, or not what it claims to be. The
/// message names the file and the offending entry.
struct format_error : error {
  using error::error;
};

/// The operating system refused a file operation (permissions, a full disk,
/// a missing directory); the message names the file, the step and the
/// system's reason (strerror).
struct file_error : error {
  using error::error;
};

/// A file is well formed but does not fit the model: a missing or unexpected
/// key, a shape or dtype mismatch, another architecture.
struct weights_mismatch : error {
  using error::error;
};

}  // namespace typenet
