// typenet/backend/cpu/im2col_positions.hpp — walking a convolution's output positions and taps.
//
// The bookkeeping the im2col packers (im2col.hpp) and their instruction-set
// variants (backend/cpu/arch/) share: runs of output positions within one
// output row, the taps of a run that fall inside the image, and a cursor
// over the rows (c, ki, kj) of the im2col matrix.
#pragma once

#include <algorithm>
#include <cstdint>

#include "typenet/core/geometry.hpp"

namespace typenet::cpu::detail {

/// A run of consecutive output positions within one output row.
struct position_run {
  int first, count, oh, ow;
};

/// Splits positions [begin, begin + count) into runs within output rows.
inline int position_runs(const window_geometry& g, std::int64_t begin, std::int64_t count,
                         position_run* runs) {
  int n = 0;
  for (std::int64_t j = 0; j < count;) {
    const std::int64_t pos = begin + j;
    const int oh = static_cast<int>(pos / g.out_w), ow = static_cast<int>(pos % g.out_w);
    const int run = static_cast<int>(std::min<std::int64_t>(count - j, g.out_w - ow));
    runs[n++] = {static_cast<int>(j), run, oh, ow};
    j += run;
  }
  return n;
}

/// The taps t in [begin, end) of a run of `count` whose column iw0 + t *
/// stride lies inside [0, width).
struct tap_range {
  int begin, end;
};
inline tap_range inside_taps(int iw0, int stride, int width, int count) {
  const int begin = iw0 >= 0 ? 0 : std::min(count, (-iw0 + stride - 1) / stride);
  const int end =
      width <= iw0 ? begin : std::clamp((width - iw0 + stride - 1) / stride, begin, count);
  return {begin, end};
}

/// Walks the rows (c, ki, kj) of the im2col matrix from a given row on
/// without a division per row.
struct tap_cursor {
  const window_geometry& g;
  std::int64_t c;
  int ki, kj;
  tap_cursor(const window_geometry& geometry, std::int64_t row) : g(geometry) {
    const int taps = g.kernel_h * g.kernel_w;
    c = row / taps;
    ki = static_cast<int>(row % taps) / g.kernel_w;
    kj = static_cast<int>(row % taps) % g.kernel_w;
  }
  void next() {
    if (++kj < g.kernel_w) return;
    kj = 0;
    if (++ki < g.kernel_h) return;
    ki = 0;
    ++c;
  }
};

}  // namespace typenet::cpu::detail
