// typenet/io/pickle_limits.hpp — the bounds on one pickle (io/unpickler.hpp),
// apart from the unpickler itself so that torch_read_options can carry them
// without the unpickler's code.
#pragma once

#include <cstddef>

namespace typenet::io::pickle {

/// Bounds on what one pickle may build; torch.save's state dicts stay far below.
struct limits {
  std::size_t max_objects = std::size_t{1} << 24;
  /// Container items, tensor dimensions and bytes copied from one object into
  /// another, together: what memo references (BINGET) could otherwise multiply.
  std::size_t max_items = std::size_t{1} << 25;
  std::size_t max_stack = std::size_t{1} << 22;
  std::size_t max_memo = std::size_t{1} << 22;
  /// Open MARKs at once: Python's own pickler nests no deeper than its recursion limit (~1000).
  std::size_t max_marks = 4096;
  /// Dimensions of a tensor (PyTorch's limit is 64 too).
  std::size_t max_rank = 64;
};

}  // namespace typenet::io::pickle
