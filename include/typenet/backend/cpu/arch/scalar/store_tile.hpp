// typenet/backend/cpu/arch/scalar/store_tile.hpp — a direct convolution's tile to y, any CPU.
//
// Row by row of the output: each run of output positions in the grid is
// copied (or added) with a loop the compiler vectorizes for the instruction
// set at hand.
#pragma once

#include <algorithm>
#include <cstdint>

namespace typenet::cpu::arch {

/// y[i][oy * out_w + ox] = out[i][q - q0] + (accumulate ? y[...] : bias[i])
/// for the grid positions q in [q0, q_end) that are output positions
/// (ox = q % Wp < out_w); a null bias reads as zeros. A direct convolution's
/// tile (backend/cpu/direct_convolution.hpp) to its output planes.
template <int Rows, int Cols>
void store_tile(const float (&out)[Rows][Cols], int rows, std::int64_t q0, std::int64_t q_end,
                std::int64_t grid_width, int out_w, std::int64_t out_plane, const float* bias,
                bool accumulate, float* y) {
  for (std::int64_t q = q0; q < q_end;) {
    const std::int64_t oy = q / grid_width, ox = q % grid_width;
    const std::int64_t row_end = oy * grid_width + grid_width;
    if (ox >= out_w) {
      q = row_end;
      continue;
    }
    const std::int64_t run = std::min(q_end, oy * grid_width + out_w) - q;
    float* target = y + oy * out_w + ox;
    const int from = static_cast<int>(q - q0);
    for (int i = 0; i < rows; ++i) {
      float* dst = target + i * out_plane;
      const float* src = out[i] + from;
      if (accumulate) {
        for (std::int64_t j = 0; j < run; ++j) dst[j] += src[j];
      } else {
        const float b = bias ? bias[i] : 0.0f;
        for (std::int64_t j = 0; j < run; ++j) dst[j] = b + src[j];
      }
    }
    q = row_end;
  }
}

}  // namespace typenet::cpu::arch
