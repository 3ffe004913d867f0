// typenet/core/windows.hpp — where a pooling or upsampling window reads.
//
// The index arithmetic of PyTorch's pooling and upsampling windows, shared
// by the Cpu and Cuda backends (__host__ __device__), so both clip, divide
// and weigh exactly alike.
#pragma once

#include <algorithm>

#include "typenet/config.hpp"

namespace typenet::detail {

/// The taps k in [begin, end) of a window starting at `origin` (possibly in
/// the padding) whose position origin + k * dilation lies in [0, size).
struct tap_range {
  int begin, end;
};
TYPENET_HOST_DEVICE constexpr tap_range taps_inside(int origin, int kernel, int dilation,
                                                    int size) {
  if (dilation == 1) return {std::max(0, -origin), std::min(kernel, size - origin)};
  return {origin >= 0 ? 0 : (-origin + dilation - 1) / dilation,
          std::min(kernel, (size - origin + dilation - 1) / dilation)};
}

/// PyTorch's avg_pool2d window: [begin, end) clipped to the input, and the
/// divisor, which with count_include_pad counts the padding inside the window.
struct avg_window {
  int begin, end, size;
};
TYPENET_HOST_DEVICE constexpr avg_window avg_pool_window(int o, int stride, int pad, int kernel,
                                                         int in) {
  int begin = o * stride - pad;
  int end = std::min(begin + kernel, in + pad);
  const int size = end - begin;
  begin = std::max(begin, 0);
  end = std::min(end, in);
  return {begin, end, size};
}

/// What an average pool divides by: the window with its padding
/// (count_include_pad=True, PyTorch's default), the input elements it covers
/// (count_include_pad=False), or a fixed `divisor_override`.
struct avg_pool_divisor {
  bool count_include_pad = true;
  int divisor_override = 0;  ///< > 0: PyTorch's divisor_override

  TYPENET_HOST_DEVICE constexpr int of(const avg_window& h, const avg_window& w) const {
    if (divisor_override > 0) return divisor_override;
    if (count_include_pad) return h.size * w.size;
    return (h.end - h.begin) * (w.end - w.begin);
  }
};

/// Adaptive pooling bins: [floor(o*in/out), ceil((o+1)*in/out)).
TYPENET_HOST_DEVICE constexpr int adaptive_begin(int o, int in, int out) {
  return (o * in) / out;
}
TYPENET_HOST_DEVICE constexpr int adaptive_end(int o, int in, int out) {
  return ((o + 1) * in + out - 1) / out;
}

/// Bilinear upsampling's neighbours of output `dst` and their weights
/// (align_corners=False with a scale factor): source = (dst + 0.5) / scale
/// - 0.5, clamped at 0, neighbours (i0, i0 + 1) clamped to the edge.
struct linear_tap {
  int i0, i1;
  double w0, w1;
};
TYPENET_HOST_DEVICE constexpr linear_tap bilinear_tap(int dst, int scale, int in) {
  double src = (dst + 0.5) / scale - 0.5;
  if (src < 0) src = 0;
  const int i0 = static_cast<int>(src);
  const int i1 = i0 < in - 1 ? i0 + 1 : i0;
  const double w1 = src - i0;
  return {i0, i1, 1.0 - w1, w1};
}

}  // namespace typenet::detail
