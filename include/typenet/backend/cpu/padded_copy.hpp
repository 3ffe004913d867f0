// typenet/backend/cpu/padded_copy.hpp — images copied with a zero border.
//
// The stride-1 kernels (direct_convolution.hpp, winograd_convolution.hpp)
// read every tap at a fixed offset from its output, which needs the image
// surrounded by its padding as real zeros, and some of their vector loads
// run past the last plane: both ask for the copy below, with their own plane
// size and slack.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "typenet/backend/cpu/parallel.hpp"
#include "typenet/backend/cpu/scratch.hpp"
#include "typenet/core/geometry.hpp"

namespace typenet::cpu {

/// `channels` planes of each of `samples` images (`sample_step` floats apart,
/// in_h x in_w each) copied into the calling thread's `columns` scratch as
/// height x width planes with the image at row pad_h and column pad_w and
/// zeros around it (height >= pad_h + in_h, width >= pad_w + in_w), followed
/// by `slack` zeros.
inline const float* padded_copy(const window_geometry& g, int channels, const float* image,
                                std::int64_t samples, std::int64_t sample_step, std::int64_t height,
                                std::int64_t width, std::int64_t slack) {
  const std::int64_t planes = samples * channels, plane_size = height * width;
  float* padded = scratch<float>(scratch_slot::columns, planes * plane_size + slack);
  parallel_for(planes, plane_size, [&](std::int64_t plane) {
    float* dst = padded + plane * plane_size;
    const float* src = image + plane / channels * sample_step + plane % channels * g.in_plane();
    std::fill(dst, dst + g.pad_h * width, 0.0f);
    for (int iy = 0; iy < g.in_h; ++iy) {
      float* row = dst + (g.pad_h + iy) * width;
      std::fill(row, row + g.pad_w, 0.0f);
      std::memcpy(row + g.pad_w, src + std::int64_t{iy} * g.in_w, sizeof(float) * g.in_w);
      std::fill(row + g.pad_w + g.in_w, row + width, 0.0f);
    }
    std::fill(dst + (g.pad_h + g.in_h) * width, dst + plane_size, 0.0f);
  });
  std::fill(padded + planes * plane_size, padded + planes * plane_size + slack, 0.0f);
  return padded;
}

}  // namespace typenet::cpu
