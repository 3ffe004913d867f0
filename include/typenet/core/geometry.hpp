// typenet/core/geometry.hpp — the run-time description kernels receive.
//
// Layers know their geometry at compile time; they hand it to backend
// kernels as these small constexpr structs, so one kernel instantiation
// serves every layer of a network and the CUDA kernels take them by value.
#pragma once

#include <cstdint>

#include "typenet/config.hpp"

namespace typenet {

/// A 2-d sliding window from an input map (in_*) to an output map (out_*).
/// For convolutions `in_c`/`out_c` are channels; for pooling they are equal.
struct window_geometry {
  int in_c = 1, in_h = 1, in_w = 1;
  int out_c = 1, out_h = 1, out_w = 1;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_h = 0, pad_w = 0;
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;

  TYPENET_HOST_DEVICE constexpr std::int64_t in_plane() const { return std::int64_t{in_h} * in_w; }
  TYPENET_HOST_DEVICE constexpr std::int64_t out_plane() const {
    return std::int64_t{out_h} * out_w;
  }
  TYPENET_HOST_DEVICE constexpr std::int64_t in_size() const { return in_c * in_plane(); }
  TYPENET_HOST_DEVICE constexpr std::int64_t out_size() const { return out_c * out_plane(); }
  /// Rows of one group's im2col matrix: (in_c / groups) * kernel_h * kernel_w.
  TYPENET_HOST_DEVICE constexpr std::int64_t column_rows() const {
    return std::int64_t{in_c / groups} * kernel_h * kernel_w;
  }
  /// True when im2col would be the identity (1x1, stride 1, no padding).
  TYPENET_HOST_DEVICE constexpr bool is_pointwise() const {
    return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 &&
           pad_w == 0;
  }
};

/// Batch normalization over [batch][channels][plane].
struct batch_norm_config {
  int batch = 1, channels = 1;
  std::int64_t plane = 1;
  double momentum = 0.1, eps = 1e-5;
};

}  // namespace typenet
