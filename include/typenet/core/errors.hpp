// typenet/core/errors.hpp — the exceptions typenet throws.
//
// Run-time errors (a wrong batch, a bad file, a NaN loss) are exceptions
// derived from typenet::error, with messages that say what was expected and
// what was found. Compile-time errors are in core/diagnostics.hpp.
#pragma once

#include <stdexcept>
#include <string>

namespace typenet {

struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A tensor or batch does not have the size an operation needs.
struct shape_error : error {
  using error::error;
};

/// A call that is not valid in the object's current state.
struct usage_error : error {
  using error::error;
};

}  // namespace typenet
