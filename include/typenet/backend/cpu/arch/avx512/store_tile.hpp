// typenet/backend/cpu/arch/avx512/store_tile.hpp — a direct convolution's tile to y, AVX-512.
//
// The output positions among a run of grid positions are consecutive in y
// (a row's last output is followed by the next row's first), so each 16-lane
// half of the tile is compressed to its output lanes and written with one
// masked store (and load, when accumulating) per row.
#pragma once

#include <cstdint>

#include "typenet/backend/cpu/arch/isa.hpp"

namespace typenet::cpu::arch {

/// y[i][oy * out_w + ox] = out[i][q - q0] + (accumulate ? y[...] : bias[i])
/// for the grid positions q in [q0, q_end) that are output positions
/// (ox = q % Wp < out_w); a null bias reads as zeros. A direct convolution's
/// tile (backend/cpu/direct_convolution.hpp) to its output planes.
template <int Rows, int Cols>
void store_tile(const float (&out)[Rows][Cols], int rows, std::int64_t q0, std::int64_t q_end,
                std::int64_t grid_width, int out_w, std::int64_t out_plane, const float* bias,
                bool accumulate, float* y) {
  static_assert(Cols == 32);
  for (int half = 0; half < 2; ++half) {
    const std::int64_t start = q0 + 16 * half;
    __mmask16 valid = 0;
    std::int64_t ox = start % grid_width;
    for (int j = 0; j < 16 && start + j < q_end; ++j, ox = ox + 1 == grid_width ? 0 : ox + 1)
      valid |= static_cast<__mmask16>((ox < out_w ? 1u : 0u) << j);
    if (!valid) continue;
    const std::int64_t first = start + __builtin_ctz(valid);
    float* target = y + first / grid_width * out_w + first % grid_width;
    const __mmask16 count = static_cast<__mmask16>((1u << __builtin_popcount(valid)) - 1);
    for (int i = 0; i < rows; ++i) {
      const __m512 values = _mm512_maskz_compress_ps(valid, _mm512_load_ps(out[i] + 16 * half));
      float* dst = target + i * out_plane;
      const __m512 base =
          accumulate ? _mm512_maskz_loadu_ps(count, dst) : _mm512_set1_ps(bias ? bias[i] : 0.0f);
      _mm512_mask_storeu_ps(dst, count, _mm512_add_ps(base, values));
    }
  }
}

}  // namespace typenet::cpu::arch
