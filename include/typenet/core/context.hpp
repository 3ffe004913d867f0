// typenet/core/context.hpp — what a forward or backward call needs to know.
//
// Passed down the network by value: training or evaluation, whether the
// caller wants the input gradient, and a random stream that containers split
// per child, so every Dropout draws its own reproducible numbers.
#pragma once

#include <cstdint>

#include "typenet/config.hpp"

namespace typenet {

/// SplitMix64 finalizer: a cheap, well-mixed hash for counter-based randomness.
TYPENET_HOST_DEVICE constexpr std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// A uniform number in [0, 1) from (stream, index): counter-based, so the
/// result depends neither on the thread nor on the device that computes it.
TYPENET_HOST_DEVICE constexpr double uniform_at(std::uint64_t stream, std::uint64_t index) {
  return static_cast<double>(mix64(stream ^ mix64(index)) >> 11) * 0x1.0p-53;
}

struct scope_frame;  // nn/scope.hpp

struct run_context {
  bool training = true;
  /// Whether backward must produce the gradient with respect to the input.
  bool need_input_grad = true;
  /// Identifies the current forward step and, after child(), the layer.
  std::uint64_t stream = 0;
  /// The earlier outputs the layers below can reach by name (nn/scope.hpp);
  /// set by the innermost Sequential whose children refer to names.
  const scope_frame* scope = nullptr;

  /// The context of child `index` of a container.
  constexpr run_context child(std::uint64_t index, bool needs_input_grad) const {
    run_context c = *this;
    c.stream = mix64(stream ^ mix64(index + 1));
    c.need_input_grad = needs_input_grad;
    return c;
  }
};

}  // namespace typenet
